/**
 * Builds networks of ts-libp2p nodes with the DHT over the in-process memory transport, for
 * the DHT tests and the simulation.
 */
import { kadDHT, type KadDHT, type KadDHTOptions } from '../../src/dht/index.ts'
import { MemoryNetwork } from '../../src/transport/memory/index.ts'
import { createMemoryNode as createNode } from '../support/memory-node.ts'
import type { Datastore } from '../../src/interface/datastore.ts'
import type { PrivateKey } from '../../src/interface/keys.ts'
import type { Libp2p } from '../../src/interface/libp2p.ts'

export type DhtNode = Libp2p<{ identify: unknown, dht: KadDHT }>

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
  return await createNode({
    network: options.network,
    privateKey: options.privateKey,
    datastore: options.datastore,
    name: options.name,
    peerStoreCacheSize: options.peerStoreCacheSize,
    services: { dht: kadDHT({ initialRefresh: false, refreshInterval: 0, ...options.dht }) }
  })
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
