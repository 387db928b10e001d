import type { AbortOptions, Direction } from './common.ts'
import type { ByteStream, Stream } from './stream.ts'

/**
 * Memory a muxer reserves for what it may buffer beyond its fixed per-stream share (yamux:
 * receive windows grown past the initial 256 KiB), in chunks, never per frame. A refusal is not
 * an error: the muxer simply does not grow.
 */
export interface MemoryAccount {
  reserve(bytes: number): boolean
  release(bytes: number): void
}

export interface StreamMuxerInit {
  /** Which side of the secured connection we are (yamux: outbound uses odd stream ids). */
  direction: Direction
  /** Called for each stream the remote opens. Throwing or ignoring it is not allowed: the
   * handler owns the stream and must close or abort it. */
  onIncomingStream(stream: Stream): void
  /** Called once when the muxer has closed, with the reason if it was not clean. */
  onClose?(err?: Error): void
  /** Where buffer growth is reserved (the connection's resource scopes); unlimited without. */
  memory?: MemoryAccount
}

export interface StreamMuxer {
  readonly protocol: string
  /** The open streams. */
  readonly streams: readonly Stream[]
  /** The muxer's own round-trip time measurement in ms (yamux pings), 0 or absent before one. */
  readonly rtt?: number
  newStream(options?: AbortOptions): Stream | Promise<Stream>
  /** Graceful: stops new streams (yamux GoAway), closes existing ones, then the connection. */
  close(options?: AbortOptions): Promise<void>
  /** Immediate: resets every stream and destroys the underlying connection. */
  abort(err: Error): void
  readonly closed: Promise<void>
}

export interface StreamMuxerFactory {
  /** The multistream-select protocol id, e.g. '/yamux/1.0.0'. */
  readonly protocol: string
  createStreamMuxer(conn: ByteStream, init: StreamMuxerInit): StreamMuxer
}
