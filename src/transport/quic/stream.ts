/**
 * One QUIC stream (RFC 9000 sections 2-4) as the project's byte-stream contract: a libp2p
 * stream is exactly one bidirectional QUIC stream.
 *
 * Mapping of the contract: `closeWrite()` sends FIN after everything queued; `closeRead()`
 * sends STOP_SENDING; `abort(err)` sends RESET_STREAM and STOP_SENDING; a RESET_STREAM from the
 * remote fails reads and writes with StreamResetError (and we reset our side too, so the
 * stream is released); a STOP_SENDING from the remote ends our write side (later writes fail
 * with StreamClosedError) and is answered with RESET_STREAM as RFC 9000 3.5 asks.
 *
 * Sending keeps every written chunk until it is acknowledged (lost ranges are sent again from
 * it), without copying: the packet writer copies straight from the chunks into the datagram.
 * Receiving reassembles out-of-order frames (views into decrypted packets, no copy) within the
 * flow-control window we advertised; the window doubles (up to a maximum) when the reader
 * consumes it within two round trips, so one fast stream reaches line rate without every idle
 * stream reserving megabytes.
 *
 * Unidirectional streams (HTTP/3's control and QPACK streams, for WebTransport) are the same
 * class with one side finished from the start: a send-only stream reads end-of-stream at once
 * and never sends STOP_SENDING; a receive-only stream refuses writes and never sends RESET_STREAM.
 */
import type { Stream } from '../../interface/stream.ts'
import type { AbortOptions } from '../../interface/common.ts'
import { AbstractStream } from '../../util/abstract-stream.ts'
import { StreamResetError } from '../../util/errors.ts'
import { QuicProtocolError, QuicTransportErrorCode } from './errors.ts'
import { RangeSet } from './range-set.ts'
import { streamFrameOverhead, writeStreamHeader } from './frames.ts'
import type { SentFrame } from './sent-frame.ts'

/** What a stream needs of its connection. */
export interface StreamHost {
  /** The stream has something to send (data, FIN or a control frame). */
  wakeStream(stream: QuicStream): void
  /** The stream is finished in both directions at the transport level; forget it. */
  releaseStream(stream: QuicStream): void
  /** The reader consumed bytes: connection-level flow control. */
  onConsumed(bytes: number): void
  /** Current smoothed RTT in ms (window auto-tuning). */
  readonly smoothedRtt: number
  /** Reserves window growth beyond the initial window (the connection's memory account). */
  reserveWindow?(bytes: number): boolean
  releaseWindow?(bytes: number): void
}

export interface StreamWindows {
  /** Initial receive window per stream (bytes). */
  initial: number
  /** The auto-tuned window never exceeds this. */
  max: number
}

/** Bytes kept (unsent + unacknowledged) before `send()` reports backpressure. */
const SEND_HIGH_WATER_MARK = 1024 * 1024
/** Application error code of RESET_STREAM / STOP_SENDING when libp2p resets a stream. */
export const STREAM_RESET_CODE = 0

let nowMs: () => number = () => performance.now()

/** Which directions a stream has (RFC 9000 2.1: bit 0x02 of the id). */
export type QuicStreamKind = 'bidi' | 'send-only' | 'receive-only'

export class QuicStream extends AbstractStream implements Stream {
  readonly quicId: number
  readonly id: string
  readonly direction: 'inbound' | 'outbound'
  protocol = ''
  readonly metadata: Record<string, unknown> = {}
  readonly #host: StreamHost

  // ---- send side ----
  #chunks: Uint8Array[] = []
  #chunkOffsets: number[] = []
  #chunkHead = 0
  /** Bytes written by the application (the final size once FIN is queued). */
  #writtenOffset = 0
  /** Next byte never sent before. */
  #sendOffset = 0
  /** Flow-control limit the remote gave us. */
  maxSendOffset: number
  #acked = new RangeSet(4096)
  #ackedPrefix = 0
  /** Lost byte ranges to send again, [start, end) pairs in arrival order. */
  #lost: number[] = []
  #finQueued = false
  #finSent = false
  #finAcked = false
  #blockedReportedAt = -1
  /** RESET_STREAM to send (and re-send until acknowledged). */
  resetCode: number | undefined
  #resetPending = false
  #resetAcked = false

