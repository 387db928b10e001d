/**
 * QUIC frames (RFC 9000 section 19): one decoder that reads the next frame of a decrypted
 * payload, and one small writer per frame type that writes into a caller-sized buffer.
 *
 * Decoding is bounded by the payload: lengths are checked against what is left, ACK ranges
 * against the largest acknowledged number, stream ids, offsets and limits against RFC 9000's
 * maxima; a violation throws QuicDecodeError with FRAME_ENCODING_ERROR (or the code the RFC
 * names). Data fields (STREAM, CRYPTO, NEW_TOKEN, reasons) are views into the payload, not
 * copies: the connection copies what it keeps beyond the datagram's life.
 */
import { QuicDecodeError, QuicTransportErrorCode } from './errors.ts'
import { QuicReader, varintLength, writeVarint } from './varint.ts'

export const FrameType = {
  PADDING: 0x00,
  PING: 0x01,
  ACK: 0x02,
  ACK_ECN: 0x03,
  RESET_STREAM: 0x04,
  STOP_SENDING: 0x05,
  CRYPTO: 0x06,
  NEW_TOKEN: 0x07,
  STREAM: 0x08,
  MAX_DATA: 0x10,
  MAX_STREAM_DATA: 0x11,
  MAX_STREAMS_BIDI: 0x12,
  MAX_STREAMS_UNI: 0x13,
  DATA_BLOCKED: 0x14,
  STREAM_DATA_BLOCKED: 0x15,
  STREAMS_BLOCKED_BIDI: 0x16,
  STREAMS_BLOCKED_UNI: 0x17,
  NEW_CONNECTION_ID: 0x18,
  RETIRE_CONNECTION_ID: 0x19,
  PATH_CHALLENGE: 0x1a,
  PATH_RESPONSE: 0x1b,
  CONNECTION_CLOSE: 0x1c,
  CONNECTION_CLOSE_APP: 0x1d,
  HANDSHAKE_DONE: 0x1e
} as const

/**
 * Offsets are bounded by 2^62 (RFC 9000 4.5). Stream counts above 2^60 cannot be told apart:
 * varints above 2^53 saturate (varint.ts), and a saturated count is merely "unlimited".
 */
const MAX_OFFSET = 2 ** 62 - 1
/** A reason phrase longer than this is refused (we never need more than a line of text). */
export const MAX_REASON_LENGTH = 1024
/** NEW_TOKEN tokens we accept (ours are far smaller). */
export const MAX_TOKEN_LENGTH = 512

/** ACK ranges, newest first: [largest0, smallest0, largest1, smallest1, ...]. */
export interface AckFrame {
  type: 'ack'
  largest: number
  /** Raw ack delay field (scale by the peer's ack_delay_exponent). */
  delay: number
  ranges: number[]
  ecn?: { ect0: number, ect1: number, ce: number }
}

export type Frame =
  | { type: 'padding', length: number }
  | { type: 'ping' }
  | AckFrame
  /** `reliableSize` is set for RESET_STREAM_AT (0x24, draft-ietf-quic-reliable-stream-reset). */
  | { type: 'reset_stream', streamId: number, errorCode: number, finalSize: number, reliableSize?: number }
  | { type: 'stop_sending', streamId: number, errorCode: number }
  | { type: 'crypto', offset: number, data: Uint8Array }
  | { type: 'new_token', token: Uint8Array }
  | { type: 'stream', streamId: number, offset: number, data: Uint8Array, fin: boolean }
  | { type: 'max_data', maximum: number }
  | { type: 'max_stream_data', streamId: number, maximum: number }
  | { type: 'max_streams', bidi: boolean, maximum: number }
  | { type: 'data_blocked', limit: number }
  | { type: 'stream_data_blocked', streamId: number, limit: number }
  | { type: 'streams_blocked', bidi: boolean, limit: number }
  | { type: 'new_connection_id', sequence: number, retirePriorTo: number, connectionId: Uint8Array, resetToken: Uint8Array }
  | { type: 'retire_connection_id', sequence: number }
  | { type: 'path_challenge', data: Uint8Array }
  | { type: 'path_response', data: Uint8Array }
  | { type: 'connection_close', application: boolean, errorCode: number, frameType: number, reason: Uint8Array }
  | { type: 'handshake_done' }
  /** RFC 9221 DATAGRAM (0x30 / 0x31 with a length). */
  | { type: 'datagram', data: Uint8Array }

