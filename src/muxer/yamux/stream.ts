/**
 * One yamux stream: flow control in both directions on top of the shared byte-stream base.
 *
 * Sending: bytes go out as Data frames no larger than the remote's window and `maxFrameSize`;
 * what the window does not cover waits here and `send()` reports backpressure until a window
 * update (or the connection draining) lets it through.
 *
 * Receiving: the remote may send `recvWindow` bytes beyond what we acknowledged. As the reader
 * consumes bytes we grant them back with a WindowUpdate once half a window is consumed. The
 * window grows with measured throughput: when half a window was consumed within two round
 * trips of the previous update the reader is keeping up with a full pipe, so the window
 * doubles (up to `maxWindow`) and the sender is no longer limited by it. A reader that stops
 * reading stops the grants, which stops the sender: nothing buffers beyond one window.
 */
import type { Direction } from '../../interface/common.ts'
import type { AbortOptions } from '../../interface/common.ts'
import { InvalidMessageError, StreamResetError } from '../../util/errors.ts'
import type { FrameBatch } from '../frame-batch.ts'
import { MuxedStream } from '../muxed-stream.ts'
import { Flag, FrameType, INITIAL_STREAM_WINDOW, writeHeader } from './frame.ts'

/** What a stream needs from its muxer. */
export interface YamuxStreamHost {
  readonly batch: FrameBatch
  /** Largest Data frame payload we send. */
  readonly maxFrameSize: number
  /** Upper bound for a receive window. */
  readonly maxWindow: number
  /** Last measured round-trip time in ms (0 = unknown). */
  readonly rtt: number
  /** Reserves memory for a window grown past the initial one; false: do not grow. */
  reserveWindow(bytes: number): boolean
  releaseWindow(bytes: number): void
  /** True once the muxer stopped: frames are no longer sent. */
  readonly stopped: boolean
  waitForDrain(stream: YamuxStream): void
  /** The remote acknowledged our SYN (or refused it with RST). */
  streamAcknowledged(stream: YamuxStream): void
  /** Both sides are done with the stream; the muxer can forget it. */
  releaseStream(stream: YamuxStream): void
  /** Bytes wait and the remote's window is zero: the stall clock starts (see sendStallTimeout). */
  sendStalled(stream: YamuxStream): void
  /** The remote opened its window again, or nothing waits any more. */
  sendResumed(stream: YamuxStream): void
}

export interface YamuxStreamInit {
  streamId: number
  direction: Direction
  host: YamuxStreamHost
  /** Receive window we announce (>= the 256 KiB every stream starts with). */
  recvWindow: number
}

export class YamuxStream extends MuxedStream {
  readonly streamId: number
  readonly #host: YamuxStreamHost
  /** Bytes the remote lets us send. */
  #sendWindow = INITIAL_STREAM_WINDOW
  #pendingOut: Uint8Array[] = []
  #pendingHead = 0
  #pendingBytes = 0
  /** The receive window size we aim to grant. */
  #recvWindow: number
  /** Bytes the remote may still send before it has to wait for us. */
  #recvCredit = INITIAL_STREAM_WINDOW
  /** Bytes the reader consumed that we have not granted back yet. */
  #unacked = 0
  #epochStart = 0
  #awaitingAck: boolean
  #finSent = false
  #finReceived = false
  #released = false
  /** Bytes wait on a zero window (the muxer's stall clock runs for this stream). */
  #stalled = false
  /** Window beyond the initial 256 KiB, reserved from the connection's memory account. */
  #reservedWindow = 0

  constructor (init: YamuxStreamInit) {
    super(String(init.streamId), init.direction)
    this.streamId = init.streamId
    this.#host = init.host
    this.#recvWindow = init.recvWindow
    this.#awaitingAck = init.direction === 'outbound'
  }

  /** The window delta to announce with the SYN or ACK that opens the stream. */
  openingWindowDelta (): number {
    const extra = this.#recvWindow - INITIAL_STREAM_WINDOW
    this.#recvCredit += extra
    this.#epochStart = performance.now()
    return extra
  }

