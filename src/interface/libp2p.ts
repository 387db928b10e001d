/** The node's public surface. The Libp2pNode class (src/node/libp2p.ts) implements it. */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from './common.ts'
import type { Connection, NewStreamOptions } from './connection.ts'
import type { DialOptions, DialTarget } from './connection-manager.ts'
import type { Libp2pEvents, TypedEvents } from './events.ts'
import type { Metrics } from './metrics.ts'
import type { PeerId } from './peer-id.ts'
import type { PeerStore } from './peer-store.ts'
import type { StreamHandler, StreamHandlerOptions } from './registrar.ts'
import type { ContentRouting, PeerRouting } from './routing.ts'
import type { Stream } from './stream.ts'

export interface Libp2p<Services extends Record<string, unknown> = Record<string, unknown>> extends TypedEvents<Libp2pEvents> {
  readonly peerId: PeerId
  readonly services: Services
  readonly peerStore: PeerStore
  /** The metrics registry when the node was created with `metrics` (Prometheus text via `expose()`). */
  readonly metrics?: Metrics
  readonly status: 'starting' | 'started' | 'stopping' | 'stopped'
  /** Finds peers through every service that routes peers (e.g. the DHT). */
  readonly peerRouting: PeerRouting
  /** Provides and finds content through every service that routes content. */
  readonly contentRouting: ContentRouting
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
