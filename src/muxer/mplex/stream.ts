/**
 * One mplex stream. Mplex has no flow control, so the two directions are bounded differently:
 * - sending: data goes to the shared frame writer in messages of at most `maxMessageSize`
 *   bytes, and backpressure comes from the connection itself (send() returns false while the
 *   connection is above its high-water mark);
 * - receiving: unread bytes are capped at `maxBufferSize`. When a reader falls behind the
 *   muxer stops reading the connection (the transport then pushes back on the remote sender)
 *   for at most `slowReaderTimeout`; a reader still behind after that gets its stream reset,
 *   as go-mplex does, so one stuck stream cannot stall the others for long nor grow memory.
 *   The first 256 KiB of a stream's buffer are free; buffering beyond that is reserved from
 *   the connection's memory account (its resource scopes) in 256 KiB chunks, released when the
 *   stream ends. A refused reservation does not reset anything: the stream counts as behind
 *   at what it holds, so the connection stops reading sooner (backpressure, not loss).
 */
import type { AbortOptions, Direction } from '../../interface/common.ts'
import { LimitExceededError, StreamResetError } from '../../util/errors.ts'
import type { FrameBatch } from '../frame-batch.ts'
import { MuxedStream } from '../muxed-stream.ts'
import { MplexFlag, writeMplexHeader } from './frame.ts'

export interface MplexStreamHost {
  readonly batch: FrameBatch
  readonly maxMessageSize: number
  readonly maxBufferSize: number
  readonly stopped: boolean
  /** The stream holds more than `maxBufferSize` unread bytes. */
  streamBehind(stream: MplexStream): void
  /** A stream reported behind has caught up (or ended). */
  streamCaughtUp(stream: MplexStream): void
  waitForDrain(stream: MplexStream): void
  releaseStream(stream: MplexStream): void
  /** Reserves receive buffer beyond the free base from the connection's memory account. */
  reserveMemory(bytes: number): boolean
  releaseMemory(bytes: number): void
}

/** Unread bytes a stream holds without a reservation (as yamux's initial window). */
export const FREE_BUFFER = 256 * 1024
/** Reservations grow in chunks of this size, so a stream makes few of them. */
const RESERVATION_CHUNK = 256 * 1024

export class MplexStream extends MuxedStream {
  readonly streamId: number
  readonly #host: MplexStreamHost
  readonly #messageFlag: number
  readonly #closeFlag: number
  readonly #resetFlag: number
  #closeSent = false
  #closeReceived = false
  #released = false
  #behind = false
  /** Buffer reserved beyond FREE_BUFFER (released with the stream). */
  #reserved = 0

  constructor (streamId: number, direction: Direction, host: MplexStreamHost) {
    super(`${streamId}${direction === 'outbound' ? 'i' : 'r'}`, direction)
    this.streamId = streamId
    this.#host = host
    const initiator = direction === 'outbound'
    this.#messageFlag = initiator ? MplexFlag.MessageInitiator : MplexFlag.MessageReceiver
    this.#closeFlag = initiator ? MplexFlag.CloseInitiator : MplexFlag.CloseReceiver
    this.#resetFlag = initiator ? MplexFlag.ResetInitiator : MplexFlag.ResetReceiver
  }

  // ---- incoming (called by the muxer) -----------------------------------------------------

  /** Unread bytes this stream may hold now: the free base plus what is reserved, at most the maximum. */
  get #limit (): number {
    return Math.min(this.#host.maxBufferSize, FREE_BUFFER + this.#reserved)
  }

  receiveData (chunk: Uint8Array): void {
    this.pushData(chunk)
    const host = this.#host
    if (this.readableLength > this.#limit && this.#limit < host.maxBufferSize) {
      const missing = this.readableLength - this.#limit
      const chunks = Math.ceil(missing / RESERVATION_CHUNK) * RESERVATION_CHUNK
      const grow = Math.min(chunks, host.maxBufferSize - FREE_BUFFER - this.#reserved)
      if (grow > 0 && host.reserveMemory(grow)) this.#reserved += grow
    }
    if (this.readableLength <= this.#limit) return
    // The muxer stops reading the connection for a while; far beyond the maximum (one huge
    // chunk) there is nothing to wait for.
    if (this.readableLength > 2 * host.maxBufferSize) {
      this.resetSlowReader()
    } else if (!this.#behind) {
      this.#behind = true
      this.#host.streamBehind(this)
    }
  }

  /** Gives up on a reader that did not catch up. */
  resetSlowReader (): void {
    this.abort(new LimitExceededError(`mplex: stream ${this.id} has more than ${this.#host.maxBufferSize} unread bytes; resetting it`))
  }

  protected override onConsumed (_bytes: number): void {
    if (this.#behind && this.readableLength <= this.#limit) {
      this.#behind = false
      this.#host.streamCaughtUp(this)
    }
  }

  receiveClose (): void {
    if (this.#closeReceived) return
    this.#closeReceived = true
    this.pushEnd()
    if (this.#closeSent) this.#release()
  }

  receiveReset (): void {
    this.#closeReceived = true
    this.pushReset(new StreamResetError('the remote reset the stream'))
    this.#release()
  }

  // ---- outgoing ---------------------------------------------------------------------------

  protected sendChunk (chunk: Uint8Array): boolean {
    const host = this.#host
    if (host.stopped) return true
    const batch = host.batch
    const max = host.maxMessageSize
    for (let offset = 0; offset < chunk.length; offset += max) {
      const piece = offset === 0 && chunk.length <= max ? chunk : chunk.subarray(offset, Math.min(offset + max, chunk.length))
      writeMplexHeader(batch, this.streamId, this.#messageFlag, piece.length)
      batch.payload(piece)
      batch.commit()
    }
    if (!batch.blocked) return true
    host.waitForDrain(this)
    return false
  }

  resumeSending (): void {
    if (this.#host.batch.blocked) {
      this.#host.waitForDrain(this)
    } else if (this.writeBlocked) {
      this.notifyDrain()
    }
  }

  protected dropOutgoing (): void {}

  protected sendCloseWrite (_options?: AbortOptions): void {
    if (this.#host.stopped) return
    this.#closeSent = true
    writeMplexHeader(this.#host.batch, this.streamId, this.#closeFlag, 0)
    this.#host.batch.commit()
    if (this.#closeReceived) this.#release()
  }

  protected sendReset (_err: Error): void {
    if (!this.#host.stopped) {
      writeMplexHeader(this.#host.batch, this.streamId, this.#resetFlag, 0)
      this.#host.batch.commit()
    }
    this.#release()
  }

  protected override onFinished (): void {
    if (this.error !== undefined) this.#release()
  }

  #release (): void {
    if (this.#reserved > 0) {
      this.#host.releaseMemory(this.#reserved)
      this.#reserved = 0
    }
    if (this.#behind) {
      this.#behind = false
      this.#host.streamCaughtUp(this)
    }
    if (this.#released) return
    this.#released = true
    this.#host.releaseStream(this)
  }
}