  get awaitingAck (): boolean { return this.#awaitingAck }
  get sendWindow (): number { return this.#sendWindow }
  get recvWindow (): number { return this.#recvWindow }

  // ---- incoming frames (called by the muxer) ----------------------------------------------

  /** A Data frame header for this stream announced `length` payload bytes. */
  receiveDataHeader (length: number, flags: number): void {
    if (length > this.#recvCredit) {
      throw new InvalidMessageError(`yamux: stream ${this.streamId} received ${length} bytes with a window of ${this.#recvCredit}`)
    }
    this.#recvCredit -= length
    this.#receiveOpeningFlags(flags)
  }

  /** A piece of the current Data frame's payload. */
  receiveData (chunk: Uint8Array): void {
    if (this.readStatus === 'closed' && this.error === undefined) {
      // Nobody reads any more, but the remote has not finished writing: keep granting window
      // so its writer is not wedged (the bytes are dropped).
      this.onConsumed(chunk.length)
      return
    }
    this.pushData(chunk)
  }

  receiveWindowUpdate (delta: number, flags: number): void {
    this.#receiveOpeningFlags(flags)
    this.#sendWindow += delta
    this.receiveClosingFlags(flags)
    if (delta > 0 && this.#stalled) this.#unstall()
    if (delta > 0 && this.#pendingBytes > 0) this.resumeSending()
  }

  #unstall (): void {
    this.#stalled = false
    this.#host.sendResumed(this)
  }

  #receiveOpeningFlags (flags: number): void {
    if ((flags & Flag.ACK) !== 0 && this.#awaitingAck) {
      this.#awaitingAck = false
      this.#host.streamAcknowledged(this)
    }
  }

  /** FIN / RST, applied after the frame's payload was delivered. */
  receiveClosingFlags (flags: number): void {
    if ((flags & Flag.RST) !== 0) {
      if (this.#awaitingAck) {
        this.#awaitingAck = false
        this.#host.streamAcknowledged(this)
      }
      this.#finReceived = true
      this.dropOutgoing()
      this.pushReset(new StreamResetError('the remote reset the stream'))
      this.#release()
      return
    }
    if ((flags & Flag.FIN) !== 0 && !this.#finReceived) {
      this.#finReceived = true
      this.pushEnd()
      if (this.#finSent) this.#release()
    }
  }

  // ---- flow control -----------------------------------------------------------------------

  protected override onConsumed (bytes: number): void {
    if (this.#finReceived || this.#host.stopped) return
    this.#unacked += bytes
    if (this.#unacked < this.#recvWindow / 2) return
    let delta = this.#unacked
    const now = performance.now()
    const rtt = this.#host.rtt
    if (rtt > 0 && now - this.#epochStart < 2 * rtt && this.#recvWindow < this.#host.maxWindow) {
      const grown = Math.min(this.#recvWindow * 2, this.#host.maxWindow)
      // the growth (a doubling: a chunk of at least 256 KiB) is what can be buffered on top
      if (this.#host.reserveWindow(grown - this.#recvWindow)) {
        this.#reservedWindow += grown - this.#recvWindow
        delta += grown - this.#recvWindow
        this.#recvWindow = grown
      }
    }
    this.#epochStart = now
    this.#unacked = 0
    this.#recvCredit += delta
    const batch = this.#host.batch
    writeHeader(batch, FrameType.WindowUpdate, 0, this.streamId, delta)
    batch.commit()
  }

  // ---- sending ----------------------------------------------------------------------------

  protected sendChunk (chunk: Uint8Array): boolean {
    this.#pendingOut.push(chunk)
    this.#pendingBytes += chunk.length
    this.#flushPending()
    if (this.#pendingBytes === 0 && !this.#host.batch.blocked) return true
    if (this.#host.batch.blocked) this.#host.waitForDrain(this)
    return false
  }

  /** Sends queued bytes as far as the window and the connection allow. */
  #flushPending (): void {
    const host = this.#host
    const batch = host.batch
    if (host.stopped) return
    const queue = this.#pendingOut
    while (this.#pendingBytes > 0 && this.#sendWindow > 0 && !batch.blocked) {
      const head = queue[this.#pendingHead]
      const n = Math.min(head.length, this.#sendWindow, host.maxFrameSize)
      writeHeader(batch, FrameType.Data, 0, this.streamId, n)
      if (n === head.length) {
        batch.payload(head)
        this.#pendingHead++
      } else {
        batch.payload(head.subarray(0, n))
        queue[this.#pendingHead] = head.subarray(n)
      }
      this.#sendWindow -= n
      this.#pendingBytes -= n
      batch.commit()
    }
    if (this.#pendingBytes > 0 && this.#sendWindow <= 0 && !this.#stalled) {
      this.#stalled = true
      host.sendStalled(this)
    }
    if (this.#pendingHead === queue.length) {
      this.#pendingOut = []
      this.#pendingHead = 0
    } else if (this.#pendingHead > 64) {
      this.#pendingOut = queue.slice(this.#pendingHead)
      this.#pendingHead = 0
    }
  }

  resumeSending (): void {
    if (this.#pendingBytes > 0) this.#flushPending()
    if (this.#host.batch.blocked) {
      this.#host.waitForDrain(this)
    } else if (this.#pendingBytes === 0 && this.writeBlocked) {
      this.notifyDrain()
    }
  }

  protected dropOutgoing (): void {
    this.#pendingOut = []
    this.#pendingHead = 0
    this.#pendingBytes = 0
    if (this.#stalled) this.#unstall()
  }

  protected sendCloseWrite (_options?: AbortOptions): void {
    if (this.#host.stopped) return
    this.#finSent = true
    const batch = this.#host.batch
    writeHeader(batch, FrameType.WindowUpdate, Flag.FIN, this.streamId, 0)
    batch.commit()
    if (this.#finReceived) this.#release()
  }

  protected sendReset (_err: Error): void {
    this.dropOutgoing()
    if (!this.#host.stopped) {
      const batch = this.#host.batch
      writeHeader(batch, FrameType.WindowUpdate, Flag.RST, this.streamId, 0)
      batch.commit()
    }
    this.#release()
  }

  protected override onFinished (): void {
    // A failed stream is gone on both sides; a cleanly closed one lingers until the remote's
    // FIN so that data still in flight is granted window and drained (see receiveClosingFlags).
    if (this.error !== undefined) this.#release()
  }

  #release (): void {
    if (this.#released) return
    this.#released = true
    if (this.#stalled) this.#unstall()
    if (this.#reservedWindow > 0) {
      this.#host.releaseWindow(this.#reservedWindow)
      this.#reservedWindow = 0
    }
    this.#host.releaseStream(this)
  }
}
