/**
 * Just enough ASN.1 DER to read and write the key structures libp2p carries (RSA PKCS#1 and
 * SPKI, EC SEC1 and SPKI). Reading is strict and bounded: definite minimal lengths only, every
 * length checked against the bytes that remain, so hostile input yields InvalidKeyError.
 */
import { InvalidKeyError } from '../util/errors.ts'
import { concatBytes } from '../util/bytes.ts'

export const TAG_INTEGER = 0x02
export const TAG_BIT_STRING = 0x03
export const TAG_OCTET_STRING = 0x04
export const TAG_NULL = 0x05
export const TAG_OID = 0x06
export const TAG_SEQUENCE = 0x30
export const TAG_CONTEXT_0 = 0xa0
export const TAG_CONTEXT_1 = 0xa1

/** A cursor over DER elements inside one constructed value. */
export class DerReader {
  readonly #buf: Uint8Array
  #pos = 0

  constructor (buf: Uint8Array) {
    this.#buf = buf
  }

  get done (): boolean { return this.#pos >= this.#buf.length }

  peekTag (): number | undefined {
    return this.#pos < this.#buf.length ? this.#buf[this.#pos] : undefined
  }

  /** Reads one element of the given tag and returns its contents (a view, no copy). */
  read (tag: number): Uint8Array {
    const buf = this.#buf
    if (this.#pos + 2 > buf.length) throw new InvalidKeyError('truncated DER element')
    const actual = buf[this.#pos]
    if (actual !== tag) throw new InvalidKeyError(`DER tag 0x${actual.toString(16)}, expected 0x${tag.toString(16)}`)
    let length = buf[this.#pos + 1]
    let pos = this.#pos + 2
    if (length >= 0x80) {
      const count = length & 0x7f
      // Four length bytes describe 4 GiB, far beyond any key; indefinite length (0x80) is BER.
      if (count === 0 || count > 4) throw new InvalidKeyError('unsupported DER length')
      if (pos + count > buf.length) throw new InvalidKeyError('truncated DER length')
      length = 0
      for (let i = 0; i < count; i++) length = length * 256 + buf[pos + i]
      if (length < 0x80 || buf[pos] === 0) throw new InvalidKeyError('DER length is not minimal')
      pos += count
    }
    if (length > buf.length - pos) throw new InvalidKeyError('DER length exceeds input')
    this.#pos = pos + length
    return buf.subarray(pos, pos + length)
  }

  /** Reads a non-negative INTEGER and returns its magnitude without the sign padding byte. */
  readUnsignedInteger (): Uint8Array {
    const v = this.read(TAG_INTEGER)
    if (v.length === 0) throw new InvalidKeyError('empty DER integer')
    if ((v[0] & 0x80) !== 0) throw new InvalidKeyError('negative DER integer')
    if (v.length > 1 && v[0] === 0 && (v[1] & 0x80) === 0) throw new InvalidKeyError('DER integer is not minimal')
    return v[0] === 0 && v.length > 1 ? v.subarray(1) : v
  }

  /** Reads a BIT STRING with no unused bits and returns its bytes. */
  readBitString (): Uint8Array {
    const v = this.read(TAG_BIT_STRING)
    if (v.length === 0 || v[0] !== 0) throw new InvalidKeyError('unsupported DER bit string')
    return v.subarray(1)
  }

  /** Throws unless every byte was consumed: trailing garbage makes a key ambiguous. */
  end (): void {
    if (!this.done) throw new InvalidKeyError('trailing bytes after DER value')
  }
}

/** One DER element. */
export function derEncode (tag: number, ...contents: Uint8Array[]): Uint8Array {
  const body = concatBytes(contents)
  const n = body.length
  let header: number[]
  if (n < 0x80) header = [tag, n]
  else if (n < 0x100) header = [tag, 0x81, n]
  else if (n < 0x10000) header = [tag, 0x82, n >> 8, n & 0xff]
  else header = [tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]
  const out = new Uint8Array(header.length + n)
  out.set(header)
  out.set(body, header.length)
  return out
}

/** A non-negative INTEGER from big-endian magnitude bytes. */
export function derUnsignedInteger (magnitude: Uint8Array): Uint8Array {
  let start = 0
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++
  const m = magnitude.subarray(start)
  return (m[0] & 0x80) !== 0 ? derEncode(TAG_INTEGER, Uint8Array.of(0), m) : derEncode(TAG_INTEGER, m)
}

export function derBitString (bytes: Uint8Array): Uint8Array {
  return derEncode(TAG_BIT_STRING, Uint8Array.of(0), bytes)
}

/** Number of significant bits in a big-endian magnitude. */
export function bitLength (magnitude: Uint8Array): number {
  let i = 0
  while (i < magnitude.length && magnitude[i] === 0) i++
  if (i === magnitude.length) return 0
  return (magnitude.length - i - 1) * 8 + (32 - Math.clz32(magnitude[i]))
}