/** Frame types allowed in Initial and Handshake packets (RFC 9000 12.4, table 3). */
export function allowedInHandshakePackets (frame: Frame): boolean {
  switch (frame.type) {
    case 'padding': case 'ping': case 'ack': case 'crypto': return true
    case 'connection_close': return !frame.application
    default: return false
  }
}

/** True for frames that make a packet ack-eliciting (everything but ACK, PADDING, CONNECTION_CLOSE). */
export function isAckEliciting (frame: Frame): boolean {
  return frame.type !== 'ack' && frame.type !== 'padding' && frame.type !== 'connection_close'
}

/** Reads the next frame of a decrypted payload. */
export function decodeFrame (r: QuicReader): Frame {
  const typeStart = r.pos
  const type = r.varint()
  // A frame type must use the shortest encoding (RFC 9000 12.4): all ours fit in one byte.
  if (r.pos - typeStart !== 1) throw new QuicDecodeError(`frame type 0x${type.toString(16)} not minimally encoded`)
  switch (type) {
    case FrameType.PADDING: {
      let length = 1
      while (r.pos < r.end && r.buf[r.pos] === 0) { r.pos++; length++ }
      return { type: 'padding', length }
    }
    case FrameType.PING: return { type: 'ping' }
    case FrameType.ACK:
    case FrameType.ACK_ECN: {
      const largest = r.varint()
      const delay = r.varint()
      const rangeCount = r.varint()
      const first = r.varint()
      if (first > largest) throw new QuicDecodeError('ACK first range goes below packet number 0')
      // Each range costs at least two bytes, so the datagram bounds the count.
      if (rangeCount > r.remaining / 2) throw new QuicDecodeError(`ACK claims ${rangeCount} ranges in ${r.remaining} bytes`)
      const ranges = [largest, largest - first]
      let smallest = largest - first
      for (let i = 0; i < rangeCount; i++) {
        const gap = r.varint()
        const length = r.varint()
        const high = smallest - gap - 2
        const low = high - length
        if (low < 0) throw new QuicDecodeError('ACK range goes below packet number 0')
        ranges.push(high, low)
        smallest = low
      }
      const frame: AckFrame = { type: 'ack', largest, delay, ranges }
      if (type === FrameType.ACK_ECN) frame.ecn = { ect0: r.varint(), ect1: r.varint(), ce: r.varint() }
      return frame
    }
    case FrameType.RESET_STREAM: {
      const streamId = r.varint()
      const errorCode = r.varint()
      const finalSize = r.varint()
      if (finalSize > MAX_OFFSET) throw new QuicDecodeError('RESET_STREAM final size too large')
      return { type: 'reset_stream', streamId, errorCode, finalSize }
    }
    case FrameType.STOP_SENDING: return { type: 'stop_sending', streamId: r.varint(), errorCode: r.varint() }
    case FrameType.CRYPTO: {
      const offset = r.varint()
      const length = r.varint()
      if (offset + length > MAX_OFFSET) throw new QuicDecodeError('CRYPTO data beyond 2^62', QuicTransportErrorCode.FRAME_ENCODING_ERROR)
      return { type: 'crypto', offset, data: r.bytes(length) }
    }
    case FrameType.NEW_TOKEN: {
      const length = r.varint()
      if (length === 0) throw new QuicDecodeError('empty NEW_TOKEN')
      if (length > MAX_TOKEN_LENGTH) throw new QuicDecodeError(`NEW_TOKEN of ${length} bytes exceeds ${MAX_TOKEN_LENGTH}`)
      return { type: 'new_token', token: r.bytes(length) }
    }
    case FrameType.MAX_DATA: return { type: 'max_data', maximum: r.varint() }
    case FrameType.MAX_STREAM_DATA: return { type: 'max_stream_data', streamId: r.varint(), maximum: r.varint() }
    case FrameType.MAX_STREAMS_BIDI: return { type: 'max_streams', bidi: true, maximum: r.varint() }
    case FrameType.MAX_STREAMS_UNI: return { type: 'max_streams', bidi: false, maximum: r.varint() }
    case FrameType.DATA_BLOCKED: return { type: 'data_blocked', limit: r.varint() }
    case FrameType.STREAM_DATA_BLOCKED: return { type: 'stream_data_blocked', streamId: r.varint(), limit: r.varint() }
    case FrameType.STREAMS_BLOCKED_BIDI: return { type: 'streams_blocked', bidi: true, limit: r.varint() }
    case FrameType.STREAMS_BLOCKED_UNI: return { type: 'streams_blocked', bidi: false, limit: r.varint() }
    case FrameType.NEW_CONNECTION_ID: {
      const sequence = r.varint()
      const retirePriorTo = r.varint()
      if (retirePriorTo > sequence) throw new QuicDecodeError('NEW_CONNECTION_ID retires beyond its own sequence number')
      const length = r.u8()
      if (length < 1 || length > 20) throw new QuicDecodeError(`NEW_CONNECTION_ID length ${length} outside 1..20`)
      const connectionId = r.bytes(length)
      const resetToken = r.bytes(16)
      return { type: 'new_connection_id', sequence, retirePriorTo, connectionId, resetToken }
    }
    case FrameType.RETIRE_CONNECTION_ID: return { type: 'retire_connection_id', sequence: r.varint() }
    case FrameType.PATH_CHALLENGE: return { type: 'path_challenge', data: r.bytes(8) }
    case FrameType.PATH_RESPONSE: return { type: 'path_response', data: r.bytes(8) }
    case FrameType.CONNECTION_CLOSE:
    case FrameType.CONNECTION_CLOSE_APP: {
      const application = type === FrameType.CONNECTION_CLOSE_APP
      const errorCode = r.varint()
      const frameType = application ? 0 : r.varint()
      const length = r.varint()
      if (length > MAX_REASON_LENGTH) throw new QuicDecodeError(`CONNECTION_CLOSE reason of ${length} bytes exceeds ${MAX_REASON_LENGTH}`)
      return { type: 'connection_close', application, errorCode, frameType, reason: r.bytes(length) }
    }
    case FrameType.HANDSHAKE_DONE: return { type: 'handshake_done' }
    default: {
      if (type >= 0x08 && type <= 0x0f) {
        const streamId = r.varint()
        const offset = (type & 0x04) !== 0 ? r.varint() : 0
        const length = (type & 0x02) !== 0 ? r.varint() : r.remaining
        if (offset + length > MAX_OFFSET) throw new QuicDecodeError('STREAM data beyond 2^62', QuicTransportErrorCode.FRAME_ENCODING_ERROR)
        return { type: 'stream', streamId, offset, data: r.bytes(length), fin: (type & 0x01) !== 0 }
      }
      if (type === 0x24) {
        const streamId = r.varint()
        const errorCode = r.varint()
        const finalSize = r.varint()
        const reliableSize = r.varint()
        if (finalSize > MAX_OFFSET || reliableSize > finalSize) throw new QuicDecodeError('RESET_STREAM_AT sizes out of range')
        return { type: 'reset_stream', streamId, errorCode, finalSize, reliableSize }
      }
      if (type === 0x30 || type === 0x31) return { type: 'datagram', data: r.bytes(type === 0x31 ? r.varint() : r.remaining) }
      throw new QuicDecodeError(`unknown frame type 0x${type.toString(16)}`)
    }
  }
}

