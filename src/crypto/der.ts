/**
 * Just enough ASN.1 DER to read and write the key structures libp2p carries (RSA PKCS#1 and
 * SPKI, EC SEC1 and SPKI) and the X.509 certificates of libp2p TLS (OIDs, booleans, times,
 * explicit tags). Reading is strict and bounded: definite minimal lengths only, every
 * length checked against the bytes that remain, so hostile input yields InvalidKeyError.
 */
import { InvalidKeyError, InvalidParametersError } from '../util/errors.ts'
import { concatBytes } from '../util/bytes.ts'

export const TAG_INTEGER = 0x02
export const TAG_BIT_STRING = 0x03
export const TAG_OCTET_STRING = 0x04
export const TAG_NULL = 0x05
export const TAG_OID = 0x06
export const TAG_SEQUENCE = 0x30
export const TAG_BOOLEAN = 0x01
export const TAG_PRINTABLE_STRING = 0x13
export const TAG_UTC_TIME = 0x17
export const TAG_GENERALIZED_TIME = 0x18
export const TAG_SET = 0x31
export const TAG_CONTEXT_0 = 0xa0
export const TAG_CONTEXT_1 = 0xa1
export const TAG_CONTEXT_3 = 0xa3

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
    return this.#readElement(tag).contents
  }

  /** Reads one element of the given tag and returns all of it, header included (what a signature covers). */
  readEncoded (tag: number): Uint8Array {
    const start = this.#pos
    this.#readElement(tag)
    return this.#buf.subarray(start, this.#pos)
  }

  /** Reads an OBJECT IDENTIFIER in dotted form. */
  readOid (): string {
    return decodeOid(this.read(TAG_OID))
  }

  /** Reads a UTCTime or GeneralizedTime (the two forms X.509 validity uses) as a Date. */
  readTime (): Date {
    const tag = this.peekTag()
    if (tag === TAG_UTC_TIME) return decodeTime(this.read(TAG_UTC_TIME), false)
    if (tag === TAG_GENERALIZED_TIME) return decodeTime(this.read(TAG_GENERALIZED_TIME), true)
    throw new InvalidKeyError('expected a DER time')
  }

  #readElement (tag: number): { contents: Uint8Array } {
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
    return { contents: buf.subarray(pos, pos + length) }
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

/** An OBJECT IDENTIFIER element from its dotted form, e.g. "1.3.6.1.4.1.53594.1.1". */
export function derOid (dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number)
  if (arcs.length < 2 || arcs.some(a => !Number.isSafeInteger(a) || a < 0) || arcs[0] > 2) throw new InvalidKeyError(`invalid OID ${dotted}`)
  const bytes: number[] = []
  const pushArc = (arc: number): void => {
    // Base-128, most significant group first, continuation bit on all but the last.
    const groups = [arc % 128]
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) groups.unshift((rest % 128) | 0x80)
    bytes.push(...groups)
  }
  pushArc(arcs[0] * 40 + arcs[1])
  for (const arc of arcs.slice(2)) pushArc(arc)
  return derEncode(TAG_OID, Uint8Array.from(bytes))
}

/** The dotted form of OBJECT IDENTIFIER contents; bounded to arcs below 2^53. */
export function decodeOid (contents: Uint8Array): string {
  if (contents.length === 0) throw new InvalidKeyError('empty DER OID')
  const arcs: number[] = []
  let value = 0
  for (let i = 0; i < contents.length; i++) {
    const b = contents[i]
    if (value === 0 && b === 0x80) throw new InvalidKeyError('DER OID arc is not minimal')
    value = value * 128 + (b & 0x7f)
    if (value > Number.MAX_SAFE_INTEGER) throw new InvalidKeyError('DER OID arc too large')
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80)
      else arcs.push(value)
      value = 0
    } else if (i === contents.length - 1) {
      throw new InvalidKeyError('truncated DER OID')
    }
  }
  return arcs.join('.')
}

export function derBoolean (value: boolean): Uint8Array {
  return Uint8Array.of(TAG_BOOLEAN, 1, value ? 0xff : 0)
}

/** Reads a DER BOOLEAN's contents (DER allows only 0x00 and 0xff). */
export function decodeBoolean (contents: Uint8Array): boolean {
  if (contents.length !== 1 || (contents[0] !== 0 && contents[0] !== 0xff)) throw new InvalidKeyError('invalid DER boolean')
  return contents[0] === 0xff
}

/**
 * An X.509 time: UTCTime for the years 1950-2049 and GeneralizedTime otherwise, as RFC 5280
 * 4.1.2.5 requires, to the second, in UTC.
 */
export function derTime (date: Date): Uint8Array {
  const year = date.getUTCFullYear()
  if (year < 0 || year > 9999) throw new InvalidParametersError('year out of the X.509 range')
  const two = (n: number): string => String(n).padStart(2, '0')
  const rest = two(date.getUTCMonth() + 1) + two(date.getUTCDate()) + two(date.getUTCHours()) + two(date.getUTCMinutes()) + two(date.getUTCSeconds()) + 'Z'
  const utc = year >= 1950 && year < 2050
  const text = (utc ? two(year % 100) : String(year).padStart(4, '0')) + rest
  return derEncode(utc ? TAG_UTC_TIME : TAG_GENERALIZED_TIME, new TextEncoder().encode(text))
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/

function decodeTime (contents: Uint8Array, generalized: boolean): Date {
  // DER times are ASCII digits ending in Z, seconds present, no fractions (RFC 5280 4.1.2.5).
  if (contents.length > 15) throw new InvalidKeyError('DER time too long')
  const match = (generalized ? GENERALIZED_TIME : UTC_TIME).exec(String.fromCharCode(...contents))
  if (match === null) throw new InvalidKeyError('invalid DER time')
  let year = Number(match[1])
  if (!generalized) year += year >= 50 ? 1900 : 2000
  const [month, day, hour, minute, second] = match.slice(2).map(Number)
  const ms = Date.UTC(year, month - 1, day, hour, minute, second)
  const date = new Date(ms)
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) throw new InvalidKeyError('invalid DER time')
  if (year < 100) date.setUTCFullYear(year)
  return date
}
