import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions, Direction } from './common.ts'
import type { PeerId } from './peer-id.ts'
import type { Stream } from './stream.ts'

export type ConnectionStatus = 'open' | 'closing' | 'closed'

export interface ConnectionTimeline {
  /** ms since epoch when the raw connection was established */
  open: number
  /** when security and muxing were done */
  upgraded?: number
  close?: number
}

/** Limits of a limited connection (e.g. a relayed one). */
export interface ConnectionLimits {
  bytes?: bigint
  seconds?: number
}

export interface NewStreamOptions extends AbortOptions {
  /** Allow opening the stream on a limited (e.g. relayed) connection. */
  runOnLimitedConnection?: boolean
  /** Skip waiting for the remote's multistream-select confirmation when only one protocol is
   * proposed (lazy select); the first write carries the proposal. Negotiates fully unless this
   * is explicitly false. */
  negotiateFully?: boolean
  /** Overrides the per-protocol outbound stream limit for this call. */
  maxOutboundStreams?: number
}

/** An authenticated, multiplexed connection to one peer. */
export interface Connection {
  readonly id: string
  readonly remotePeer: PeerId
  readonly remoteAddr: Multiaddr
  /** Our end of the connection as the transport reports it (undefined where it cannot). */
  readonly localAddr?: Multiaddr
  readonly direction: Direction
  readonly encryption: string
  readonly multiplexer: string
  readonly status: ConnectionStatus
  readonly timeline: ConnectionTimeline
  readonly limits?: ConnectionLimits
  /** The latest round-trip time measured on this connection, in ms: a ping protocol exchange
   * sets it; until one does, the muxer's own ping (yamux) where it has one. Undefined before any. */
  rtt?: number
  readonly streams: readonly Stream[]
  /** Opens a stream and negotiates one of `protocols` (in preference order). */
  newStream(protocols: string | string[], options?: NewStreamOptions): Promise<Stream>
  /** Graceful close: lets streams finish their writes, then closes the transport. */
  close(options?: AbortOptions): Promise<void>
  abort(err: Error): void
}