// ---- writers: each writes one frame at `offset` and returns the offset after it -------------

export function writePing (buf: Uint8Array, offset: number): number {
  buf[offset] = FrameType.PING
  return offset + 1
}

export function writeHandshakeDone (buf: Uint8Array, offset: number): number {
  buf[offset] = FrameType.HANDSHAKE_DONE
  return offset + 1
}

/**
 * An ACK frame from ranges newest first ([largest0, smallest0, largest1, smallest1, ...]),
 * writing as many ranges as fit before `limit`. Returns `offset` unchanged when not even the
 * first range fits.
 */
export function writeAck (buf: Uint8Array, offset: number, limit: number, ranges: readonly number[], delay: number, ecn?: { ect0: number, ect1: number, ce: number }): number {
  const largest = ranges[0]
  const first = largest - ranges[1]
  const ecnLength = ecn === undefined ? 0 : varintLength(ecn.ect0) + varintLength(ecn.ect1) + varintLength(ecn.ce)
  const fixed = 1 + varintLength(largest) + varintLength(delay) + 1 + varintLength(first) + ecnLength
  if (offset + fixed > limit) return offset
  // Count the ranges that fit (the range count varint is at most 1 byte: we write <= 63).
  let size = fixed
  let count = 0
  for (let i = 2; i + 1 < ranges.length && count < 63; i += 2) {
    const gap = ranges[i - 1] - ranges[i] - 2
    const length = ranges[i] - ranges[i + 1]
    const extra = varintLength(gap) + varintLength(length)
    if (offset + size + extra > limit) break
    size += extra
    count++
  }
  let o = offset
  buf[o++] = ecn === undefined ? FrameType.ACK : FrameType.ACK_ECN
  o = writeVarint(buf, o, largest)
  o = writeVarint(buf, o, delay)
  o = writeVarint(buf, o, count)
  o = writeVarint(buf, o, first)
  for (let i = 0, j = 2; i < count; i++, j += 2) {
    o = writeVarint(buf, o, ranges[j - 1] - ranges[j] - 2)
    o = writeVarint(buf, o, ranges[j] - ranges[j + 1])
  }
  if (ecn !== undefined) {
    o = writeVarint(buf, o, ecn.ect0)
    o = writeVarint(buf, o, ecn.ect1)
    o = writeVarint(buf, o, ecn.ce)
  }
  return o
}

