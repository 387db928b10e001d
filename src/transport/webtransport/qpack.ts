/**
 * The subset of QPACK (RFC 9204) WebTransport needs: field sections that use the static table
 * and literals only. We advertise SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0, so a peer may never
 * refer to a dynamic table; a reference to one is QPACK_DECOMPRESSION_FAILED (section 2.2.3),
 * and the encoder and decoder streams carry nothing we must act on.
 *
 * The decoder is bounded: at most `maxFieldSectionSize` bytes of decoded fields (RFC 9114
 * section 4.2.2's size: name + value + 32 per field) and `MAX_FIELDS` fields, each literal's
 * length checked before it is read.
 */
import { QPACK_STATIC_TABLE } from './qpack-tables.ts'
import { huffmanDecode } from './huffman.ts'
import { Http3Error, Http3ErrorCode } from './errors.ts'

export type HeaderField = readonly [name: string, value: string]

/** Fields per section at most, whatever their size: a bound on per-field work. */
const MAX_FIELDS = 256
const textDecoder = new TextDecoder('utf-8', { fatal: false })
const textEncoder = new TextEncoder()

function fail (message: string): never {
  throw new Http3Error(`QPACK: ${message}`, Http3ErrorCode.QPACK_DECOMPRESSION_FAILED)
}

// ---- encoding --------------------------------------------------------------------------

const exactIndex = new Map<string, number>()
const nameIndex = new Map<string, number>()
QPACK_STATIC_TABLE.forEach(([name, value], i) => {
  exactIndex.set(`${name}\0${value}`, i)
  if (!nameIndex.has(name)) nameIndex.set(name, i)
})

/** Appends an RFC 7541 5.1 prefix integer: `flags` fill the bits above the `prefixBits` prefix. */
function pushInteger (out: number[], flags: number, prefixBits: number, value: number): void {
  const max = (1 << prefixBits) - 1
  if (value < max) {
    out.push(flags | value)
    return
  }
  out.push(flags | max)
  value -= max
  while (value >= 128) {
    out.push((value % 128) | 0x80)
    value = Math.floor(value / 128)
  }
  out.push(value)
}

function pushString (out: number[], flags: number, prefixBits: number, text: string): void {
  const bytes = textEncoder.encode(text)
  pushInteger(out, flags, prefixBits, bytes.length)
  for (const b of bytes) out.push(b)
}

/** Encodes a field section (no dynamic table: prefix 0, 0; names must be lowercase). */
export function encodeFieldSection (fields: readonly HeaderField[]): Uint8Array {
  const out: number[] = [0x00, 0x00]
  for (const [name, value] of fields) {
    const exact = exactIndex.get(`${name}\0${value}`)
    if (exact !== undefined) {
      pushInteger(out, 0xc0, 6, exact) // 1 T=1 index
      continue
    }
    const named = nameIndex.get(name)
    if (named !== undefined) {
      pushInteger(out, 0x50, 4, named) // 01 N=0 T=1 index
      pushString(out, 0x00, 7, value) // H=0
    } else {
      pushString(out, 0x20, 3, name) // 001 N=0 H=0 name length
      pushString(out, 0x00, 7, value)
    }
  }
  return Uint8Array.from(out)
}

// ---- decoding --------------------------------------------------------------------------

class SectionReader {
  readonly buf: Uint8Array
  pos = 0
  constructor (buf: Uint8Array) { this.buf = buf }

  get done (): boolean { return this.pos >= this.buf.length }

  /** An RFC 7541 5.1 integer whose prefix is the low `prefixBits` bits of the current byte. */
  integer (prefixBits: number, limit: number): number {
    if (this.pos >= this.buf.length) fail('truncated integer')
    const max = (1 << prefixBits) - 1
    let value = this.buf[this.pos++] & max
    if (value < max) return value
    let shift = 1
    for (;;) {
      if (this.pos >= this.buf.length) fail('truncated integer')
      const b = this.buf[this.pos++]
      value += (b & 0x7f) * shift
      if (value > limit) fail(`integer above ${limit}`)
      if ((b & 0x80) === 0) return value
      shift *= 128
      if (shift > 2 ** 42) fail('integer encoding too long')
    }
  }

  /** A string literal: H flag at bit `prefixBits`, length in the low `prefixBits` bits. */
  string (prefixBits: number, maxLength: number): string {
    if (this.pos >= this.buf.length) fail('truncated string')
    const huffman = (this.buf[this.pos] & (1 << prefixBits)) !== 0
    const length = this.integer(prefixBits, maxLength)
    if (length > this.buf.length - this.pos) fail('string runs past the field section')
    const raw = this.buf.subarray(this.pos, this.pos + length)
    this.pos += length
    const bytes = huffman ? huffmanDecode(raw, maxLength) : raw
    if (bytes.length > maxLength) fail(`string longer than ${maxLength} bytes`)
    return textDecoder.decode(bytes)
  }
}

function staticEntry (index: number): HeaderField {
  const entry = QPACK_STATIC_TABLE[index]
  if (entry === undefined) fail(`static table index ${index} out of range`)
  return entry
}

/** Decodes one field section; throws Http3Error (QPACK_DECOMPRESSION_FAILED) on bad input. */
export function decodeFieldSection (section: Uint8Array, maxFieldSectionSize: number): HeaderField[] {
  const r = new SectionReader(section)
  const requiredInsertCount = r.integer(8, maxFieldSectionSize)
  if (requiredInsertCount !== 0) fail('field section refers to the dynamic table (capacity 0)')
  r.integer(7, maxFieldSectionSize) // sign bit and delta base: meaningless without a dynamic table
  const fields: HeaderField[] = []
  let size = 0
  while (!r.done) {
    if (fields.length >= MAX_FIELDS) fail(`more than ${MAX_FIELDS} fields`)
    const first = section[r.pos]
    const budget = maxFieldSectionSize - size
    let field: HeaderField
    if ((first & 0x80) !== 0) {
      // Indexed field line: 1 T index(6)
      if ((first & 0x40) === 0) fail('indexed field line refers to the dynamic table')
      field = staticEntry(r.integer(6, QPACK_STATIC_TABLE.length))
    } else if ((first & 0x40) !== 0) {
      // Literal field line with name reference: 01 N T index(4), value
      if ((first & 0x10) === 0) fail('name reference to the dynamic table')
      const [name] = staticEntry(r.integer(4, QPACK_STATIC_TABLE.length))
      field = [name, r.string(7, budget)]
    } else if ((first & 0x20) !== 0) {
      // Literal field line with literal name: 001 N H namelen(3), name, value
      const name = r.string(3, budget)
      field = [name, r.string(7, budget)]
    } else {
      // 0001xxxx indexed post-base, 0000xxxx literal with post-base name: dynamic table only
      fail('post-base reference to the dynamic table')
    }
    size += field[0].length + field[1].length + 32
    if (size > maxFieldSectionSize) fail(`field section larger than ${maxFieldSectionSize} bytes`)
    fields.push(field)
  }
  return fields
}
