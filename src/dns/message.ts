/**
 * DNS messages (RFC 1035 section 4, with the mDNS bits of RFC 6762): the encoder and the bounded
 * decoder that mDNS and DNS-over-HTTPS share. Browser-safe.
 *
 * The decoder reads untrusted bytes from the LAN or a remote server, so every dimension has a
 * limit and every violation is an InvalidDnsMessageError: the message size, the record count
 * over all sections, names (255 octets, 63 per label) and compression pointers, which must point
 * strictly backwards (so they cannot loop) and may be followed at most MAX_POINTER_JUMPS times.
 * Record data is decoded for the types libp2p uses (A, AAAA, PTR, TXT, SRV); other types keep
 * their raw bytes. The encoder never compresses: our messages are small, and a plain encoder
 * cannot produce a bad pointer.
 */
import { utf8Encode } from '../util/bytes.ts'
import { parseIp } from '../util/ip.ts'
import { InvalidDnsMessageError } from './errors.ts'

export const RecordType = { A: 1, CNAME: 5, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, ANY: 255 } as const
export const CLASS_IN = 1
/** mDNS: in a question, "unicast response wanted"; in a record, "cache flush" (RFC 6762 5.4, 10.2). */
const CLASS_TOP_BIT = 0x8000

/** Header flag: this message is a response. */
export const FLAG_RESPONSE = 0x8000
/** Header flag: authoritative answer (mDNS responders set it). */
export const FLAG_AUTHORITATIVE = 0x0400
/** Header flag: recursion desired (queries to a recursive resolver set it). */
export const FLAG_RECURSION_DESIRED = 0x0100

export interface DnsQuestion {
  name: string
  type: number
  /** mDNS: ask for a unicast answer (the QU bit). */
  unicastResponse?: boolean
}

export interface DnsRecord {
  name: string
  type: number
  /** Class without the mDNS top bit (1 = IN). */
  recordClass?: number
  /** mDNS: the cache-flush bit. */
  cacheFlush?: boolean
  /** Seconds. */
  ttl: number
  /** A / AAAA: the address in text form. */
  ip?: string
  /** PTR, CNAME and SRV: the name pointed to. */
  target?: string
  /** SRV: the port. */
  port?: number
  /** TXT: the character-strings, decoded as UTF-8. */
  txt?: string[]
  /** Other types: the raw record data. */
  raw?: Uint8Array
}

export interface DnsMessage {
  id: number
  flags: number
  questions: DnsQuestion[]
  answers: DnsRecord[]
  authorities: DnsRecord[]
  additionals: DnsRecord[]
}

export interface DnsDecodeLimits {
  /** Largest message accepted, in bytes (default 65535, the largest a DNS message can be). */
  maxMessageBytes?: number
  /** Questions plus records of all sections, at most (default 256). */
  maxRecords?: number
}

/** Labels and TXT strings are bytes, not necessarily UTF-8: invalid sequences become U+FFFD. */
const lenientDecoder = new TextDecoder('utf-8', { fatal: false })
function utf8Decode (bytes: Uint8Array): string { return lenientDecoder.decode(bytes) }

const MAX_NAME_OCTETS = 255
const MAX_LABEL_OCTETS = 63
const MAX_POINTER_JUMPS = 32
const HEADER_BYTES = 12
const DEFAULT_MAX_MESSAGE_BYTES = 65_535
const DEFAULT_MAX_RECORDS = 256
const MAX_CHARACTER_STRING = 255

/** Decodes one DNS message; throws InvalidDnsMessageError on anything malformed or over a limit. */
export function decodeDnsMessage (bytes: Uint8Array, limits: DnsDecodeLimits = {}): DnsMessage {
  const maxBytes = limits.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  const maxRecords = limits.maxRecords ?? DEFAULT_MAX_RECORDS
  if (bytes.byteLength > maxBytes) throw new InvalidDnsMessageError(`DNS message of ${bytes.byteLength} bytes exceeds the limit of ${maxBytes}`)
  if (bytes.byteLength < HEADER_BYTES) throw new InvalidDnsMessageError(`DNS message of ${bytes.byteLength} bytes is shorter than its header`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const counts = [view.getUint16(4), view.getUint16(6), view.getUint16(8), view.getUint16(10)]
  const total = counts[0] + counts[1] + counts[2] + counts[3]
  if (total > maxRecords) throw new InvalidDnsMessageError(`DNS message announces ${total} questions and records, more than the limit of ${maxRecords}`)
  const reader = { bytes, view, offset: HEADER_BYTES }
  const questions: DnsQuestion[] = []
  for (let i = 0; i < counts[0]; i++) {
    const name = readName(reader)
    need(reader, 4)
    const type = view.getUint16(reader.offset)
    const cls = view.getUint16(reader.offset + 2)
    reader.offset += 4
    questions.push({ name, type, unicastResponse: (cls & CLASS_TOP_BIT) !== 0 })
  }
  const sections: DnsRecord[][] = [[], [], []]
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]; i++) sections[s].push(readRecord(reader))
  }
  if (reader.offset !== bytes.byteLength) throw new InvalidDnsMessageError(`${bytes.byteLength - reader.offset} bytes after the last DNS record`)
  return { id: view.getUint16(0), flags: view.getUint16(2), questions, answers: sections[0], authorities: sections[1], additionals: sections[2] }
}

