/**
 * Builds networks of ts-libp2p nodes with the DHT over the in-process memory transport, for
 * the DHT tests and the simulation.
 */
import { createLibp2p } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { kadDHT, type KadDHT, type KadDHTOptions } from '../../src/dht/index.ts'
import { memory, memoryEncrypter, MemoryNetwork } from '../../src/transport/memory/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { MemoryDatastore } from '../../src/store/memory.ts'
import { PersistentPeerStore } from '../../src/peer-store/index.ts'
import type { Datastore } from '../../src/interface/datastore.ts'
import type { PrivateKey } from '../../src/interface/keys.ts'
import type { Libp2pNode } from '../../src/node/libp2p.ts'

export type DhtNode = Libp2pNode<{ identify: unknown, dht: KadDHT }>

let counter = 0

export interface MemoryNodeOptions {
  network: MemoryNetwork
  dht?: KadDHTOptions
  datastore?: Datastore
  privateKey?: PrivateKey
  name?: string
  /** Decoded peers the peer store keeps in memory (default: the peer store's own, 1024). */
  peerStoreCacheSize?: number
}

export async function createMemoryNode (options: MemoryNodeOptions): Promise<DhtNode> {
  const name = options.name ?? `dht-${process.pid}-${++counter}`
  const datastore = options.datastore ?? new MemoryDatastore()
  const cacheSize = options.peerStoreCacheSize
  return await createLibp2p({
    privateKey: options.privateKey,
    datastore,
    peerStore: cacheSize === undefined ? undefined : (c) => new PersistentPeerStore({ datastore, peerId: c.peerId, cacheSize }),
    addresses: { listen: [`/memory/${name}`] },
    transports: [memory({ network: options.network })],
    connectionEncrypters: [memoryEncrypter()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: 10_000 },
    services: {
      identify: identify({ runOnSelfUpdate: false }),
      dht: kadDHT({ initialRefresh: false, refreshInterval: 0, ...options.dht })
    }
  }) as unknown as DhtNode
}

/** Resolves once `node`'s routing table has at least `size` peers (polled; bounded). */
export async function waitForRoutingTable (node: DhtNode, size: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (node.services.dht.routingTable.size < size) {
    if (Date.now() > deadline) throw new Error(`routing table of ${node.peerId.toString()} stayed at ${node.services.dht.routingTable.size} < ${size}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** The peers a getClosestPeers lookup ends with (its 'final-peer' events), collected. */
export async function closestPeersOf (dht: KadDHT, key: Uint8Array, options: Parameters<KadDHT['getClosestPeers']>[1] = {}): Promise<Array<{ id: unknown, multiaddrs: unknown[] }>> {
  const peers = []
  for await (const event of dht.getClosestPeers(key, options)) if (event.type === 'final-peer') peers.push(event.peer)
  return peers
}

export { MemoryNetwork }
