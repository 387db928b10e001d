/**
 * HTTP/3 framing (RFC 9114 section 7) and the stream types and settings WebTransport over
 * HTTP/3 uses (RFC 9220 extended CONNECT, RFC 9297 datagrams, draft-ietf-webtrans-http3).
 *
 * A frame is `type (varint) | length (varint) | payload`. Reads go through a StreamReader (the
 * bytes after the last frame read can be handed back to the stream), each with a payload limit
 * checked before any byte of the payload is buffered. Unknown frame types are skipped (7.2.8),
 * types reserved from HTTP/2 are FRAME_UNEXPECTED.
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { StreamReader } from '../../util/stream-reader.ts'
import { UnexpectedEOFError } from '../../util/errors.ts'
import { varintLength, writeVarint } from '../quic/varint.ts'
import { Http3Error, Http3ErrorCode } from './errors.ts'

export const Http3FrameType = {
  DATA: 0x00,
  HEADERS: 0x01,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d
} as const

/** Frame types of HTTP/2 that HTTP/3 reserves: receiving one is FRAME_UNEXPECTED (7.2.8). */
const HTTP2_FRAME_TYPES = new Set([0x02, 0x06, 0x08, 0x09])

/** The first varint of a unidirectional stream (RFC 9114 6.2, RFC 9204 4.2, WebTransport). */
export const Http3StreamType = {
  CONTROL: 0x00,
  PUSH: 0x01,
  QPACK_ENCODER: 0x02,
  QPACK_DECODER: 0x03,
  WEBTRANSPORT_UNI: 0x54
} as const

/** The first varint of a WebTransport bidirectional stream, followed by the session id. */
export const WEBTRANSPORT_BIDI_SIGNAL = 0x41

/**
 * Setting identifiers. WebTransport's went through several drafts and the peers we meet read
 * different ones: Chromium and webtransport-go v0.13 look for ENABLE_WEBTRANSPORT (draft 02-06)
 * or WT_ENABLED / WT_MAX_SESSIONS (recent drafts); webtransport-go's client requires WT_ENABLED.
 * We send all of them, as webtransport-go's server does.
 */
export const Http3Setting = {
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  MAX_FIELD_SECTION_SIZE: 0x06,
  QPACK_BLOCKED_STREAMS: 0x07,
  ENABLE_CONNECT_PROTOCOL: 0x08,
  H3_DATAGRAM: 0x33,
  /** draft-ietf-masque-h3-datagram-04, still read by older peers. */
  H3_DATAGRAM_DRAFT04: 0xffd277,
  ENABLE_WEBTRANSPORT_DRAFT06: 0x2b603742,
  WEBTRANSPORT_MAX_SESSIONS_DRAFT07: 0xc671706a,
  WT_ENABLED: 0x2c7cf000,
  WT_MAX_SESSIONS: 0x14e9cd29
} as const

/** HTTP/2 setting ids HTTP/3 forbids (RFC 9114 7.2.4.1). */
const HTTP2_SETTINGS = new Set([0x00, 0x02, 0x03, 0x04, 0x05])
/** Settings per SETTINGS frame at most: a bound on the map we build. */
const MAX_SETTINGS = 64

export interface Http3Frame {
  type: number
  /** A view into the reader's buffer: copy it to keep it past the next read. */
  payload: Uint8Array
}

export function encodeFrame (type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintLength(type) + varintLength(payload.length) + payload.length)
  let o = writeVarint(out, 0, type)
  o = writeVarint(out, o, payload.length)
  out.set(payload, o)
  return out
}

/** Just the frame header (type, length), for a payload written separately. */
export function encodeFrameHeader (type: number, length: number): Uint8Array {
  const out = new Uint8Array(varintLength(type) + varintLength(length))
  writeVarint(out, writeVarint(out, 0, type), length)
  return out
}

export function encodeVarints (...values: number[]): Uint8Array {
  let n = 0
  for (const v of values) n += varintLength(v)
  const out = new Uint8Array(n)
  let o = 0
  for (const v of values) o = writeVarint(out, o, v)
  return out
}

export function encodeSettings (settings: ReadonlyMap<number, number>): Uint8Array {
  const values: number[] = []
  for (const [id, value] of settings) values.push(id, value)
  return encodeFrame(Http3FrameType.SETTINGS, encodeVarints(...values))
}

