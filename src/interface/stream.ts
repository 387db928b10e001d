/**
 * The one byte-stream contract used at every level: raw transport connections, secured
 * connections and multiplexed streams all implement `ByteStream`.
 *
 * Close semantics (the same everywhere):
 * - `closeWrite()` half-closes: it waits until everything written so far has been handed to
 *   the layer below (nothing acknowledged is lost), then signals end-of-stream to the remote.
 *   Reading continues until the remote closes its side.
 * - `closeRead()` stops reading locally: buffered and future incoming data is discarded.
 * - `close()` = `closeWrite()` then `closeRead()`; resolves once the write side is flushed.
 * - `abort(err)` resets: both directions fail at once, pending reads and writes reject with
 *   `err`, buffered data is dropped and the remote is told (yamux RST, mplex Reset, socket
 *   destroy).
 * - A remote reset makes pending and later reads and writes fail with StreamResetError.
 * - `closed` resolves (never rejects) once both directions are finished, whatever the cause;
 *   `error` then holds the reason if it was not a clean close.
 *
 * Reading is pull-first: `read()` resolves with the next chunk or `null` at end-of-stream.
 * Exactly one read may be pending; a concurrent second read throws ConcurrentReadError, so no
 * second reader can silently steal bytes. `for await (const chunk of stream)` is sugar over
 * `read()`; breaking out of the loop does not close the stream.
 *
 * Writing: `send(chunk)` queues synchronously and returns false once the buffered amount
 * exceeds the high-water mark (call `drain()` before sending more); `write(chunk)` is
 * `send` + `drain` when needed. Chunks passed to `send`/`write` must not be mutated afterwards.
 */
import type { AbortOptions } from './common.ts'

export type StreamStatus = 'open' | 'closing' | 'closed' | 'aborted' | 'reset'
export type DirectionStatus = 'open' | 'closing' | 'closed'

export interface ByteStream extends AsyncIterable<Uint8Array> {
  /** Next chunk, or null at end-of-stream. */
  read(options?: AbortOptions): Promise<Uint8Array | null>
  /**
   * The next chunk when one is already queued, else undefined (then `read()` waits): lets a
   * parser drain a burst of chunks without a promise per chunk.
   */
  tryRead?(): Uint8Array | undefined
  /**
   * Optional: hands everything sent so far to the layer below (ultimately the OS) now, where
   * the stream would otherwise hold it to coalesce with later writes until the current batch
   * of I/O events is handled. For a writer that knows nothing else follows soon.
   */
  flush?(): void
  /** Returns bytes that a parser read too far to the front of the read queue. */
  unshift(chunk: Uint8Array): void
  /** Queues `chunk`; false means the write buffer is above its high-water mark. */
  send(chunk: Uint8Array): boolean
  /**
   * Optional: `send` for a chunk the caller gives up for good (nothing else holds a view of
   * its memory, e.g. a cipher's fresh output), so the stream may free that memory as soon as
   * it is written instead of leaving it to the garbage collector.
   */
  sendOwned?(chunk: Uint8Array): boolean
  /** Resolves when the write buffer is below its high-water mark. */
  drain(options?: AbortOptions): Promise<void>
  /** `send` + `drain` when needed. */
  write(chunk: Uint8Array, options?: AbortOptions): Promise<void>
  closeWrite(options?: AbortOptions): Promise<void>
  closeRead(): void
  close(options?: AbortOptions): Promise<void>
  abort(err: Error): void
  readonly status: StreamStatus
  readonly readStatus: DirectionStatus
  readonly writeStatus: DirectionStatus
  /** Bytes received and not yet read. */
  readonly readableLength: number
  /** Resolves once both directions are finished; never rejects. */
  readonly closed: Promise<void>
  /**
   * Optional: runs `fn` synchronously when the stream reaches its final state (just before
   * `closed` resolves), or at once when it already has. Per-stream bookkeeping (resource
   * reservations, stream counts) uses it instead of `closed.then(fn)`, which costs a promise
   * reaction and a derived promise per stream on the stream-open path.
   */
  onceClosed?(fn: () => void): void
  /** Why the stream ended, when it was not a clean close. */
  readonly error?: Error
  /** Bytes received from and sent to the layer below so far (metrics read them on scrape). */
  readonly bytesReceived?: number
  readonly bytesSent?: number
  /** Optional, with the two above: the part of them metrics has counted, kept by metrics. */
  countedReceived?: number
  countedSent?: number
}

/** A multiplexed stream. `protocol` is set once multistream-select has agreed on one. */
export interface Stream extends ByteStream {
  readonly id: string
  readonly direction: 'inbound' | 'outbound'
  protocol: string
  /** Free-form data for the application. */
  readonly metadata: Record<string, unknown>
}

/**
 * Optional fast path of a raw connection (TCP in Node): incoming bytes are handed over
 * synchronously in memory the transport reuses for its next read, so a secure channel that
 * decrypts straight out of them costs the process no buffer allocation per read.
 */
export interface BorrowedReadSource {
  /**
   * From now on incoming bytes go to `onBytes` instead of the read queue (bytes already queued
   * go first, synchronously). A chunk is only valid during the call: the consumer finishes
   * with it or copies what it keeps before returning. Returning false pauses reading until
   * `resumeBorrowedReads()`. End-of-stream and failures still come through `read()` (null /
   * rejection). Returns false, changing nothing, when the transport cannot do it right now.
   */
  readBorrowed(onBytes: (chunk: Uint8Array) => boolean): boolean
  resumeBorrowedReads(): void
}

export function isBorrowedReadSource (stream: ByteStream): stream is ByteStream & BorrowedReadSource {
  return typeof (stream as Partial<BorrowedReadSource>).readBorrowed === 'function'
}
