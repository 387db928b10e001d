/**
 * What services and components receive: a plain context object (no proxies, no lookup magic),
 * and the lifecycle hooks a service may implement.
 */
import type { ConnectionGater } from './connection-gater.ts'
import type { ConnectionEncrypter } from './security.ts'
import type { AddressManager } from './address-manager.ts'
import type { ConnectionManager } from './connection-manager.ts'
import type { Datastore } from './datastore.ts'
import type { Libp2pEvents, TypedEvents } from './events.ts'
import type { PrivateKey } from './keys.ts'
import type { Logger } from './logger.ts'
import type { Metrics } from './metrics.ts'
import type { PeerId } from './peer-id.ts'
import type { PeerStore } from './peer-store.ts'
import type { Registrar } from './registrar.ts'
import type { ContentRouting } from './routing.ts'

export interface NodeInfo {
  name: string
  version: string
  /** identify agentVersion, e.g. 'ts-libp2p/0.1.0 node/24.1.0' */
  userAgent: string
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
  /**
   * The node's content routing (every router of its services, e.g. the DHT), resolved when
   * called: a service that looks up or announces content (Bitswap) uses it without importing
   * a router. Absent in components built without a node.
   */
  contentRouting?: ContentRouting
  /** Where components report metrics; undefined when metrics are off (then they do nothing). */
  metrics?: Metrics
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

/**
 * What component factories (transports, encrypters, muxers, peer store) receive. Transports
 * also get the node's encrypters: WebTransport runs Noise itself, on its session's first stream.
 */
export type ComponentFactoryInput = Omit<NodeComponents, 'connectionManager' | 'registrar' | 'addressManager' | 'peerStore'> & { connectionGater: ConnectionGater, connectionEncrypters?: readonly ConnectionEncrypter[] }

/**
 * What a service provides and what it needs, read by createLibp2p before anything starts.
 * Names are capabilities (by convention `@libp2p/<name>`, as js-libp2p spells them, e.g.
 * '@libp2p/identify') or the keys of other services in `services`. A node whose services need
 * something nobody provides is refused with MissingServiceDependencyError, which names the
 * service, the missing capability and the factory that provides it.
 */
export interface ServiceDeclarations {
  readonly serviceCapabilities?: readonly string[]
  readonly serviceDependencies?: readonly string[]
}
