/**
 * The per-encryption-level state of a connection (RFC 9000 12.3): the keys, the next packet
 * number, which packet numbers arrived (for ACK frames and duplicate detection), when an ACK is
 * owed, and the CRYPTO stream in both directions.
 *
 * The CRYPTO receive side reassembles out-of-order frames but holds at most
 * `MAX_CRYPTO_BUFFER` bytes beyond the delivered offset (RFC 9000 7.5: CRYPTO_BUFFER_EXCEEDED);
 * the send side keeps the level's handshake bytes (a few KiB) until the level's keys go, so any
 * lost range can be sent again.
 */
import type { PacketProtector } from './crypto/types.ts'
import { QuicProtocolError, QuicTransportErrorCode } from './errors.ts'
import { RangeSet } from './range-set.ts'

export const MAX_CRYPTO_BUFFER = 64 * 1024

export class PacketSpace {
  read: PacketProtector | undefined
  write: PacketProtector | undefined
  nextPn = 0
  /** Packet numbers received (bounded; the oldest gaps are forgotten). */
  readonly received = new RangeSet(32)
  largestReceivedTime = 0
  /** Ack-eliciting packets received since we last sent an ACK. */
  ackElicitingSinceAck = 0
  /** Received packet numbers changed since the last ACK we sent. */
  ackDirty = false
  /** When a delayed ACK is due (0: none owed). */
  ackDeadline = 0
  /** The remote's largest packet number we acknowledged and saw acknowledged. */
  discarded = false
  /** Undecryptable packets waiting for this level's keys (copies, bounded). */
  pending: Array<{ datagram: Uint8Array }> = []

  // CRYPTO send side
  #sendData = new Uint8Array(0)
  #sendOffset = 0
  #lost: number[] = []
  // CRYPTO receive side
  #recvOffset = 0
  #segments: Array<{ offset: number, data: Uint8Array }> = []

  /** Queues handshake bytes to send at this level. */
  queueCrypto (bytes: Uint8Array): void {
    const next = new Uint8Array(this.#sendData.length + bytes.length)
    next.set(this.#sendData)
    next.set(bytes, this.#sendData.length)
    this.#sendData = next
  }

  get hasCryptoToSend (): boolean {
    return this.#lost.length > 0 || this.#sendOffset < this.#sendData.length
  }

  /** The next range of CRYPTO bytes to send (a lost one first), at most `max` bytes. */
  nextCrypto (max: number): { offset: number, data: Uint8Array } | undefined {
    if (max <= 0) return undefined
    if (this.#lost.length > 0) {
      const start = this.#lost[0]
      const end = Math.min(this.#lost[1], start + max)
      if (end === this.#lost[1]) this.#lost.splice(0, 2)
      else this.#lost[0] = end
      return { offset: start, data: this.#sendData.subarray(start, end) }
    }
    if (this.#sendOffset >= this.#sendData.length) return undefined
    const start = this.#sendOffset
    const end = Math.min(this.#sendData.length, start + max)
    this.#sendOffset = end
    return { offset: start, data: this.#sendData.subarray(start, end) }
  }

  cryptoLost (offset: number, length: number): void {
    if (!this.discarded) this.#lost.push(offset, offset + length)
  }

  /** Every CRYPTO byte sent so far counts as lost (after a Retry the client starts over). */
  resendAllCrypto (): void {
    this.#lost = this.#sendOffset > 0 ? [0, this.#sendOffset] : []
  }

  /**
   * A CRYPTO frame arrived; calls `deliver` with the bytes that are now in order. `data` is
   * copied when held, since it is a view into a packet.
   */
  receiveCrypto (offset: number, data: Uint8Array, deliver: (bytes: Uint8Array) => void): void {
    const end = offset + data.length
    if (end <= this.#recvOffset) return
    if (end - this.#recvOffset > MAX_CRYPTO_BUFFER) throw new QuicProtocolError(`CRYPTO data up to ${end} is more than ${MAX_CRYPTO_BUFFER} bytes ahead`, QuicTransportErrorCode.CRYPTO_BUFFER_EXCEEDED)
    if (offset > this.#recvOffset) {
      const segs = this.#segments
      let i = segs.length
      while (i > 0 && segs[i - 1].offset > offset) i--
      const prev = segs[i - 1]
      if (prev !== undefined && prev.offset + prev.data.length >= end) return
      if (segs.length >= 256) throw new QuicProtocolError('too many out-of-order CRYPTO fragments', QuicTransportErrorCode.CRYPTO_BUFFER_EXCEEDED)
      segs.splice(i, 0, { offset, data: data.slice() })
      return
    }
    deliver(data.subarray(this.#recvOffset - offset))
    this.#recvOffset = end
    const segs = this.#segments
    while (segs.length > 0 && segs[0].offset <= this.#recvOffset) {
      const seg = segs.shift()!
      const segEnd = seg.offset + seg.data.length
      if (segEnd > this.#recvOffset) {
        deliver(seg.data.subarray(this.#recvOffset - seg.offset))
        this.#recvOffset = segEnd
      }
    }
  }

  /** Drops keys and buffers: nothing more is sent or accepted at this level. */
  discard (): void {
    this.discarded = true
    this.read = undefined
    this.write = undefined
    this.#lost = []
    this.#segments = []
    this.#sendData = new Uint8Array(0)
    this.#sendOffset = 0
    this.pending = []
    this.ackDirty = false
    this.ackElicitingSinceAck = 0
    this.ackDeadline = 0
  }
}
