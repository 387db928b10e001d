/**
 * Unsigned LEB128 varints as multiformats' unsigned-varint defines them: minimally encoded, at
 * most 9 bytes (63 bits). Values above 2^53 - 1 are rejected because they cannot be JavaScript
 * numbers exactly; no libp2p length or id needs them.
 */
import { InvalidMessageError, InvalidParametersError } from './errors.ts'

/** The most bytes a varint may take. */
export const MAX_VARINT_BYTES = 9

/** Number of bytes `value` takes as a varint. */
export function varintLength (value: number): number {
  if (value < 0x80) return 1
  if (value < 0x4000) return 2
  if (value < 0x200000) return 3
  if (value < 0x10000000) return 4
  let n = 4
  let v = Math.floor(value / 0x10000000)
  while (v > 0) { n++; v = Math.floor(v / 0x80) }
  return n
}

/** Writes `value` into `buf` at `offset`; returns the offset after it. */
export function encodeVarintInto (value: number, buf: Uint8Array, offset: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidParametersError(`cannot encode ${value} as an unsigned varint`)
  while (value >= 0x80) {
    buf[offset++] = (value & 0x7f) | 0x80
    value = value >= 0x80000000 ? Math.floor(value / 0x80) : value >>> 7
  }
  buf[offset++] = value
  return offset
}

export function encodeVarint (value: number): Uint8Array {
  const buf = new Uint8Array(varintLength(value))
  encodeVarintInto(value, buf, 0)
  return buf
}

/**
 * Decodes a varint from `buf` at `offset`. Returns `[value, bytesRead]`, or `undefined` when the
 * buffer ends before the varint does (the caller needs more bytes). Throws InvalidMessageError
 * for non-minimal encodings, more than `maxBytes` bytes or values above 2^53 - 1.
 */
export function decodeVarint (buf: Uint8Array, offset: number = 0, maxBytes: number = MAX_VARINT_BYTES): [number, number] | undefined {
  let value = 0
  let scale = 1
  for (let i = 0; i < maxBytes; i++) {
    if (offset + i >= buf.length) return undefined
    const b = buf[offset + i]
    value += (b & 0x7f) * scale
    if ((b & 0x80) === 0) {
      if (b === 0 && i > 0) throw new InvalidMessageError('varint is not minimally encoded')
      if (!Number.isSafeInteger(value)) throw new InvalidMessageError('varint exceeds 2^53 - 1')
      return [value, i + 1]
    }
    scale *= 128
  }
  throw new InvalidMessageError(`varint longer than ${maxBytes} bytes`)
}
