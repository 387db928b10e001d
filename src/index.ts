/**
 * ts-libp2p, the front door: `createLibp2p()` and the public types, plus the factories that
 * run everywhere (Noise, plaintext, Yamux, Mplex, identify, ping, echo, perf, datastores).
 * Node-only components live behind their own modules (e.g. src/transport/tcp/index.ts) so browser
 * bundles never pull in Node built-ins; createLibp2p picks TCP by default in Node.js.
 *
 * ```ts
 * const node = await createLibp2p({ addresses: { listen: ['/ip4/0.0.0.0/tcp/0'] } })
 * node.addEventListener('peer:connect', evt => { console.log('connected', evt.detail.toString()) })
 * const stream = await node.dialProtocol(multiaddr('/ip4/1.2.3.4/tcp/4001/p2p/12D3KooW...'), '/echo/1.0.0')
 * ```
 */
export { createLibp2p } from './node/create.ts'
export type { DefaultServiceFactories } from './node/create.ts'
export { Libp2pNode } from './node/libp2p.ts'
export type { NodeStatus } from './node/libp2p.ts'
export type { Libp2pOptions, ConnectionManagerConfig, ServiceFactories, ServiceFactoryOf, ServicesOf, Factory } from './node/options.ts'
export type { ServiceDeclarations } from './interface/components.ts'
export type { ComponentFactoryInput } from './interface/components.ts'
export { TypedEventEmitter } from './util/events.ts'
export { NoPeerRoutersError, NoContentRoutersError } from './node/routing.ts'
export type { PeerRouting, ContentRouting, RoutingOptions, RoutingPeerInfo, RoutingContentKey, RoutingProgressEvent, RoutingProvider } from './interface/routing.ts'

export { KEEP_ALIVE } from './switch/connection-manager.ts'
export type { ConnectionManagerOptions } from './switch/connection-manager.ts'
export type { AddressesConfig } from './switch/address-manager.ts'
export { DialError } from './switch/errors.ts'
export type { DialAttemptFailure } from './switch/errors.ts'

export * from './util/errors.ts'

export type { AbortOptions, Direction } from './interface/common.ts'
export type { Connection, ConnectionStatus, ConnectionTimeline, ConnectionLimits, NewStreamOptions } from './interface/connection.ts'
export type { ConnectionGater } from './interface/connection-gater.ts'
export type { Datastore, DatastoreQuery, Pair } from './interface/datastore.ts'
export type { KeyType, PrivateKey, PublicKey } from './interface/keys.ts'
export type { StreamMuxer, StreamMuxerFactory, StreamMuxerInit } from './interface/muxer.ts'
export type { AddressManager } from './interface/address-manager.ts'
export type { ConnectionManager, DialOptions, DialTarget } from './interface/connection-manager.ts'
export type { IdentifyResult, Libp2pEvents, PeerUpdate, TypedEvents } from './interface/events.ts'
export type { Libp2p } from './interface/libp2p.ts'
export type { NodeComponents, NodeInfo, ServiceFactory, Startable } from './interface/components.ts'
export type { Registrar, StreamHandler, StreamHandlerOptions, Topology } from './interface/registrar.ts'
export type { PeerId } from './interface/peer-id.ts'
export type { Address, Peer, PeerData, PeerStore, Tag } from './interface/peer-store.ts'
export type { ConnectionEncrypter, SecuredConnection, SecureOptions } from './interface/security.ts'
export type { ByteStream, DirectionStatus, Stream, StreamStatus } from './interface/stream.ts'
export type { Listener, ListenerInit, RawConnection, Transport } from './interface/transport.ts'

export { generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf, publicKeyFromProtobuf, publicKeyToProtobuf } from './crypto/index.ts'
export { peerIdFromPrivateKey, peerIdFromPublicKey, peerIdFromString, isPeerId } from './peer/peer-id.ts'
export { multiaddr, isMultiaddr } from '@multiformats/multiaddr'
export type { Multiaddr } from '@multiformats/multiaddr'

export { webSockets } from './transport/websockets/index.ts'
export type { WebSocketsOptions } from './transport/websockets/index.ts'
export { noise } from './security/noise/index.ts'
export { plaintext } from './security/plaintext.ts'
export { yamux } from './muxer/yamux/index.ts'
export { mplex } from './muxer/mplex/index.ts'
export { identify } from './protocols/identify/index.ts'
export type { IdentifyService, IdentifyOptions } from './protocols/identify/index.ts'
export { ping } from './protocols/ping/index.ts'
export type { PingService, PingOptions } from './protocols/ping/index.ts'
export { echo } from './protocols/echo/index.ts'
export type { EchoService, EchoOptions } from './protocols/echo/index.ts'
export { perf } from './protocols/perf/index.ts'
export type { PerfService, PerfOptions, PerfOutput, MeasurePerformanceOptions } from './protocols/perf/index.ts'
export { kadDHT, KadDHT, KAD_PROTOCOL } from './dht/index.ts'
export type { KadDHTOptions, DhtEvent, PeerInfo as DhtPeerInfo, RecordValidator, Validators as DhtValidators, ContentKey } from './dht/index.ts'
export { MemoryDatastore, createDatastore } from './store/index.ts'
export { PersistentPeerStore } from './peer-store/index.ts'
export * as pubsub from './pubsub/index.ts'