interface Reader { bytes: Uint8Array, view: DataView, offset: number }

function need (r: Reader, n: number): void {
  if (r.offset + n > r.bytes.byteLength) throw new InvalidDnsMessageError('DNS message truncated')
}

function readRecord (r: Reader): DnsRecord {
  const name = readName(r)
  need(r, 10)
  const type = r.view.getUint16(r.offset)
  const cls = r.view.getUint16(r.offset + 2)
  const ttl = r.view.getUint32(r.offset + 4)
  const length = r.view.getUint16(r.offset + 8)
  r.offset += 10
  need(r, length)
  const start = r.offset
  const end = start + length
  const record: DnsRecord = { name, type, recordClass: cls & ~CLASS_TOP_BIT, cacheFlush: (cls & CLASS_TOP_BIT) !== 0, ttl }
  if (type === RecordType.A) {
    if (length !== 4) throw new InvalidDnsMessageError(`A record with ${length} bytes of data`)
    record.ip = `${r.bytes[start]}.${r.bytes[start + 1]}.${r.bytes[start + 2]}.${r.bytes[start + 3]}`
  } else if (type === RecordType.AAAA) {
    if (length !== 16) throw new InvalidDnsMessageError(`AAAA record with ${length} bytes of data`)
    record.ip = formatIPv6(r.bytes.subarray(start, end))
  } else if (type === RecordType.PTR || type === RecordType.CNAME) {
    record.target = readName(r)
    if (r.offset !== end) throw new InvalidDnsMessageError('PTR or CNAME record data does not end with its name')
  } else if (type === RecordType.SRV) {
    need(r, 6)
    record.port = r.view.getUint16(r.offset + 4)
    r.offset += 6
    record.target = readName(r)
    if (r.offset !== end) throw new InvalidDnsMessageError('SRV record data does not end with its target')
  } else if (type === RecordType.TXT) {
    const strings: string[] = []
    let at = start
    while (at < end) {
      const n = r.bytes[at]
      if (at + 1 + n > end) throw new InvalidDnsMessageError('TXT character-string runs past its record')
      strings.push(utf8Decode(r.bytes.subarray(at + 1, at + 1 + n)))
      at += 1 + n
    }
    record.txt = strings
  } else {
    record.raw = r.bytes.slice(start, end)
  }
  r.offset = end
  return record
}

/** Reads a possibly compressed name at r.offset and moves past it (RFC 1035 4.1.4). */
function readName (r: Reader): string {
  const labels: string[] = []
  let at = r.offset
  let octets = 1
  let jumps = 0
  let resumeAt = -1
  for (;;) {
    if (at >= r.bytes.byteLength) throw new InvalidDnsMessageError('DNS name runs past the message')
    const len = r.bytes[at]
    if (len === 0) {
      at += 1
      break
    }
    const kind = len & 0xc0
    if (kind === 0xc0) {
      if (at + 1 >= r.bytes.byteLength) throw new InvalidDnsMessageError('DNS name pointer truncated')
      const target = ((len & 0x3f) << 8) | r.bytes[at + 1]
      // Backwards only: a pointer to itself or forwards is how a hostile packet makes a loop.
      if (target >= at) throw new InvalidDnsMessageError('DNS name pointer does not point backwards')
      if (++jumps > MAX_POINTER_JUMPS) throw new InvalidDnsMessageError('DNS name follows too many pointers')
      if (resumeAt < 0) resumeAt = at + 2
      at = target
      continue
    }
    if (kind !== 0) throw new InvalidDnsMessageError(`DNS label type 0x${kind.toString(16)} is not supported`)
    if (len > MAX_LABEL_OCTETS) throw new InvalidDnsMessageError('DNS label longer than 63 octets')
    octets += len + 1
    if (octets > MAX_NAME_OCTETS) throw new InvalidDnsMessageError('DNS name longer than 255 octets')
    if (at + 1 + len > r.bytes.byteLength) throw new InvalidDnsMessageError('DNS label runs past the message')
    labels.push(utf8Decode(r.bytes.subarray(at + 1, at + 1 + len)))
    at += 1 + len
  }
  r.offset = resumeAt >= 0 ? resumeAt : at
  return labels.join('.')
}

