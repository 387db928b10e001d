/**
 * Networks of real ts-libp2p nodes in one process: the memory transport, a trusted in-process
 * encrypter and Yamux, identify, plus the services a test asks for. The DHT and pubsub
 * simulations and their tests build their nodes with it.
 */
import { createLibp2p } from '../../src/index.ts'
import type { Libp2p, ServiceFactories, ServicesOf } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import type { IdentifyService } from '../../src/protocols/identify/index.ts'
import { memory, memoryEncrypter, type MemoryNetwork } from '../../src/transport/memory/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { MemoryDatastore } from '../../src/store/memory.ts'
import { PersistentPeerStore } from '../../src/peer-store/index.ts'
import type { Datastore } from '../../src/interface/datastore.ts'
import type { PrivateKey } from '../../src/interface/keys.ts'

export interface MemoryNodeInit<S extends ServiceFactories> {
  network: MemoryNetwork
  /** Services besides identify. */
  services: S
  privateKey?: PrivateKey
  datastore?: Datastore
  /** The node's /memory/<name> listen address (default: unique per process). */
  name?: string
  /** Decoded peers the peer store keeps in memory (default: the peer store's own, 1024). */
  peerStoreCacheSize?: number
}

let counter = 0

export async function createMemoryNode<S extends ServiceFactories> (init: MemoryNodeInit<S>): Promise<Libp2p<{ identify: IdentifyService } & ServicesOf<S>>> {
  const datastore = init.datastore ?? new MemoryDatastore()
  const cacheSize = init.peerStoreCacheSize
  return await createLibp2p({
    privateKey: init.privateKey,
    datastore,
    peerStore: cacheSize === undefined ? undefined : (c) => new PersistentPeerStore({ datastore, peerId: c.peerId, cacheSize }),
    addresses: { listen: [`/memory/${init.name ?? `node-${process.pid}-${++counter}`}`] },
    transports: [memory({ network: init.network })],
    connectionEncrypters: [memoryEncrypter()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: 10_000 },
    services: { identify: identify({ runOnSelfUpdate: false }), ...init.services }
  }) as unknown as Libp2p<{ identify: IdentifyService } & ServicesOf<S>>
}
