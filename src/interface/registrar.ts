/**
 * The registrar: which protocols this node serves (stream handlers, with their per-connection
 * stream limits) and who wants to hear about peers that support a protocol (topologies).
 */
import type { Connection } from './connection.ts'
import type { PeerId } from './peer-id.ts'
import type { Stream } from './stream.ts'

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