/** Bytes a CRYPTO frame header takes before `length` bytes of data at `cryptoOffset`. */
export function cryptoFrameOverhead (cryptoOffset: number, length: number): number {
  return 1 + varintLength(cryptoOffset) + varintLength(length)
}

export function writeCrypto (buf: Uint8Array, offset: number, cryptoOffset: number, data: Uint8Array): number {
  let o = offset
  buf[o++] = FrameType.CRYPTO
  o = writeVarint(buf, o, cryptoOffset)
  o = writeVarint(buf, o, data.length)
  buf.set(data, o)
  return o + data.length
}

/** Bytes a STREAM frame header (with offset and length fields) takes. */
export function streamFrameOverhead (streamId: number, streamOffset: number, length: number): number {
  return 1 + varintLength(streamId) + (streamOffset > 0 ? varintLength(streamOffset) : 0) + varintLength(length)
}

/**
 * A STREAM frame header with an explicit length; the caller copies the `length` data bytes
 * right after it (so data can be gathered from several queued chunks without a copy first).
 */
export function writeStreamHeader (buf: Uint8Array, offset: number, streamId: number, streamOffset: number, length: number, fin: boolean): number {
  let o = offset
  buf[o++] = FrameType.STREAM | (streamOffset > 0 ? 0x04 : 0) | 0x02 | (fin ? 0x01 : 0)
  o = writeVarint(buf, o, streamId)
  if (streamOffset > 0) o = writeVarint(buf, o, streamOffset)
  return writeVarint(buf, o, length)
}

function writeTypeAndVarints (buf: Uint8Array, offset: number, type: number, a: number, b?: number, c?: number): number {
  buf[offset] = type
  let o = writeVarint(buf, offset + 1, a)
  if (b !== undefined) o = writeVarint(buf, o, b)
  if (c !== undefined) o = writeVarint(buf, o, c)
  return o
}

