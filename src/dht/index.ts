/**
 * Kademlia DHT (`/ipfs/kad/1.0.0`): `import { kadDHT } from 'ts-libp2p/kad-dht'`,
 * `services: { identify: identify(), dht: kadDHT() }`, then
 * `node.services.dht.findPeer(id)`, `.getClosestPeers(key)`, `.provide(cid)`,
 * `.findProviders(cid)`, `.put(key, value)`, `.get(key)`; the node's `peerRouting` and
 * `contentRouting` facades use it too (its `peerRouter` / `contentRouter`).
 */
export { kadDHT, KadDHT, KAD_PROTOCOL, type KadDHTOptions, type KadDHTComponents, type ContentKey } from './kad-dht.ts'
export type { DhtEvent, ProgressOptions } from './events.ts'
export { publicKeyValidator, namespaceOf, type RecordValidator, type Validators } from './validators.ts'
export { encodeMessage, decodeMessage, MessageType, ConnectionType, DEFAULT_MESSAGE_LIMITS, type DhtMessage, type DhtPeer, type DhtRecord, type MessageLimits } from './message.ts'
export { DhtPeerRouter, DhtContentRouter } from './routers.ts'
export { RoutingTable, type RoutingTableInit, type RoutingTableEntry } from './routing-table.ts'