/** A bounded varint cursor over one frame payload. */
class PayloadReader {
  readonly buf: Uint8Array
  pos = 0
  constructor (buf: Uint8Array) { this.buf = buf }
  get done (): boolean { return this.pos >= this.buf.length }
  varint (what: string): number {
    const r = decodeVarintAt(this.buf, this.pos)
    if (r === undefined) throw new Http3Error(`truncated ${what}`, Http3ErrorCode.FRAME_ERROR)
    this.pos += r[1]
    return r[0]
  }
}

/** [value, bytes] of the QUIC varint at `offset`, or undefined when `buf` ends inside it. */
export function decodeVarintAt (buf: Uint8Array, offset: number): [number, number] | undefined {
  if (offset >= buf.length) return undefined
  const length = 1 << (buf[offset] >> 6)
  if (offset + length > buf.length) return undefined
  let value = buf[offset] & 0x3f
  for (let i = 1; i < length; i++) value = value * 256 + buf[offset + i]
  return [value, length]
}

export function decodeSettings (payload: Uint8Array): Map<number, number> {
  const r = new PayloadReader(payload)
  const settings = new Map<number, number>()
  while (!r.done) {
    const id = r.varint('setting id')
    const value = r.varint('setting value')
    if (HTTP2_SETTINGS.has(id)) throw new Http3Error(`HTTP/2 setting 0x${id.toString(16)} in HTTP/3`, Http3ErrorCode.SETTINGS_ERROR)
    if (settings.has(id)) throw new Http3Error(`setting 0x${id.toString(16)} repeated`, Http3ErrorCode.SETTINGS_ERROR)
    if (settings.size >= MAX_SETTINGS) throw new Http3Error(`more than ${MAX_SETTINGS} settings`, Http3ErrorCode.EXCESSIVE_LOAD)
    settings.set(id, value)
  }
  return settings
}

export function encodeGoaway (id: number): Uint8Array {
  return encodeFrame(Http3FrameType.GOAWAY, encodeVarints(id))
}

export function decodeGoaway (payload: Uint8Array): number {
  const r = new PayloadReader(payload)
  const id = r.varint('GOAWAY id')
  if (!r.done) throw new Http3Error('GOAWAY with trailing bytes', Http3ErrorCode.FRAME_ERROR)
  return id
}

/** One QUIC varint from a stream; null at a clean end before its first byte. */
export async function readStreamVarint (reader: StreamReader, options?: AbortOptions): Promise<number | null> {
  let first: Uint8Array
  try {
    first = await reader.readExactly(1, options)
  } catch (err) {
    if (err instanceof UnexpectedEOFError) return null
    throw err
  }
  const length = 1 << (first[0] >> 6)
  let value = first[0] & 0x3f
  if (length > 1) {
    const rest = await reader.readExactly(length - 1, options)
    for (let i = 0; i < rest.length; i++) value = value * 256 + rest[i]
  }
  return value
}

export interface ReadFrameOptions extends AbortOptions {
  /** Largest payload accepted (bigger is EXCESSIVE_LOAD, before any of it is buffered). */
  maxPayload: number
}

/**
 * The next known frame on a stream (unknown and reserved-grease types are skipped, within the
 * same payload limit); null at a clean end-of-stream between frames.
 */
export async function readFrame (reader: StreamReader, options: ReadFrameOptions): Promise<Http3Frame | null> {
  for (;;) {
    const type = await readStreamVarint(reader, options)
    if (type === null) return null
    const length = await readStreamVarint(reader, options)
    if (length === null) throw new Http3Error('stream ended inside a frame header', Http3ErrorCode.FRAME_ERROR)
    if (HTTP2_FRAME_TYPES.has(type)) throw new Http3Error(`HTTP/2 frame type 0x${type.toString(16)}`, Http3ErrorCode.FRAME_UNEXPECTED)
    if (length > options.maxPayload) throw new Http3Error(`frame 0x${type.toString(16)} of ${length} bytes exceeds the ${options.maxPayload} byte limit`, Http3ErrorCode.EXCESSIVE_LOAD)
    let payload: Uint8Array
    try {
      payload = await reader.readExactly(length, options)
    } catch (err) {
      if (err instanceof UnexpectedEOFError) throw new Http3Error('stream ended inside a frame', Http3ErrorCode.FRAME_ERROR, { cause: err })
      throw err
    }
    if (isKnownFrameType(type)) return { type, payload }
  }
}

function isKnownFrameType (type: number): boolean {
  return type === Http3FrameType.DATA || type === Http3FrameType.HEADERS || type === Http3FrameType.CANCEL_PUSH ||
    type === Http3FrameType.SETTINGS || type === Http3FrameType.PUSH_PROMISE || type === Http3FrameType.GOAWAY ||
    type === Http3FrameType.MAX_PUSH_ID
}