  // ---- receive side ----
  #recvOffset = 0
  #segments: Array<{ offset: number, data: Uint8Array }> = []
  #highestReceived = 0
  #finalSize = -1
  #recvDone = false
  #window: number
  readonly #maxWindow: number
  /** The MAX_STREAM_DATA limit we advertised. */
  #advertised: number
  #consumed = 0
  #lastWindowUpdate = 0
  #maxStreamDataPending = false
  #stopSendingPending = false
  #stopSendingSent = false
  #released = false
  /** Window grown past the initial one, reserved from the host (given back with the stream). */
  #reservedWindow = 0

  readonly kind: QuicStreamKind

  constructor (quicId: number, direction: 'inbound' | 'outbound', host: StreamHost, windows: StreamWindows, maxSendOffset: number, kind: QuicStreamKind = 'bidi') {
    super()
    this.kind = kind
    this.quicId = quicId
    this.id = String(quicId)
    this.direction = direction
    this.#host = host
    this.#window = windows.initial
    this.#maxWindow = windows.max
    this.#advertised = windows.initial
    this.maxSendOffset = maxSendOffset
    if (kind === 'receive-only') {
      // No send side: as if a FIN of nothing had been acknowledged.
      this.#finQueued = this.#finSent = this.#finAcked = true
      this.markWriteClosed()
    } else if (kind === 'send-only') {
      this.#recvDone = true
      this.pushEnd()
    }
  }

  // ---- AbstractStream hooks --------------------------------------------------------------

  protected sendChunk (chunk: Uint8Array): boolean {
    this.#chunks.push(chunk)
    this.#chunkOffsets.push(this.#writtenOffset)
    this.#writtenOffset += chunk.length
    this.#host.wakeStream(this)
    return this.#writtenOffset - this.#ackedPrefix < SEND_HIGH_WATER_MARK
  }

  protected sendCloseWrite (_options?: AbortOptions): void {
    this.#finQueued = true
    this.#host.wakeStream(this)
  }

