/**
 * One libp2p stream over one data channel (specs webrtc/README.md), with our byte-stream
 * contract (src/interface/stream.ts):
 *
 * - `write` splits data into frames of at most 16 KiB; it resolves while the channel's
 *   buffered amount is below `maxBufferedAmount`, else once the channel reports
 *   bufferedamountlow (threshold: half of it), so a fast writer never queues unbounded memory.
 * - `closeWrite` sends FIN and resolves when the remote's FIN_ACK arrives, or after
 *   `finAckTimeout` (a peer that never acknowledges cannot hold the stream forever).
 * - A received FIN ends reading and is answered with FIN_ACK; STOP_SENDING ends our writing
 *   (never answered with RESET_STREAM, as the spec asks); RESET_STREAM fails both directions
 *   with StreamResetError.
 * - `closeRead` sends STOP_SENDING; `abort` sends RESET_STREAM and closes the channel.
 * - Bytes that break the framing reset the stream with the typed decoding error; the rest of
 *   the connection is unaffected.
 * - Unread incoming data: a data channel has no receive window we could close (node-datachannel
 *   delivers every message and cannot pause a channel), so what a slow reader leaves unread is
 *   held, the way mplex holds it: the first FREE_READ_BUFFER bytes per stream on the house,
 *   every MiB beyond that reserved from the connection's resource scopes (peer and system
 *   memory limits), and never more than `maxReadBuffer` per stream. When the resource manager
 *   refuses, or the ceiling is passed, the stream is reset with LimitExceededError.
 * - The channel is closed once both directions are finished, so SCTP releases its stream id.
 */
import type { Direction } from '../../interface/common.ts'
import type { MemoryAccount } from '../../interface/muxer.ts'
import type { Stream } from '../../interface/stream.ts'
import { AbstractStream } from '../../util/abstract-stream.ts'
import { LimitExceededError, StreamClosedError, StreamResetError } from '../../util/errors.ts'
import { unrefTimeout } from '../../util/timers.ts'
import type { DataChannelLike } from './data-channel.ts'
import { Flag, FrameDecoder, MAX_PAYLOAD_LENGTH, encodeDataFrame, encodeFlagFrame } from './message.ts'
import type { FlagValue } from './message.ts'

export interface WebRTCStreamOptions {
  /** Channel bytes queued before `write` waits (default 4 MiB, 2 MiB low-water). */
  maxBufferedAmount?: number
  /** How long `closeWrite` waits for FIN_ACK (default 5 s). */
  finAckTimeout?: number
  /**
   * Received bytes the reader may leave unread before the stream is reset (default 32 MiB);
   * beyond FREE_READ_BUFFER they are reserved from the connection's resource scopes.
   */
  maxReadBuffer?: number
}

export const DEFAULT_MAX_BUFFERED_AMOUNT = 4 * 1024 * 1024
export const DEFAULT_FIN_ACK_TIMEOUT = 5_000
export const DEFAULT_MAX_READ_BUFFER = 32 * 1024 * 1024
/** Unread bytes a stream holds without a reservation (mplex: 256 KiB; SCTP delivers in bursts). */
export const FREE_READ_BUFFER = 1024 * 1024
/** Reservations grow and shrink in whole chunks, never per message. */
const READ_RESERVATION_CHUNK = 1024 * 1024

export class WebRTCStream extends AbstractStream implements Stream {
  readonly id: string
  readonly direction: Direction
  protocol = ''
  readonly metadata: Record<string, unknown> = {}
  readonly channel: DataChannelLike
  readonly #maxBuffered: number
  readonly #finAckTimeout: number
  readonly #maxReadBuffer: number
  readonly #decoder: FrameDecoder
  readonly #onDone: (stream: WebRTCStream) => void
  /** The connection's memory account once the switch attached it (undefined: unaccounted). */
  readonly #memory: () => MemoryAccount | undefined
  /** Bytes reserved for unread data, and from which account. */
  #reserved = 0
  #reservedFrom: MemoryAccount | undefined
  /** Unread bytes held without asking for more: min(maxReadBuffer, free + reserved). */
  #unreadAllowance: number
  #finAckWaiter: (() => void) | undefined
  /** Bytes accepted by `send` and not yet framed into the channel (bounded by backpressure). */
  readonly #outQueue: Uint8Array[] = []
  #outOffset = 0
  #channelClosed = false

  constructor (channel: DataChannelLike, direction: Direction, onDone: (stream: WebRTCStream) => void, options: WebRTCStreamOptions = {}, memory: () => MemoryAccount | undefined = () => undefined) {
    super()
    this.channel = channel
    this.direction = direction
    this.id = `${channel.id}`
    this.#onDone = onDone
    this.#memory = memory
    this.#maxBuffered = options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT
    this.#finAckTimeout = options.finAckTimeout ?? DEFAULT_FIN_ACK_TIMEOUT
    this.#maxReadBuffer = options.maxReadBuffer ?? DEFAULT_MAX_READ_BUFFER
    this.#unreadAllowance = Math.min(this.#maxReadBuffer, FREE_READ_BUFFER)
    this.#decoder = new FrameDecoder({
      onData: (payload) => {
        this.pushData(payload)
        if (this.readableLength > this.#unreadAllowance) this.#holdUnread()
      },
      onFlag: (flag) => { this.#onFlag(flag) }
    })
    channel.setBufferedAmountLowThreshold(Math.floor(this.#maxBuffered / 2))
  }

  /** Unread bytes passed what is free and reserved: reserve more, or reset the stream. */
  #holdUnread (): void {
    const unread = this.readableLength
    if (unread > this.#maxReadBuffer) {
      this.abort(new LimitExceededError(`more than ${this.#maxReadBuffer} unread bytes on a WebRTC stream`))
      return
    }
    const account = this.#reservedFrom ?? this.#memory()
    if (account === undefined) return
    const missing = unread - FREE_READ_BUFFER - this.#reserved
    const grow = Math.ceil(missing / READ_RESERVATION_CHUNK) * READ_RESERVATION_CHUNK
    if (!account.reserve(grow)) {
      this.abort(new LimitExceededError(`the resource manager refused ${grow} more bytes for unread data on a WebRTC stream (${unread} unread)`))
      return
    }
    this.#reservedFrom = account
    this.#setReserved(this.#reserved + grow)
  }

  #setReserved (bytes: number): void {
    this.#reserved = bytes
    this.#unreadAllowance = Math.min(this.#maxReadBuffer, FREE_READ_BUFFER + bytes)
  }

