/**
 * Bounded reading and writing of TLS 1.3 presentation-language structures (RFC 8446 3):
 * big-endian integers and vectors with 1-, 2- or 3-byte length prefixes. Every read checks the
 * bytes are there and every vector its declared bounds; a violation is a `decode_error` alert,
 * never a crash or an allocation sized by the peer.
 */
import { QuicTlsError, TlsAlert } from './errors.ts'

export class TlsReader {
  private offset = 0
  private readonly bytes: Uint8Array

  constructor (bytes: Uint8Array) {
    this.bytes = bytes
  }

  get remaining (): number {
    return this.bytes.length - this.offset
  }

  get done (): boolean {
    return this.offset === this.bytes.length
  }

  private need (length: number, what: string): void {
    if (length > this.remaining) throw new QuicTlsError(`truncated ${what}: ${length} bytes needed, ${this.remaining} left`, TlsAlert.decodeError)
  }

  uint8 (what = 'uint8'): number {
    this.need(1, what)
    return this.bytes[this.offset++]
  }

  uint16 (what = 'uint16'): number {
    this.need(2, what)
    const value = (this.bytes[this.offset] << 8) | this.bytes[this.offset + 1]
    this.offset += 2
    return value
  }

  uint24 (what = 'uint24'): number {
    this.need(3, what)
    const value = (this.bytes[this.offset] << 16) | (this.bytes[this.offset + 1] << 8) | this.bytes[this.offset + 2]
    this.offset += 3
    return value
  }

  /** `length` raw bytes (a view, not a copy). */
  bytesOf (length: number, what = 'bytes'): Uint8Array {
    this.need(length, what)
    const out = this.bytes.subarray(this.offset, this.offset + length)
    this.offset += length
    return out
  }

  /** A vector `<min..max>` with a length prefix of `prefixBytes` bytes. */
  vector (prefixBytes: 1 | 2 | 3, min: number, max: number, what: string): Uint8Array {
    const length = prefixBytes === 1 ? this.uint8(what) : prefixBytes === 2 ? this.uint16(what) : this.uint24(what)
    if (length < min || length > max) throw new QuicTlsError(`${what} of ${length} bytes is outside ${min}..${max}`, TlsAlert.decodeError)
    return this.bytesOf(length, what)
  }

  /** Fails unless every byte was read (trailing bytes are a decode error). */
  end (what: string): void {
    if (!this.done) throw new QuicTlsError(`${this.remaining} trailing bytes after ${what}`, TlsAlert.decodeError)
  }
}

/** Appends TLS structures into a growing list of parts; `finish` concatenates once. */
export class TlsWriter {
  private readonly parts: Uint8Array[] = []
  private length = 0

  private push (part: Uint8Array): this {
    this.parts.push(part)
    this.length += part.length
    return this
  }

  uint8 (value: number): this {
    return this.push(Uint8Array.of(value & 0xff))
  }

  uint16 (value: number): this {
    return this.push(Uint8Array.of((value >>> 8) & 0xff, value & 0xff))
  }

  uint24 (value: number): this {
    return this.push(Uint8Array.of((value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff))
  }

  raw (bytes: Uint8Array): this {
    return this.push(bytes)
  }

  /** A vector with a length prefix of `prefixBytes` bytes; refuses what the prefix cannot express. */
  vector (prefixBytes: 1 | 2 | 3, bytes: Uint8Array): this {
    const max = prefixBytes === 1 ? 0xff : prefixBytes === 2 ? 0xffff : 0xffffff
    if (bytes.length > max) throw new RangeError(`vector of ${bytes.length} bytes does not fit a ${prefixBytes}-byte length`)
    if (prefixBytes === 1) this.uint8(bytes.length)
    else if (prefixBytes === 2) this.uint16(bytes.length)
    else this.uint24(bytes.length)
    return this.push(bytes)
  }

  finish (): Uint8Array {
    const out = new Uint8Array(this.length)
    let offset = 0
    for (const part of this.parts) {
      out.set(part, offset)
      offset += part.length
    }
    return out
  }
}
