/**
 * QUIC variable-length integers (RFC 9000 section 16) and a bounded cursor over a datagram.
 *
 * Values are JavaScript numbers: every QUIC quantity we keep (offsets, limits, packet numbers)
 * stays below 2^53 in practice. A decoded 8-byte value above 2^53 - 1 saturates at
 * Number.MAX_SAFE_INTEGER, which is what a limit of "effectively unlimited" (some peers send
 * 2^62 - 1) means to us; an offset that large is rejected by the flow-control checks.
 *
 * The reader never copies: `bytes(n)` returns a view into the datagram, so whoever keeps it
 * past the datagram's life must copy it.
 */
import { QuicDecodeError } from './errors.ts'

export const MAX_VARINT = 2 ** 62 - 1
const TWO_32 = 2 ** 32

export function varintLength (value: number): number {
  if (value < 64) return 1
  if (value < 16384) return 2
  if (value < 1073741824) return 4
  return 8
}

/** Writes `value` at `offset`, returns the offset after it. The caller sized `buf`. */
export function writeVarint (buf: Uint8Array, offset: number, value: number): number {
  // The common one- and two-byte cases stay inline; the rest share writeVarintFixed.
  if (value < 64) {
    buf[offset] = value
    return offset + 1
  }
  if (value < 16384) {
    buf[offset] = 0x40 | (value >>> 8)
    buf[offset + 1] = value & 0xff
    return offset + 2
  }
  if (value < 1073741824) return writeVarintFixed(buf, offset, value, 4)
  if (!(value <= Number.MAX_SAFE_INTEGER) || value < 0) throw new RangeError(`varint out of range: ${value}`)
  return writeVarintFixed(buf, offset, value, 8)
}

/** Writes `value` as exactly `length` bytes (1, 2, 4 or 8), for lengths patched in afterwards. */
export function writeVarintFixed (buf: Uint8Array, offset: number, value: number, length: 1 | 2 | 4 | 8): number {
  if (length === 1) { buf[offset] = value; return offset + 1 }
  if (length === 2) { buf[offset] = 0x40 | (value >>> 8); buf[offset + 1] = value & 0xff; return offset + 2 }
  if (length === 4) {
    buf[offset] = 0x80 | (value >>> 24)
    buf[offset + 1] = (value >>> 16) & 0xff
    buf[offset + 2] = (value >>> 8) & 0xff
    buf[offset + 3] = value & 0xff
    return offset + 4
  }
  const hi = Math.floor(value / TWO_32)
  const lo = value >>> 0
  buf[offset] = 0xc0 | (hi >>> 24)
  buf[offset + 1] = (hi >>> 16) & 0xff
  buf[offset + 2] = (hi >>> 8) & 0xff
  buf[offset + 3] = hi & 0xff
  buf[offset + 4] = lo >>> 24
  buf[offset + 5] = (lo >>> 16) & 0xff
  buf[offset + 6] = (lo >>> 8) & 0xff
  buf[offset + 7] = lo & 0xff
  return offset + 8
}

/** A bounded cursor: every read checks the end and throws QuicDecodeError past it. */
export class QuicReader {
  buf: Uint8Array
  pos: number
  end: number

  constructor (buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf
    this.pos = pos
    this.end = end
  }

  get remaining (): number { return this.end - this.pos }

  u8 (): number {
    if (this.pos >= this.end) throw new QuicDecodeError('truncated: expected a byte')
    return this.buf[this.pos++]
  }

  u16 (): number {
    if (this.pos + 2 > this.end) throw new QuicDecodeError('truncated: expected 2 bytes')
    const v = (this.buf[this.pos] << 8) | this.buf[this.pos + 1]
    this.pos += 2
    return v
  }

  u32 (): number {
    if (this.pos + 4 > this.end) throw new QuicDecodeError('truncated: expected 4 bytes')
    const b = this.buf
    const p = this.pos
    this.pos += 4
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0
  }

  varint (): number {
    if (this.pos >= this.end) throw new QuicDecodeError('truncated varint')
    const b = this.buf
    const first = b[this.pos]
    const prefix = first >>> 6
    if (prefix === 0) { this.pos += 1; return first }
    if (prefix === 1) {
      if (this.pos + 2 > this.end) throw new QuicDecodeError('truncated varint')
      const v = ((first & 0x3f) << 8) | b[this.pos + 1]
      this.pos += 2
      return v
    }
    if (prefix === 2) {
      if (this.pos + 4 > this.end) throw new QuicDecodeError('truncated varint')
      const p = this.pos
      this.pos += 4
      return (((first & 0x3f) << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0
    }
    if (this.pos + 8 > this.end) throw new QuicDecodeError('truncated varint')
    const p = this.pos
    this.pos += 8
    const hi = (((first & 0x3f) << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0
    const lo = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0
    // Above 2^53 - 1 the value saturates (see the module doc).
    if (hi >= 0x200000) return Number.MAX_SAFE_INTEGER
    return hi * TWO_32 + lo
  }

  /** A view of the next `n` bytes (no copy). */
  bytes (n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) throw new QuicDecodeError(`truncated: expected ${n} bytes, ${this.end - this.pos} left`)
    const v = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return v
  }

  skip (n: number): void {
    if (n < 0 || this.pos + n > this.end) throw new QuicDecodeError(`truncated: cannot skip ${n} bytes`)
    this.pos += n
  }
}
