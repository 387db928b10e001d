/**
 * One mplex stream. Mplex has no flow control, so the two directions are bounded differently:
 * - sending: data goes to the shared frame writer in messages of at most `maxMessageSize`
 *   bytes, and backpressure comes from the connection itself (send() returns false while the
 *   connection is above its high-water mark);
 * - receiving: unread bytes are capped at `maxBufferSize`. When a reader falls behind the
 *   muxer stops reading the connection (the transport then pushes back on the remote sender)
 *   for at most `slowReaderTimeout`; a reader still behind after that gets its stream reset,
 *   as go-mplex does, so one stuck stream cannot stall the others for long nor grow memory.
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
}

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

  receiveData (chunk: Uint8Array): void {
    this.pushData(chunk)
    const limit = this.#host.maxBufferSize
    if (this.readableLength <= limit) return
    // The muxer stops reading the connection for a while; far beyond the limit (one huge
    // chunk) there is nothing to wait for.
    if (this.readableLength > 2 * limit) {
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
    if (this.#behind && this.readableLength <= this.#host.maxBufferSize) {
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
    if (this.#behind) {
      this.#behind = false
      this.#host.streamCaughtUp(this)
    }
    if (this.#released) return
    this.#released = true
    this.#host.releaseStream(this)
  }
}
