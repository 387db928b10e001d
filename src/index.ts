/**
 * ts-libp2p, the front door: `createLibp2p()`, the public interfaces, the errors, and the
 * peer id, key and multiaddr helpers. Components come from their own subpaths
 * (`ts-libp2p/tcp`, `ts-libp2p/noise`, `ts-libp2p/yamux`, `ts-libp2p/kad-dht`,
 * `ts-libp2p/gossipsub`, ...; the README lists them), so an application's heap holds only
 * what it uses, and a browser bundle never meets a Node built-in through this module.
 *
 * ```ts
 * import { createLibp2p, multiaddr } from 'ts-libp2p'
 * const node = await createLibp2p({ addresses: { listen: ['/ip4/0.0.0.0/tcp/0'] } })
 * node.addEventListener('peer:connect', evt => { console.log('connected', evt.detail.toString()) })
 * const stream = await node.dialProtocol(multiaddr('/ip4/1.2.3.4/tcp/4001/p2p/12D3KooW...'), '/echo/1.0.0')
 * ```
 */
export { createLibp2p } from './node/create.ts'
export type { DefaultServiceFactories } from './node/create.ts'
export type { Libp2pOptions, ServiceFactories, ServicesOf, ComponentFactory } from './node/options.ts'
export type { ConnectionManagerOptions } from './switch/connection-manager.ts'
export type { AddressesConfig } from './switch/address-manager.ts'

// errors
export * from './util/errors.ts'
export { DialError } from './switch/errors.ts'
export type { DialAttemptFailure } from './switch/errors.ts'
export { NoPeerRoutersError, NoContentRoutersError } from './node/routing.ts'

// the public interfaces
export type { AbortOptions, Direction } from './interface/common.ts'
export type { AddressManager } from './interface/address-manager.ts'
export type { ComponentFactoryInput, NodeComponents, NodeInfo, ServiceDeclarations, ServiceFactory, Startable } from './interface/components.ts'
export type { Connection, ConnectionLimits, ConnectionStatus, ConnectionTimeline, NewStreamOptions } from './interface/connection.ts'
export type { ConnectionGater } from './interface/connection-gater.ts'
export type { ConnectionManager, DialOptions, DialTarget } from './interface/connection-manager.ts'
export type { Datastore, DatastoreQuery, Pair } from './interface/datastore.ts'
export type { IdentifyResult, Libp2pEvents, PeerUpdate, TypedEvents } from './interface/events.ts'
export type { KeyType, PrivateKey, PublicKey } from './interface/keys.ts'
export type { Libp2p } from './interface/libp2p.ts'
export type { Logger } from './interface/logger.ts'
export type { StreamMuxer, StreamMuxerFactory, StreamMuxerInit } from './interface/muxer.ts'
export type { PeerId } from './interface/peer-id.ts'
export type { Address, Peer, PeerData, PeerStore, Tag } from './interface/peer-store.ts'
export type { Registrar, StreamHandler, StreamHandlerOptions, Topology } from './interface/registrar.ts'
export type { ContentRouting, PeerRouting, RoutingContentKey, RoutingOptions, PeerInfo, RoutingProgressEvent, RoutingProvider } from './interface/routing.ts'
export type { ConnectionEncrypter, SecuredConnection, SecureOptions } from './interface/security.ts'
export type { ByteStream, DirectionStatus, Stream, StreamStatus } from './interface/stream.ts'
export type { Listener, ListenerInit, RawConnection, Transport } from './interface/transport.ts'

// peer ids, keys, multiaddrs
export { generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf, publicKeyFromProtobuf, publicKeyToProtobuf } from './crypto/index.ts'
export { peerIdFromPrivateKey, peerIdFromPublicKey, peerIdFromString, isPeerId } from './peer/peer-id.ts'
export { multiaddr, isMultiaddr } from '@multiformats/multiaddr'
export type { Multiaddr } from '@multiformats/multiaddr'
export { KEEP_ALIVE } from './switch/connection-manager.ts'