  protected sendReset (_err: Error): void {
    this.#queueReset(STREAM_RESET_CODE)
    if (!this.#recvDone) this.#queueStopSending()
  }

  protected override onConsumed (bytes: number): void {
    this.#consumed += bytes
    this.#host.onConsumed(bytes)
    if (this.#finalSize >= 0) return
    // Advertise more once half the window is used; grow it when that happens fast.
    if (this.#advertised - this.#consumed < this.#window / 2) {
      const now = nowMs()
      if (now - this.#lastWindowUpdate < 2 * this.#host.smoothedRtt && this.#window < this.#maxWindow) {
        const grown = Math.min(this.#window * 2, this.#maxWindow)
        // refused: the window stays where it is (slower, never unbounded)
        if (this.#host.reserveWindow?.(grown - this.#window) ?? true) {
          this.#reservedWindow += grown - this.#window
          this.#window = grown
        }
      }
      this.#lastWindowUpdate = now
      this.#advertised = this.#consumed + this.#window
      this.#maxStreamDataPending = true
      this.#host.wakeStream(this)
    }
  }

  protected override onReadClosed (): void {
    if (!this.#recvDone) this.#queueStopSending()
  }

  protected override onFinished (): void {
    this.#maybeRelease()
  }

  #queueReset (code: number): void {
    if (this.resetCode !== undefined || this.#finAcked) return
    this.resetCode = code
    this.#resetPending = true
    this.#chunks = []
    this.#chunkOffsets = []
    this.#chunkHead = 0
    this.#lost = []
    this.#host.wakeStream(this)
  }

  #queueStopSending (): void {
    if (this.#stopSendingSent || this.#stopSendingPending) return
    this.#stopSendingPending = true
    this.#host.wakeStream(this)
  }

  // ---- incoming frames (called by the connection) ----------------------------------------

  /** A STREAM frame. `data` may be a view into a decrypted packet: it is kept, not copied. */
  receiveData (offset: number, data: Uint8Array, fin: boolean): void {
    const end = offset + data.length
    if (end > this.#advertised) throw new QuicProtocolError(`stream ${this.quicId}: data up to ${end} exceeds the window ${this.#advertised}`, QuicTransportErrorCode.FLOW_CONTROL_ERROR)
    if (this.#finalSize >= 0 && (end > this.#finalSize || (fin && end !== this.#finalSize))) {
      throw new QuicProtocolError(`stream ${this.quicId}: data beyond its final size`, QuicTransportErrorCode.FINAL_SIZE_ERROR)
    }
    if (fin) {
      if (end < this.#highestReceived) throw new QuicProtocolError(`stream ${this.quicId}: final size below data received`, QuicTransportErrorCode.FINAL_SIZE_ERROR)
      this.#finalSize = end
    }
    this.#noteHighest(end)
    if (this.#recvDone) return
    if (end <= this.#recvOffset) {
      if (fin || this.#finalSize === this.#recvOffset) this.#deliverEnd()
      return
    }
    if (offset <= this.#recvOffset) {
      this.#deliver(data.subarray(this.#recvOffset - offset))
      this.#drainSegments()
    } else {
      this.#insertSegment(offset, data)
    }
    if (this.#finalSize >= 0 && this.#recvOffset === this.#finalSize) this.#deliverEnd()
  }

  #noteHighest (end: number): void {
    if (end > this.#highestReceived) this.#highestReceived = end
  }

  /** Highest offset received so far: the connection sums these for connection flow control. */
  get highestReceived (): number { return this.#highestReceived }

  #deliver (data: Uint8Array): void {
    this.#recvOffset += data.length
    this.pushData(data)
  }

  #drainSegments (): void {
    const segs = this.#segments
    while (segs.length > 0 && segs[0].offset <= this.#recvOffset) {
      const seg = segs.shift()!
      const end = seg.offset + seg.data.length
      if (end > this.#recvOffset) this.#deliver(seg.data.subarray(this.#recvOffset - seg.offset))
    }
  }

  #insertSegment (offset: number, data: Uint8Array): void {
    const segs = this.#segments
    // Ordered by offset; overlaps are trimmed when delivered. Bounded: every byte lies inside
    // the advertised window, and a segment fully inside an existing one is dropped.
    let i = segs.length
    while (i > 0 && segs[i - 1].offset > offset) i--
    const prev = segs[i - 1]
    if (prev !== undefined && prev.offset + prev.data.length >= offset + data.length) return
    if (segs.length >= 4096) throw new QuicProtocolError(`stream ${this.quicId}: too many out-of-order fragments`, QuicTransportErrorCode.PROTOCOL_VIOLATION)
    segs.splice(i, 0, { offset, data })
  }

  #deliverEnd (): void {
    if (this.#recvDone) return
    this.#recvDone = true
    this.#segments = []
    this.pushEnd()
    this.#maybeRelease()
  }

  receiveReset (errorCode: number, finalSize: number): void {
    if (this.#finalSize >= 0 && finalSize !== this.#finalSize) throw new QuicProtocolError(`stream ${this.quicId}: RESET_STREAM changes the final size`, QuicTransportErrorCode.FINAL_SIZE_ERROR)
    if (finalSize < this.#highestReceived) throw new QuicProtocolError(`stream ${this.quicId}: RESET_STREAM final size below data received`, QuicTransportErrorCode.FINAL_SIZE_ERROR)
    if (finalSize > this.#advertised) throw new QuicProtocolError(`stream ${this.quicId}: RESET_STREAM final size beyond the window`, QuicTransportErrorCode.FLOW_CONTROL_ERROR)
    this.#noteHighest(finalSize)
    this.#finalSize = finalSize
    if (this.#recvDone) return
    this.#recvDone = true
    this.#segments = []
    this.#stopSendingPending = false
    this.pushReset(new StreamResetError(`the remote reset stream ${this.quicId} (code ${errorCode})`))
    // The contract fails both directions on a remote reset: release our side too.
    this.#queueReset(STREAM_RESET_CODE)
    this.#maybeRelease()
  }

  receiveStopSending (errorCode: number): void {
    this.#queueReset(errorCode)
    this.markWriteClosed()
  }

  receiveMaxStreamData (maximum: number): void {
    if (maximum > this.maxSendOffset) {
      this.maxSendOffset = maximum
      this.#host.wakeStream(this)
    }
  }

  // ---- outgoing frames (called by the connection's packet writer) ------------------------

  /** True when the stream has a frame to send given `connCredit` bytes of connection credit. */
  wantsToSend (connCredit: number): boolean {
    if (this.#resetPending || this.#stopSendingPending || this.#maxStreamDataPending) return true
    if (this.resetCode !== undefined) return false
    if (this.#lost.length > 0) return true
    if (this.#finQueued && !this.#finSent && this.#sendOffset === this.#writtenOffset) return true
    return this.#sendOffset < this.#writtenOffset && this.#sendOffset < this.maxSendOffset && connCredit > 0
  }

  /** True when new data waits only for the remote's stream window (a STREAM_DATA_BLOCKED moment). */
  get blockedByStreamWindow (): boolean {
    return this.resetCode === undefined && this.#sendOffset < this.#writtenOffset && this.#sendOffset >= this.maxSendOffset && this.#blockedReportedAt !== this.maxSendOffset
  }

  markBlockedReported (): void { this.#blockedReportedAt = this.maxSendOffset }

  /** Control frames first (RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA), as tiny records. */
  takeControl (): 'reset_stream' | 'stop_sending' | 'max_stream_data' | undefined {
    if (this.#resetPending) { this.#resetPending = false; return 'reset_stream' }
    if (this.#stopSendingPending) { this.#stopSendingPending = false; this.#stopSendingSent = true; return 'stop_sending' }
    if (this.#maxStreamDataPending) { this.#maxStreamDataPending = false; return 'max_stream_data' }
    return undefined
  }

  /** The final size a RESET_STREAM carries: everything we ever sent. */
  get resetFinalSize (): number { return this.#sendOffset }
  /** The MAX_STREAM_DATA limit to (re)send. */
  get advertisedLimit (): number { return this.#advertised }

  /**
   * Writes one STREAM frame (a lost range first, else new data) at `offset` of `buf`, at most up
   * to `limit`. New data also respects `connCredit`. Returns the frame's end, or `offset` when
   * nothing fits; records what was sent in `sent`.
   */
  writeStreamFrame (buf: Uint8Array, offset: number, limit: number, connCredit: number, sent: SentFrame[]): { end: number, newBytes: number } {
    if (this.resetCode !== undefined) return { end: offset, newBytes: 0 }
    let start: number
    let maxLength: number
    let retransmit = false
    if (this.#lost.length > 0) {
      start = this.#lost[0]
      maxLength = this.#lost[1] - start
      retransmit = true
    } else {
      start = this.#sendOffset
      maxLength = Math.min(this.#writtenOffset, this.maxSendOffset, start + connCredit) - start
    }
    const fullFin = this.#finQueued && !retransmit
    const room = limit - offset - streamFrameOverhead(this.quicId, start, Math.min(maxLength, limit - offset))
    if (room < 0 || (room === 0 && !(fullFin && maxLength === 0))) return { end: offset, newBytes: 0 }
    const length = Math.min(maxLength, room)
    const fin = fullFin ? start + length === this.#writtenOffset : (this.#finSent && start + length === this.#writtenOffset && this.#finQueued && !this.#finAcked)
    if (length === 0 && !fin) return { end: offset, newBytes: 0 }
    let o = writeStreamHeader(buf, offset, this.quicId, start, length, fin)
    o = this.#copyOut(buf, o, start, length)
    if (retransmit) {
      if (length === maxLength) this.#lost.splice(0, 2)
      else this.#lost[0] = start + length
    } else {
      this.#sendOffset = start + length
    }
    if (fin) this.#finSent = true
    sent.push({ kind: 'stream', stream: this, offset: start, length, fin })
    return { end: o, newBytes: retransmit ? 0 : length }
  }

  #copyOut (buf: Uint8Array, o: number, start: number, length: number): number {
    if (length === 0) return o
    // Binary search for the chunk holding `start`.
    const offsets = this.#chunkOffsets
    let lo = this.#chunkHead
    let hi = offsets.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (offsets[mid] <= start) lo = mid
      else hi = mid - 1
    }
    let remaining = length
    let pos = start
    for (let i = lo; remaining > 0; i++) {
      const chunk = this.#chunks[i]
      const from = pos - offsets[i]
      const n = Math.min(chunk.length - from, remaining)
      buf.set(n === chunk.length ? chunk : chunk.subarray(from, from + n), o)
      o += n
      pos += n
      remaining -= n
    }
    return o
  }

  onFrameAcked (frame: SentFrame): void {
    if (frame.kind === 'reset_stream') {
      this.#resetAcked = true
      this.#maybeRelease()
      return
    }
    if (frame.kind !== 'stream' || this.resetCode !== undefined) return
    if (frame.length > 0) this.#acked.add(frame.offset, frame.offset + frame.length - 1)
    if (frame.fin) this.#finAcked = true
    const prefix = this.#acked.contiguousEnd(this.#ackedPrefix)
    if (prefix > this.#ackedPrefix) {
      this.#ackedPrefix = prefix
      this.#acked.removeBelow(prefix)
      this.#releaseChunks()
      if (this.writeBlocked && this.#writtenOffset - prefix < SEND_HIGH_WATER_MARK / 2) this.notifyDrain()
    }
    if (this.#finAcked && this.#ackedPrefix === this.#writtenOffset) this.#maybeRelease()
  }

  #releaseChunks (): void {
    const offsets = this.#chunkOffsets
    const chunks = this.#chunks
    let head = this.#chunkHead
    while (head < chunks.length && offsets[head] + chunks[head].length <= this.#ackedPrefix) head++
    if (head > 64 && head * 2 > chunks.length) {
      this.#chunks = chunks.slice(head)
      this.#chunkOffsets = offsets.slice(head)
      head = 0
    }
    this.#chunkHead = head
  }

  onFrameLost (frame: SentFrame): void {
    switch (frame.kind) {
      case 'reset_stream': this.#resetPending = true; break
      case 'stop_sending': if (!this.#recvDone) this.#stopSendingPending = true; break
      case 'max_stream_data': if (!this.#recvDone) this.#maxStreamDataPending = true; break
      case 'stream': {
        if (this.resetCode !== undefined) return
        const end = frame.offset + frame.length
        // Only what is not acknowledged since.
        if (end > this.#ackedPrefix || (frame.fin && !this.#finAcked)) {
          const start = Math.max(frame.offset, this.#ackedPrefix)
          if (end > start) this.#lost.push(start, end)
          else if (frame.fin && end === this.#writtenOffset) this.#lost.push(end, end)
        }
        break
      }
      default: return
    }
    this.#host.wakeStream(this)
  }

  /** The connection died: fail the stream with `err`. */
  connectionClosed (err: Error): void {
    this.#released = true
    this.#giveBackWindow()
    this.pushReset(err)
  }

  #giveBackWindow (): void {
    if (this.#reservedWindow === 0) return
    this.#host.releaseWindow?.(this.#reservedWindow)
    this.#reservedWindow = 0
  }

  #maybeRelease (): void {
    if (this.#released) return
    const sendDone = this.#resetAcked || (this.resetCode === undefined && this.#finAcked && this.#ackedPrefix >= this.#writtenOffset)
    if (!sendDone || !this.#recvDone) return
    if (this.status === 'open' || this.status === 'closing') return
    this.#released = true
    this.#giveBackWindow()
    this.#host.releaseStream(this)
  }
}

/** For tests: replace the clock. */
export function setStreamClock (clock: () => number): void { nowMs = clock }