  /** Gives back reserved chunks the reader has emptied (one chunk of slack against churn). */
  protected override onConsumed (_bytes: number): void {
    if (this.#reserved === 0) return
    const needed = Math.ceil(Math.max(0, this.readableLength - FREE_READ_BUFFER) / READ_RESERVATION_CHUNK) * READ_RESERVATION_CHUNK
    if (this.#reserved - needed > READ_RESERVATION_CHUNK) this.#release(this.#reserved - needed)
  }

  #release (bytes: number): void {
    this.#reservedFrom?.release(bytes)
    this.#setReserved(this.#reserved - bytes)
  }

  /** Feeds one received data channel message (the muxer wires the channel's events here). */
  receive (data: Uint8Array): void {
    if (this.status === 'aborted' || this.status === 'reset') return
    try {
      this.#decoder.push(data)
    } catch (err) {
      this.abort(err as Error)
    }
  }

  /** The channel can take more data. */
  bufferedAmountLow (): void {
    if (this.#outQueue.length > 0) {
      try {
        if (!this.#pump()) return
      } catch (err) {
        this.abort(err as Error)
        return
      }
    }
    this.notifyDrain()
  }

  /** The channel closed (remote close, peer connection gone). */
  channelClosed (): void {
    if (this.#channelClosed) return
    this.#channelClosed = true
    this.#finAckWaiter?.()
    if (this.readStatus === 'closed' && this.writeStatus === 'closed') return
    if (this.remoteEnded && this.writeStatus === 'closed') return
    this.pushReset(new StreamResetError('the data channel closed'))
  }

  #onFlag (flag: FlagValue): void {
    switch (flag) {
      case Flag.FIN:
        this.#sendFrame(encodeFlagFrame(Flag.FIN_ACK))
        this.pushEnd()
        break
      case Flag.FIN_ACK:
        this.#finAckWaiter?.()
        break
      case Flag.STOP_SENDING:
        this.markWriteClosed()
        break
      case Flag.RESET_STREAM:
        this.pushReset(new StreamResetError('the remote reset the stream'))
        break
    }
  }

  /** Sends a frame if the channel can still take one; flags are best effort by nature. */
  #sendFrame (frame: Uint8Array): boolean {
    if (this.#channelClosed || !this.channel.isOpen) return false
    try {
      this.channel.send(frame)
      return true
    } catch {
      return false
    }
  }

  protected sendChunk (chunk: Uint8Array): boolean {
    if (this.#channelClosed) throw new StreamClosedError('the data channel is closed')
    this.#outQueue.push(chunk)
    return this.#pump()
  }

  /**
   * Hands queued bytes to the channel in frames while its buffered amount is below the limit
   * (browsers throw once their own send queue, 16 MiB in Chromium, is full); the rest waits
   * for bufferedamountlow. True when everything was handed over and the channel is below it.
   */
  #pump (): boolean {
    while (this.#outQueue.length > 0) {
      const chunk = this.#outQueue[0]
      while (this.#outOffset < chunk.length) {
        if (this.channel.bufferedAmount >= this.#maxBuffered) return false
        const end = Math.min(chunk.length, this.#outOffset + MAX_PAYLOAD_LENGTH)
        this.channel.send(encodeDataFrame(this.#outOffset === 0 && end === chunk.length ? chunk : chunk.subarray(this.#outOffset, end)))
        this.#outOffset = end
      }
      this.#outQueue.shift()
      this.#outOffset = 0
    }
    return this.channel.bufferedAmount < this.#maxBuffered
  }

  protected async sendCloseWrite (): Promise<void> {
    if (!this.#sendFrame(encodeFlagFrame(Flag.FIN))) return
    await new Promise<void>(resolve => {
      const timer = unrefTimeout(() => { done() }, this.#finAckTimeout)
      const done = (): void => {
        clearTimeout(timer)
        this.#finAckWaiter = undefined
        resolve()
      }
      this.#finAckWaiter = done
    })
  }

  protected override onReadClosed (): void {
    if (!this.remoteEnded && this.status !== 'reset') this.#sendFrame(encodeFlagFrame(Flag.STOP_SENDING))
  }

  protected sendReset (_err: Error): void {
    this.#sendFrame(encodeFlagFrame(Flag.RESET_STREAM))
  }

  protected override onFinished (): void {
    if (this.#reserved > 0) this.#release(this.#reserved)
    this.#outQueue.length = 0
    this.#finAckWaiter?.()
    if (!this.#channelClosed) {
      this.#channelClosed = true
      try { this.channel.close() } catch {}
    }
    this.#onDone(this)
  }
}
