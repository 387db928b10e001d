/**
 * The lifecycle every stream muxer shares: one read loop over the secured connection that hands
 * each chunk to the protocol parser, a coalescing frame writer with connection-level
 * backpressure, graceful close, abort, and teardown when the connection ends or the remote
 * breaks the protocol. Yamux and mplex supply the parser, the stream table and their control
 * frames through the abstract hooks.
 *
 * Teardown rules (the same for both protocols):
 * - `close()`: stops new streams (`onClosing`), half-closes every stream so everything
 *   written so far is flushed, waits for the remote to finish its side of every stream (all
 *   bounded by `closeTimeout` and the caller's signal), then says goodbye (`onClosed`, yamux
 *   sends GoAway) and closes the connection. Streams whose remote had finished writing keep their unread bytes; the rest
 *   are reset.
 * - `abort(err)`: every stream fails at once, the connection is aborted.
 * - The connection ends (EOF) or fails: like close / abort respectively, without GoAway.
 * - A protocol violation: `onProtocolError` (yamux sends GoAway(protocol error)), every stream
 *   is reset, the connection is closed; `onClose` receives the typed error.
 * Streams that die because of the connection fail with StreamResetError whose `cause` is the
 * reason.
 */
import type { AbortOptions } from '../interface/common.ts'
import type { StreamMuxer, StreamMuxerInit } from '../interface/muxer.ts'
import type { ByteStream, Stream } from '../interface/stream.ts'
import { raceSignal } from '../util/abort.ts'
import { Deadline, closeOrAbort } from '../util/deadline.ts'
import { ConnectionClosedError, LimitExceededError, Libp2pError, StreamResetError } from '../util/errors.ts'
import { TokenBucket } from '../util/token-bucket.ts'
import type { Logger } from '../interface/logger.ts'
import { FrameBatch } from './frame-batch.ts'
import type { MuxedStream } from './muxed-stream.ts'

export type MuxerStatus = 'open' | 'closing' | 'closed'

export interface MuxerBaseOptions {
  /** Upper bound for a graceful close() to flush the streams (ms). */
  closeTimeout: number
  /** Streams the remote may open and reset in a burst, and per second after it (see countInboundReset). */
  inboundResets?: { burst: number, perSecond: number }
}

/** The HTTP/2 "rapid reset" budget: 512 at once, 64 a second after that. */
export const DEFAULT_INBOUND_RESETS = { burst: 512, perSecond: 64 }

export abstract class MuxerBase<S extends MuxedStream> implements StreamMuxer {
  abstract readonly protocol: string
  protected readonly conn: ByteStream
  protected readonly init: StreamMuxerInit
  /** @internal the frame writer shared by the muxer's streams */
  readonly batch: FrameBatch
  protected readonly log: Logger
  readonly #closeTimeout: number
  #status: MuxerStatus = 'open'
  #closing: Promise<void> | undefined
  #onCloseCalled = false
  #resolveClosed!: () => void
  /** Streams waiting for the connection to drain before they can send more. */
  #waitingWriters = new Set<S>()
  readonly #inboundResets: TokenBucket
  readonly closed: Promise<void>