export function writeResetStream (buf: Uint8Array, offset: number, streamId: number, errorCode: number, finalSize: number): number {
  return writeTypeAndVarints(buf, offset, FrameType.RESET_STREAM, streamId, errorCode, finalSize)
}

export function writeStopSending (buf: Uint8Array, offset: number, streamId: number, errorCode: number): number {
  return writeTypeAndVarints(buf, offset, FrameType.STOP_SENDING, streamId, errorCode)
}

export function writeMaxData (buf: Uint8Array, offset: number, maximum: number): number {
  return writeTypeAndVarints(buf, offset, FrameType.MAX_DATA, maximum)
}

export function writeMaxStreamData (buf: Uint8Array, offset: number, streamId: number, maximum: number): number {
  return writeTypeAndVarints(buf, offset, FrameType.MAX_STREAM_DATA, streamId, maximum)
}

export function writeMaxStreams (buf: Uint8Array, offset: number, bidi: boolean, maximum: number): number {
  return writeTypeAndVarints(buf, offset, bidi ? FrameType.MAX_STREAMS_BIDI : FrameType.MAX_STREAMS_UNI, maximum)
}

export function writeDataBlocked (buf: Uint8Array, offset: number, limit: number): number {
  return writeTypeAndVarints(buf, offset, FrameType.DATA_BLOCKED, limit)
}

export function writeStreamDataBlocked (buf: Uint8Array, offset: number, streamId: number, limit: number): number {
  return writeTypeAndVarints(buf, offset, FrameType.STREAM_DATA_BLOCKED, streamId, limit)
}

export function writeStreamsBlocked (buf: Uint8Array, offset: number, bidi: boolean, limit: number): number {
  return writeTypeAndVarints(buf, offset, bidi ? FrameType.STREAMS_BLOCKED_BIDI : FrameType.STREAMS_BLOCKED_UNI, limit)
}

export function writeRetireConnectionId (buf: Uint8Array, offset: number, sequence: number): number {
  return writeTypeAndVarints(buf, offset, FrameType.RETIRE_CONNECTION_ID, sequence)
}

export function writeNewConnectionId (buf: Uint8Array, offset: number, sequence: number, retirePriorTo: number, connectionId: Uint8Array, resetToken: Uint8Array): number {
  let o = writeTypeAndVarints(buf, offset, FrameType.NEW_CONNECTION_ID, sequence, retirePriorTo)
  buf[o++] = connectionId.length
  buf.set(connectionId, o)
  o += connectionId.length
  buf.set(resetToken, o)
  return o + 16
}

export function writeNewToken (buf: Uint8Array, offset: number, token: Uint8Array): number {
  const o = writeTypeAndVarints(buf, offset, FrameType.NEW_TOKEN, token.length)
  buf.set(token, o)
  return o + token.length
}

export function writePathFrame (buf: Uint8Array, offset: number, response: boolean, data: Uint8Array): number {
  buf[offset] = response ? FrameType.PATH_RESPONSE : FrameType.PATH_CHALLENGE
  buf.set(data.subarray(0, 8), offset + 1)
  return offset + 9
}

export function connectionCloseLength (application: boolean, errorCode: number, frameType: number, reason: Uint8Array): number {
  return 1 + varintLength(errorCode) + (application ? 0 : varintLength(frameType)) + varintLength(reason.length) + reason.length
}

export function writeConnectionClose (buf: Uint8Array, offset: number, application: boolean, errorCode: number, frameType: number, reason: Uint8Array): number {
  buf[offset] = application ? FrameType.CONNECTION_CLOSE_APP : FrameType.CONNECTION_CLOSE
  let o = writeVarint(buf, offset + 1, errorCode)
  if (!application) o = writeVarint(buf, o, frameType)
  o = writeVarint(buf, o, reason.length)
  buf.set(reason, o)
  return o + reason.length
}