/** RFC 5952 text form: lower case, longest run of two or more zero groups as `::`. */
function formatIPv6 (b: Uint8Array): string {
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1])
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) { bestStart = i; bestLength = j - i }
    i = j
  }
  const hex = groups.map(g => g.toString(16))
  if (bestStart < 0) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}

export interface DnsMessageInit {
  id?: number
  flags?: number
  questions?: DnsQuestion[]
  answers?: DnsRecord[]
  authorities?: DnsRecord[]
  additionals?: DnsRecord[]
}

/** Encodes a DNS message (no name compression). Throws InvalidDnsMessageError on a bad name or record. */
export function encodeDnsMessage (init: DnsMessageInit): Uint8Array {
  const parts: Uint8Array[] = []
  const header = new Uint8Array(HEADER_BYTES)
  const hv = new DataView(header.buffer)
  const sections = [init.answers ?? [], init.authorities ?? [], init.additionals ?? []]
  const questions = init.questions ?? []
  hv.setUint16(0, init.id ?? 0)
  hv.setUint16(2, init.flags ?? 0)
  hv.setUint16(4, questions.length)
  sections.forEach((s, i) => { hv.setUint16(6 + 2 * i, s.length) })
  parts.push(header)
  for (const q of questions) {
    parts.push(encodeName(q.name))
    parts.push(u16pair(q.type, CLASS_IN | (q.unicastResponse === true ? CLASS_TOP_BIT : 0)))
  }
  for (const section of sections) for (const record of section) parts.push(...encodeRecord(record))
  let length = 0
  for (const p of parts) length += p.byteLength
  if (length > DEFAULT_MAX_MESSAGE_BYTES) throw new InvalidDnsMessageError(`DNS message of ${length} bytes is too large to send`)
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.byteLength }
  return out
}

function u16pair (a: number, b: number): Uint8Array {
  return new Uint8Array([a >> 8, a & 0xff, b >> 8, b & 0xff])
}

function encodeRecord (record: DnsRecord): Uint8Array[] {
  const data = recordData(record)
  const fixed = new Uint8Array(10)
  const v = new DataView(fixed.buffer)
  v.setUint16(0, record.type)
  v.setUint16(2, (record.recordClass ?? CLASS_IN) | (record.cacheFlush === true ? CLASS_TOP_BIT : 0))
  v.setUint32(4, record.ttl)
  v.setUint16(8, data.byteLength)
  return [encodeName(record.name), fixed, data]
}

function recordData (record: DnsRecord): Uint8Array {
  switch (record.type) {
    case RecordType.A:
    case RecordType.AAAA: {
      const ip = record.ip === undefined ? undefined : parseIp(record.ip)
      const want = record.type === RecordType.A ? 4 : 16
      if (ip?.byteLength !== want) throw new InvalidDnsMessageError(`record ${record.name}: '${record.ip}' is not an IPv${want === 4 ? 4 : 6} address`)
      return ip
    }
    case RecordType.PTR:
    case RecordType.CNAME:
      return encodeName(record.target ?? '')
    case RecordType.SRV: {
      const target = encodeName(record.target ?? '')
      const out = new Uint8Array(6 + target.byteLength)
      new DataView(out.buffer).setUint16(4, record.port ?? 0)
      out.set(target, 6)
      return out
    }
    case RecordType.TXT: {
      const strings = (record.txt ?? []).map(utf8Encode)
      if (strings.length === 0) strings.push(new Uint8Array(0))
      let length = 0
      for (const s of strings) {
        if (s.byteLength > MAX_CHARACTER_STRING) throw new InvalidDnsMessageError(`TXT string of ${s.byteLength} bytes exceeds 255`)
        length += 1 + s.byteLength
      }
      const out = new Uint8Array(length)
      let at = 0
      for (const s of strings) { out[at] = s.byteLength; out.set(s, at + 1); at += 1 + s.byteLength }
      return out
    }
    default:
      return record.raw ?? new Uint8Array(0)
  }
}

/** A name in uncompressed wire form; a trailing dot is accepted. */
export function encodeName (name: string): Uint8Array {
  const labels = name.split('.').filter(l => l !== '').map(utf8Encode)
  let length = 1
  for (const l of labels) {
    if (l.byteLength > MAX_LABEL_OCTETS) throw new InvalidDnsMessageError(`DNS label of ${l.byteLength} octets in '${name}'`)
    length += 1 + l.byteLength
  }
  if (length > MAX_NAME_OCTETS) throw new InvalidDnsMessageError(`DNS name '${name.slice(0, 64)}...' longer than 255 octets`)
  const out = new Uint8Array(length)
  let at = 0
  for (const l of labels) { out[at] = l.byteLength; out.set(l, at + 1); at += 1 + l.byteLength }
  return out
}

/** DNS names compare case-insensitively (ASCII) and without a trailing dot. */
export function sameDnsName (a: string, b: string): boolean {
  return a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase()
}