  constructor (conn: ByteStream, init: StreamMuxerInit, options: MuxerBaseOptions, log: Logger) {
    this.conn = conn
    this.init = init
    this.log = log
    this.#closeTimeout = options.closeTimeout
    const resets = options.inboundResets ?? DEFAULT_INBOUND_RESETS
    this.#inboundResets = new TokenBucket(resets.burst, resets.perSecond)
    this.closed = new Promise(resolve => { this.#resolveClosed = resolve })
    this.batch = new FrameBatch(conn, {
      onDrain: () => { this.#onConnectionDrain() },
      onError: (err) => { this.#fail(err) }
    })
  }

  get status (): MuxerStatus { return this.#status }

  get streams (): readonly Stream[] {
    const list: Stream[] = []
    for (const s of this.streamList()) if (s.status === 'open' || s.status === 'closing') list.push(s)
    return list
  }

  // ---- protocol hooks ---------------------------------------------------------------------

  /** Parses one chunk from the connection; throws a typed error on a protocol violation. */
  protected abstract onChunk (chunk: Uint8Array): void
  /** Every stream the muxer still tracks. */
  protected abstract streamList (): Iterable<S>
  /** Graceful close started: new streams are refused from now on. */
  protected onClosing (): void {}
  /**
   * Graceful close: every stream is finished or reset, the connection closes next (yamux sends
   * GoAway here, not in onClosing: js-libp2p stops answering once it sees GoAway, so streams
   * still draining would never get its FIN and the close would stall until closeTimeout).
   */
  protected onClosed (): void {}
  /** The remote broke the protocol; the muxer may tell it why before the connection closes. */
  protected onProtocolError (_err: Error): void {}
  /**
   * Checked after each chunk: a promise makes the read loop wait (mplex stops reading while a
   * stream's reader is behind, which backs the remote sender up through the transport).
   */
  protected readPause (): Promise<void> | undefined { return undefined }
  /** The connection can take data again (runs before waiting streams are resumed). */
  protected onDrain (): void {}
  /** The muxer is finished: stop timers, forget streams. */
  protected onTerminated (): void {}

  protected abstract createOutboundStream (options?: AbortOptions): S | Promise<S>

  // ---- stream support ---------------------------------------------------------------------

  newStream (options?: AbortOptions): Stream | Promise<Stream> {
    if (this.#status !== 'open') throw new ConnectionClosedError('the muxer is closed')
    return this.createOutboundStream(options)
  }

  /** Registers a stream to be resumed once the connection drains. */
  waitForDrain (stream: S): void {
    this.#waitingWriters.add(stream)
  }

  #onConnectionDrain (): void {
    this.onDrain()
    if (this.#waitingWriters.size === 0) return
    const waiting = [...this.#waitingWriters]
    this.#waitingWriters.clear()
    for (let i = 0; i < waiting.length; i++) {
      if (this.batch.blocked) {
        for (let j = i; j < waiting.length; j++) this.#waitingWriters.add(waiting[j])
        return
      }
      waiting[i].resumeSending()
    }
  }

  /**
   * The remote reset a stream it opened. Opening a stream and resetting it at once costs the
   * remote a few bytes and us a stream, a negotiation and a handler start (the HTTP/2 "rapid
   * reset" attack), so such resets have a budget; past it this throws LimitExceededError from
   * the parser and the connection ends as for a protocol violation.
   */
  protected countInboundReset (): void {
    if (!this.#inboundResets.take()) {
      throw new LimitExceededError(`${this.protocol}: the remote reset more than ${this.#inboundResets.burst} of its streams at a rate above ${this.#inboundResets.perSecond}/s`)
    }
  }

  /** Hands a new inbound stream to the application; a throwing handler only costs the stream. */
  protected deliverInbound (stream: S): void {
    try {
      this.init.onIncomingStream(stream)
    } catch (err) {
      this.log.error('incoming stream handler threw: %s', err)
      stream.abort(err as Error)
    }
  }

  // ---- reading ----------------------------------------------------------------------------

  /** Starts the read loop; subclasses call it at the end of their constructor. */
  protected start (): void {
    void this.#readLoop()
  }

  async #readLoop (): Promise<void> {
    const conn = this.conn
    while (this.#status !== 'closed') {
      let chunk: Uint8Array | null
      try {
        chunk = await conn.read()
      } catch (err) {
        this.#fail(err as Error)
        return
      }
      if ((this.#status as MuxerStatus) === 'closed') return
      if (chunk === null) {
        void this.#connectionEnded()
        return
      }
      let pause: Promise<void> | undefined
      try {
        this.onChunk(chunk)
        pause = this.readPause()
        // The rest of a burst (a secure channel decrypts several frames per socket read) is
        // parsed right away instead of costing a promise per chunk.
        while (pause === undefined && (this.#status as MuxerStatus) !== 'closed' && (chunk = conn.tryRead?.() ?? null) !== null) {
          this.onChunk(chunk)
          pause = this.readPause()
        }
      } catch (err) {
        this.protocolError(err as Error)
        return
      }
      if (pause !== undefined) await pause
    }
  }

  // ---- teardown ---------------------------------------------------------------------------

  async close (options?: AbortOptions): Promise<void> {
    if (this.#closing !== undefined) return await this.#closing
    if (this.#status === 'closed') return
    this.#closing = this.#closeGracefully(options)
    await this.#closing
  }

  async #closeGracefully (options?: AbortOptions): Promise<void> {
    this.#status = 'closing'
    this.onClosing()
    const deadline = new Deadline(this.#closeTimeout, options?.signal, 'muxer close timed out')
    const signal = deadline.signal
    const writers: Array<Promise<void>> = []
    for (const s of this.streamList()) {
      if (s.writeStatus !== 'closed') writers.push(s.closeWrite({ signal }).catch(() => {}))
    }
    try {
      await raceSignal(Promise.all(writers).then(async () => { await this.#allStreamsReleased() }), signal)
    } catch {
      // Streams that did not finish in time are reset below.
    }
    this.#releaseWaiter = undefined
    // abort() may have run while we waited.
    if ((this.#status as MuxerStatus) === 'closed') {
      deadline.clear()
      return
    }
    this.#status = 'closed'
    if (!this.#noStreams()) this.#releaseStreams(new StreamResetError('the connection was closed'), true)
    this.onClosed()
    this.batch.flush()
    this.batch.close()
    await this.#closeConnection(signal)
    deadline.clear()
    this.#finish(undefined)
  }

  #releaseWaiter: (() => void) | undefined

  /** Resolves once the remote has finished every stream (FIN or reset both ways). */
  #allStreamsReleased (): Promise<void> {
    if (this.#noStreams()) return Promise.resolve()
    return new Promise(resolve => { this.#releaseWaiter = resolve })
  }

  #noStreams (): boolean {
    for (const _ of this.streamList()) return false
    return true
  }

  /** Subclasses call this after forgetting a stream. */
  protected streamReleased (): void {
    if (this.#releaseWaiter !== undefined && this.#noStreams()) {
      const resolve = this.#releaseWaiter
      this.#releaseWaiter = undefined
      resolve()
    }
  }

  abort (err: Error): void {
    if (this.#status === 'closed') return
    this.#status = 'closed'
    this.#releaseStreams(new StreamResetError('the connection was aborted', { cause: err }), false)
    this.batch.close()
    this.conn.abort(err)
    this.#finish(err)
  }

  /** The remote broke the protocol: tell it (best effort), reset everything, close. */
  protected protocolError (err: Error): void {
    if (this.#status === 'closed') return
    this.log.error('protocol error: %s', err.message)
    this.#status = 'closed'
    this.onProtocolError(err)
    this.#releaseStreams(new StreamResetError('the connection failed', { cause: err }), false)
    this.batch.flush()
    this.batch.close()
    void closeOrAbort(this.conn, this.#closeTimeout)
    this.#finish(err)
  }

  /** The connection failed underneath us. */
  #fail (err: Error): void {
    if (this.#status === 'closed') return
    this.log('connection failed: %s', err.message)
    this.#status = 'closed'
    this.#releaseStreams(new StreamResetError('the connection failed', { cause: err }), false)
    this.batch.close()
    this.conn.abort(err)
    this.#finish(err)
  }

  async #connectionEnded (): Promise<void> {
    if (this.#status === 'closed') return
    const wasClosing = this.#status === 'closing'
    this.#status = 'closed'
    // Streams the remote had not finished writing lose data when reset: that is not clean.
    let unfinished = 0
    for (const s of this.streamList()) if (!s.remoteFinished && s.error === undefined) unfinished++
    const err = new ConnectionClosedError('the underlying connection ended')
    this.#releaseStreams(new StreamResetError('the connection ended', { cause: err }), true)
    this.batch.flush()
    this.batch.close()
    await closeOrAbort(this.conn, this.#closeTimeout)
    const clean = wasClosing || unfinished === 0 || this.remoteSaidGoodbye()
    this.#finish(clean ? undefined : err)
  }

  /** True when the remote announced a clean shutdown before the connection ended. */
  protected remoteSaidGoodbye (): boolean { return false }

  #releaseStreams (err: Error, cleanEnd: boolean): void {
    this.#waitingWriters.clear()
    for (const s of [...this.streamList()]) s.connectionLost(err, cleanEnd)
  }

  async #closeConnection (signal: AbortSignal): Promise<void> {
    try {
      await this.conn.close({ signal })
    } catch (err) {
      this.conn.abort(err as Error)
    }
  }

  #finish (err: Error | undefined): void {
    try {
      this.onTerminated()
    } finally {
      this.#resolveClosed()
      if (!this.#onCloseCalled) {
        this.#onCloseCalled = true
        try {
          this.init.onClose?.(err)
        } catch (e) {
          this.log.error('onClose threw: %s', e)
        }
      }
    }
  }
}

/** True for errors that mean "the remote sent something invalid" rather than a local fault. */
export function isRemoteFault (err: unknown): boolean {
  return err instanceof Libp2pError && (err.code === 'ERR_INVALID_MESSAGE' || err.code === 'ERR_MESSAGE_TOO_LARGE' || err.code === 'ERR_LIMIT_EXCEEDED')
}
