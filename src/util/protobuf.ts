/**
 * A minimal protobuf wire-format reader and writer.
 *
 * Why hand-written rather than generated: libp2p signs and hashes protobuf bytes (keys, peer
 * records, envelopes, pubsub messages), so encoding must be deterministic and field-exact
 * (e.g. an RSA key's `Type = 0` must be written although proto3 would drop it). Generated code
 * from the usual generators either hides those choices or uses TypeScript namespaces/enums,
 * which Node's type stripping cannot run. Each message in this codebase is encoded by a short
 * function that writes its fields in tag order, and decoded by a loop over `ProtobufReader`,
 * which is bounded: every length is checked against the bytes that remain, so hostile input
 * yields InvalidMessageError, never an over-read or a large allocation.
 */
import { InvalidMessageError } from './errors.ts'
import { decodeVarint, encodeVarintInto, varintLength } from './varint.ts'
import { utf8Decode, utf8Encode } from './bytes.ts'

export const WIRE_VARINT = 0
export const WIRE_FIXED64 = 1
export const WIRE_LENGTH_DELIMITED = 2
export const WIRE_FIXED32 = 5

export class ProtobufWriter {
  #buf: Uint8Array
  #pos = 0

  constructor (initialSize: number = 128) {
    this.#buf = new Uint8Array(initialSize)
  }

  #ensure (n: number): void {
    if (this.#pos + n <= this.#buf.length) return
    let size = this.#buf.length * 2
    while (size < this.#pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.#buf.subarray(0, this.#pos))
    this.#buf = next
  }

  #varint (v: number): void {
    this.#ensure(10)
    this.#pos = encodeVarintInto(v, this.#buf, this.#pos)
  }

  #tag (field: number, wire: number): void {
    this.#varint(field * 8 + wire)
  }

  /** uint32, uint64 (as a safe-integer number), enum, bool. */
  uint (field: number, value: number | boolean): this {
    this.#tag(field, WIRE_VARINT)
    this.#varint(typeof value === 'boolean' ? (value ? 1 : 0) : value)
    return this
  }

  /** uint64 from a bigint (e.g. sequence numbers that may exceed 2^53). */
  uint64 (field: number, value: bigint): this {
    this.#tag(field, WIRE_VARINT)
    this.#ensure(10)
    let v = BigInt.asUintN(64, value)
    while (v >= 0x80n) {
      this.#buf[this.#pos++] = Number(v & 0x7fn) | 0x80
      v >>= 7n
    }
    this.#buf[this.#pos++] = Number(v)
    return this
  }

  /** int64 / int32 (two's complement, 10 bytes when negative). */
  int64 (field: number, value: number | bigint): this {
    return this.uint64(field, BigInt(value))
  }

  fixed64 (field: number, value: bigint): this {
    this.#tag(field, WIRE_FIXED64)
    this.#ensure(8)
    new DataView(this.#buf.buffer, this.#buf.byteOffset).setBigUint64(this.#pos, BigInt.asUintN(64, value), true)
    this.#pos += 8
    return this
  }

  bytes (field: number, value: Uint8Array): this {
    this.#tag(field, WIRE_LENGTH_DELIMITED)
    this.#varint(value.length)
    this.#ensure(value.length)
    this.#buf.set(value, this.#pos)
    this.#pos += value.length
    return this
  }

  string (field: number, value: string): this {
    return this.bytes(field, utf8Encode(value))
  }

  /** The encoded bytes (a view of the internal buffer; do not write to the writer after). */
  finish (): Uint8Array {
    return this.#buf.subarray(0, this.#pos)
  }
}

/** Encoded size of a length-delimited field, handy for pre-sizing writers. */
export function lengthDelimitedSize (field: number, length: number): number {
  return varintLength(field * 8) + varintLength(length) + length
}

export class ProtobufReader {
  readonly buf: Uint8Array
  #pos: number
  readonly #end: number

  constructor (buf: Uint8Array) {
    this.buf = buf
    this.#pos = 0
    this.#end = buf.length
  }

  get done (): boolean { return this.#pos >= this.#end }

  #varint (): number {
    const r = decodeVarint(this.buf, this.#pos, 10)
    if (r === undefined) throw new InvalidMessageError('truncated protobuf varint')
    this.#pos += r[1]
    return r[0]
  }

  /** Reads the next field tag: `[fieldNumber, wireType]`. */
  tag (): [number, number] {
    const t = this.#varint()
    const field = Math.floor(t / 8)
    const wire = t & 7
    if (field === 0) throw new InvalidMessageError('protobuf field number 0')
    return [field, wire]
  }

  #expect (actual: number, wire: number): void {
    if (actual !== wire) throw new InvalidMessageError(`protobuf wire type ${actual}, expected ${wire}`)
  }

  uint (wire: number): number {
    this.#expect(wire, WIRE_VARINT)
    return this.#varint()
  }

  bool (wire: number): boolean {
    return this.uint(wire) !== 0
  }

  uint64 (wire: number): bigint {
    this.#expect(wire, WIRE_VARINT)
    let result = 0n
    let shift = 0n
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.#end) throw new InvalidMessageError('truncated protobuf varint')
      const b = this.buf[this.#pos++]
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result)
      shift += 7n
    }
    throw new InvalidMessageError('protobuf varint too long')
  }

  int64 (wire: number): bigint {
    return BigInt.asIntN(64, this.uint64(wire))
  }

  fixed64 (wire: number): bigint {
    this.#expect(wire, WIRE_FIXED64)
    if (this.#pos + 8 > this.#end) throw new InvalidMessageError('truncated protobuf fixed64')
    const v = new DataView(this.buf.buffer, this.buf.byteOffset).getBigUint64(this.#pos, true)
    this.#pos += 8
    return v
  }

  /** A length-delimited field as a view into the input (no copy). */
  bytes (wire: number, maxLength: number = Infinity): Uint8Array {
    this.#expect(wire, WIRE_LENGTH_DELIMITED)
    const len = this.#varint()
    if (len > this.#end - this.#pos) throw new InvalidMessageError('protobuf length exceeds message')
    if (len > maxLength) throw new InvalidMessageError(`protobuf field of ${len} bytes exceeds ${maxLength}`)
    const out = this.buf.subarray(this.#pos, this.#pos + len)
    this.#pos += len
    return out
  }

  string (wire: number, maxLength: number = Infinity): string {
    const b = this.bytes(wire, maxLength)
    try {
      return utf8Decode(b)
    } catch {
      throw new InvalidMessageError('protobuf string is not valid UTF-8')
    }
  }

  /** Skips a field of an unknown number (forward compatibility). */
  skip (wire: number): void {
    switch (wire) {
      case WIRE_VARINT: this.#varint(); return
      case WIRE_FIXED64:
        if (this.#pos + 8 > this.#end) throw new InvalidMessageError('truncated protobuf fixed64')
        this.#pos += 8; return
      case WIRE_LENGTH_DELIMITED: this.bytes(wire); return
      case WIRE_FIXED32:
        if (this.#pos + 4 > this.#end) throw new InvalidMessageError('truncated protobuf fixed32')
        this.#pos += 4; return
      default: throw new InvalidMessageError(`unsupported protobuf wire type ${wire}`)
    }
  }
}

/**
 * Guards repeated fields against hostile counts: throws when `list` would grow past `max`.
 */
export function pushBounded<T> (list: T[], item: T, max: number, what: string): void {
  if (list.length >= max) throw new InvalidMessageError(`more than ${max} ${what}`)
  list.push(item)
}
