/**
 * The node's public surface and the plain context object services receive. The Libp2p class
 * (src/node/libp2p.ts) implements `Libp2p`; services are factories `(components) => service`.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from './common.ts'
import type { Connection, NewStreamOptions } from './connection.ts'
import type { Datastore } from './datastore.ts'
import type { PrivateKey, PublicKey } from './keys.ts'
import type { PeerId } from './peer-id.ts'
import type { PeerStore } from './peer-store.ts'
import type { Stream } from './stream.ts'
import type { Logger } from '../util/logger.ts'

export type StreamHandler = (stream: Stream, connection: Connection) => void | Promise<void>

export interface StreamHandlerOptions {
  /** Concurrent inbound streams of this protocol per connection (default 32). */
  maxInboundStreams?: number
  /** Concurrent outbound streams of this protocol per connection (default 64). */
  maxOutboundStreams?: number
  /** Accept this protocol on limited (relayed) connections. */
  runOnLimitedConnection?: boolean
}

/** Called when a peer supporting a registered protocol connects or disconnects. */
export interface Topology {
  onConnect?(peerId: PeerId, connection: Connection): void
  onDisconnect?(peerId: PeerId): void
  /** Also notify for limited connections. */
  notifyOnLimitedConnection?: boolean
}

export interface Registrar {
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): void
  unhandle(protocol: string): void
  getProtocols(): string[]
  getHandler(protocol: string): { handler: StreamHandler, options: Required<Pick<StreamHandlerOptions, 'maxInboundStreams' | 'maxOutboundStreams'>> & StreamHandlerOptions } | undefined
  /** Returns an id for `unregister`. Topologies fire after identify reports the protocol. */
  register(protocol: string, topology: Topology): string
  unregister(id: string): void
}

export type DialTarget = PeerId | Multiaddr | Multiaddr[]

export interface DialOptions extends AbortOptions {
  /** Open a new connection even if one to the peer exists. */
  force?: boolean
}

export interface ConnectionManager {
  openConnection(target: DialTarget, options?: DialOptions): Promise<Connection>
  getConnections(peerId?: PeerId): Connection[]
  closeConnections(peerId: PeerId, options?: AbortOptions): Promise<void>
}

export interface AddressManager {
  /** Addresses we were asked to listen on (configuration). */
  getListenAddrs(): Multiaddr[]
  /** Addresses we announce (bound listen addresses, announce/observed ones), each with /p2p. */
  getAddresses(): Multiaddr[]
  /** Reports an address a peer saw us at (identify observedAddr). Observed addresses are
   * announced once enough distinct `reporter`s confirmed them. */
  addObservedAddr(addr: Multiaddr, reporter?: PeerId): void
}

export interface NodeInfo {
  name: string
  version: string
  /** identify agentVersion, e.g. 'ts-libp2p/0.1.0 node/24.1.0' */
  userAgent: string
}

export interface IdentifyResult {
  peerId: PeerId
  publicKey?: PublicKey
  listenAddrs: Multiaddr[]
  protocols: string[]
  observedAddr?: Multiaddr
  agentVersion?: string
  protocolVersion?: string
  /** The signed peer record envelope, when the peer sent a valid one. */
  signedPeerRecord?: Uint8Array
  connection: Connection
}

export interface PeerUpdate {
  peerId: PeerId
}

/** Event names and their `CustomEvent.detail`. */
export type Libp2pEvents = {
  'peer:connect': PeerId
  'peer:disconnect': PeerId
  'peer:identify': IdentifyResult
  'peer:update': PeerUpdate
  'connection:open': Connection
  'connection:close': Connection
  'self:peer:update': PeerUpdate
  'transport:listening': Multiaddr[]
  'start': void
  'stop': void
}

/** A typed wrapper over EventTarget (browser and Node both have it). */
export interface TypedEvents<Events extends object> {
  addEventListener<K extends keyof Events & string>(type: K, listener: (evt: CustomEvent<Events[K]>) => void, options?: boolean | AddEventListenerOptions): void
  removeEventListener<K extends keyof Events & string>(type: K, listener: (evt: CustomEvent<Events[K]>) => void, options?: boolean | EventListenerOptions): void
  dispatchEvent(event: Event): boolean
  /** Shorthand for dispatching `new CustomEvent(type, { detail })`. */
  safeDispatch<K extends keyof Events & string>(type: K, detail: Events[K]): void
}

/** What every service factory receives. Plain data: no proxies, no lookup magic. */
export interface NodeComponents {
  peerId: PeerId
  privateKey: PrivateKey
  nodeInfo: NodeInfo
  events: TypedEvents<Libp2pEvents>
  registrar: Registrar
  connectionManager: ConnectionManager
  peerStore: PeerStore
  addressManager: AddressManager
  datastore: Datastore
  logger(name: string): Logger
}

/** A service may implement these; the node calls them in dependency order. */
export interface Startable {
  start?(): void | Promise<void>
  /** Runs after every service has started. */
  afterStart?(): void | Promise<void>
  stop?(): void | Promise<void>
}

export type ServiceFactory<S = unknown> = (components: NodeComponents & { services: Record<string, unknown> }) => S

export interface Libp2p<Services extends Record<string, unknown> = Record<string, unknown>> extends TypedEvents<Libp2pEvents> {
  readonly peerId: PeerId
  readonly services: Services
  readonly peerStore: PeerStore
  readonly status: 'starting' | 'started' | 'stopping' | 'stopped'
  start(): Promise<void>
  stop(): Promise<void>
  dial(target: DialTarget, options?: DialOptions): Promise<Connection>
  dialProtocol(target: DialTarget, protocols: string | string[], options?: DialOptions & NewStreamOptions): Promise<Stream>
  hangUp(target: PeerId | Multiaddr, options?: AbortOptions): Promise<void>
  handle(protocols: string | string[], handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
  unhandle(protocols: string | string[]): Promise<void>
  getConnections(peerId?: PeerId): Connection[]
  getPeers(): PeerId[]
  getMultiaddrs(): Multiaddr[]
  getProtocols(): string[]
}
