/**
 * QUIC packet headers (RFC 9000 section 17), packet-number encoding (appendix A) and header
 * protection (RFC 9001 section 5.4), version-independent where RFC 8999 asks for it.
 *
 * A datagram may carry several coalesced long-header packets followed by at most one
 * short-header packet: `parseHeader` reads one header and says where its packet ends, so the
 * caller walks the datagram. Header protection is removed in place (the datagram buffer is
 * ours once received), which saves a copy per packet.
 */
import { QuicDecodeError, QuicTransportErrorCode } from './errors.ts'
import { QuicReader, writeVarint } from './varint.ts'
import type { PacketProtector } from './crypto/types.ts'

export const QUIC_V1 = 0x00000001
/** The largest connection id QUIC v1 allows. */
export const MAX_CID_LENGTH = 20
/** AEAD tag length of every QUIC v1 cipher suite. */
export const AEAD_TAG_LENGTH = 16
/** Smallest datagram that may carry a client Initial (RFC 9000 14.1). */
export const MIN_INITIAL_DATAGRAM = 1200

export type PacketType = 'initial' | 'zero_rtt' | 'handshake' | 'retry' | 'version_negotiation' | 'unknown_version' | 'short'

const LONG_TYPES: readonly PacketType[] = ['initial', 'zero_rtt', 'handshake', 'retry']
const LONG_TYPE_BITS: Record<string, number> = { initial: 0, zero_rtt: 1, handshake: 2, retry: 3 }

export interface PacketHeader {
  type: PacketType
  version: number
  /** Views into the datagram. */
  dcid: Uint8Array
  scid: Uint8Array
  /** Initial: the token field; Retry: the retry token. Empty otherwise. */
  token: Uint8Array
  /** Offset of the packet's first byte in the datagram. */
  start: number
  /** Offset of the (protected) packet number; for Retry / VN, where the payload starts. */
  pnOffset: number
  /** Offset just after this packet. */
  end: number
  /** Version Negotiation: the versions offered. */
  versions?: number[]
}

const EMPTY: Uint8Array = new Uint8Array(0)

/**
 * Reads the header of the packet starting at `offset`. Short-header packets carry no length
 * for their connection id: `shortDcidLength` is the length of the ids we issue.
 */
export function parseHeader (datagram: Uint8Array, offset: number, shortDcidLength: number): PacketHeader {
  const r = new QuicReader(datagram, offset)
  const first = r.u8()
  if ((first & 0x80) === 0) {
    if ((first & 0x40) === 0) throw new QuicDecodeError('short header without the fixed bit')
    const dcid = r.bytes(shortDcidLength)
    return { type: 'short', version: QUIC_V1, dcid, scid: EMPTY, token: EMPTY, start: offset, pnOffset: r.pos, end: datagram.length }
  }
  const version = r.u32()
  const dcidLength = r.u8()
  // RFC 8999: a long header of an unknown version may carry ids of up to 255 bytes.
  if (version === QUIC_V1 && dcidLength > MAX_CID_LENGTH) throw new QuicDecodeError(`destination connection id of ${dcidLength} bytes`)
  const dcid = r.bytes(dcidLength)
  const scidLength = r.u8()
  if (version === QUIC_V1 && scidLength > MAX_CID_LENGTH) throw new QuicDecodeError(`source connection id of ${scidLength} bytes`)
  const scid = r.bytes(scidLength)
  if (version === 0) {
    const count = Math.floor(r.remaining / 4)
    if (count === 0 || r.remaining % 4 !== 0) throw new QuicDecodeError('version negotiation packet with a malformed version list')
    const versions: number[] = []
    for (let i = 0; i < count; i++) versions.push(r.u32())
    return { type: 'version_negotiation', version, dcid, scid, token: EMPTY, start: offset, pnOffset: r.pos, end: datagram.length, versions }
  }
  if (version !== QUIC_V1) {
    return { type: 'unknown_version', version, dcid, scid, token: EMPTY, start: offset, pnOffset: r.pos, end: datagram.length }
  }
  if ((first & 0x40) === 0) throw new QuicDecodeError('long header without the fixed bit')
  const type = LONG_TYPES[(first & 0x30) >> 4]
  if (type === 'retry') {
    if (r.remaining < AEAD_TAG_LENGTH + 1) throw new QuicDecodeError('retry packet too short')
    const token = r.bytes(r.remaining - AEAD_TAG_LENGTH)
    return { type, version, dcid, scid, token, start: offset, pnOffset: r.pos, end: datagram.length }
  }
  let token = EMPTY
  if (type === 'initial') {
    const tokenLength = r.varint()
    token = r.bytes(tokenLength)
  }
  const length = r.varint()
  const pnOffset = r.pos
  if (length > r.remaining) throw new QuicDecodeError(`packet length ${length} exceeds the ${r.remaining} bytes left in the datagram`)
  return { type, version, dcid, scid, token, start: offset, pnOffset, end: pnOffset + length }
}

/** Result of removing header protection. */
export interface UnprotectedHeader {
  packetNumber: number
  /** Offset where the encrypted payload starts (after the packet number). */
  payloadOffset: number
  /** The unprotected first byte (short header: key phase bit 0x04). */
  firstByte: number
}

/**
 * Removes header protection in place and reconstructs the full packet number from the
 * largest one received so far in that packet-number space.
 */
export function removeHeaderProtection (datagram: Uint8Array, header: PacketHeader, protector: PacketProtector, largestReceived: number): UnprotectedHeader {
  const sampleOffset = header.pnOffset + 4
  if (sampleOffset + 16 > header.end) throw new QuicDecodeError('packet too short to sample for header protection')
  const mask = protector.headerProtectionMask(datagram.subarray(sampleOffset, sampleOffset + 16))
  const long = header.type !== 'short'
  const firstByte = datagram[header.start] ^ (mask[0] & (long ? 0x0f : 0x1f))
  datagram[header.start] = firstByte
  const pnLength = (firstByte & 0x03) + 1
  let truncated = 0
  for (let i = 0; i < pnLength; i++) {
    const b = datagram[header.pnOffset + i] ^ mask[1 + i]
    datagram[header.pnOffset + i] = b
    truncated = truncated * 256 + b
  }
  return { packetNumber: decodePacketNumber(largestReceived, truncated, pnLength * 8), payloadOffset: header.pnOffset + pnLength, firstByte }
}

/** The reserved header bits must be zero once protection is removed (RFC 9000 17.2, 17.3.1). */
export function checkReservedBits (firstByte: number, long: boolean): void {
  if ((firstByte & (long ? 0x0c : 0x18)) !== 0) throw new QuicDecodeError('reserved header bits are set', QuicTransportErrorCode.PROTOCOL_VIOLATION)
}

/** RFC 9000 appendix A.3. `largest` is -1 when nothing was received yet. */
export function decodePacketNumber (largest: number, truncated: number, bits: number): number {
  const expected = largest + 1
  const window = 2 ** bits
  const half = window / 2
  // (expected & ~mask) | truncated, without 32-bit bit operations.
  const candidate = expected - (expected % window) + truncated
  if (candidate <= expected - half && candidate < 2 ** 62 - window) return candidate + window
  if (candidate > expected + half && candidate >= window) return candidate - window
  return candidate
}

/** Bytes needed to encode `pn` so the receiver can recover it (RFC 9000 appendix A.2). */
export function packetNumberLength (pn: number, largestAcked: number): 1 | 2 | 3 | 4 {
  const unacked = largestAcked < 0 ? pn + 1 : pn - largestAcked
  if (unacked < 0x80) return 1
  if (unacked < 0x8000) return 2
  if (unacked < 0x800000) return 3
  return 4
}

function writePacketNumber (buf: Uint8Array, offset: number, pn: number, length: number): number {
  for (let i = length - 1; i >= 0; i--) {
    buf[offset + i] = pn & 0xff
    pn = Math.floor(pn / 256)
  }
  return offset + length
}

/**
 * Writes a long header up to and including the packet number. `payloadLength` is the length of
 * the ciphertext that follows (plaintext + AEAD tag). Returns the offset after the packet number.
 */
export function writeLongHeader (buf: Uint8Array, offset: number, type: 'initial' | 'handshake', dcid: Uint8Array, scid: Uint8Array, token: Uint8Array | undefined, pn: number, pnLength: number, payloadLength: number): number {
  let o = offset
  buf[o++] = 0xc0 | (LONG_TYPE_BITS[type] << 4) | (pnLength - 1)
  buf[o++] = 0; buf[o++] = 0; buf[o++] = 0; buf[o++] = QUIC_V1
  buf[o++] = dcid.length
  buf.set(dcid, o); o += dcid.length
  buf[o++] = scid.length
  buf.set(scid, o); o += scid.length
  if (type === 'initial') {
    const t = token ?? EMPTY
    o = writeVarint(buf, o, t.length)
    buf.set(t, o); o += t.length
  }
  o = writeVarint(buf, o, pnLength + payloadLength)
  return writePacketNumber(buf, o, pn, pnLength)
}

/** Writes a short header up to and including the packet number; returns the offset after it. */
export function writeShortHeader (buf: Uint8Array, offset: number, dcid: Uint8Array, keyPhase: boolean, pn: number, pnLength: number): number {
  buf[offset] = 0x40 | (keyPhase ? 0x04 : 0) | (pnLength - 1)
  buf.set(dcid, offset + 1)
  return writePacketNumber(buf, offset + 1 + dcid.length, pn, pnLength)
}

/** Applies header protection in place to a sealed packet (header + ciphertext). */
export function applyHeaderProtection (buf: Uint8Array, start: number, pnOffset: number, pnLength: number, protector: PacketProtector): void {
  const sampleOffset = pnOffset + 4
  const mask = protector.headerProtectionMask(buf.subarray(sampleOffset, sampleOffset + 16))
  const long = (buf[start] & 0x80) !== 0
  buf[start] ^= mask[0] & (long ? 0x0f : 0x1f)
  for (let i = 0; i < pnLength; i++) buf[pnOffset + i] ^= mask[1 + i]
}

/** A Version Negotiation packet answering a packet of an unknown version (RFC 9000 17.2.1). */
export function buildVersionNegotiation (dcidOfClient: Uint8Array, scidOfClient: Uint8Array, versions: readonly number[], randomByte: number): Uint8Array {
  const out = new Uint8Array(7 + dcidOfClient.length + scidOfClient.length + versions.length * 4)
  let o = 0
  out[o++] = 0x80 | (randomByte & 0x7f)
  o += 4 // version 0
  // Our DCID is the client's SCID and vice versa.
  out[o++] = scidOfClient.length
  out.set(scidOfClient, o); o += scidOfClient.length
  out[o++] = dcidOfClient.length
  out.set(dcidOfClient, o); o += dcidOfClient.length
  for (const v of versions) {
    out[o++] = v >>> 24; out[o++] = (v >>> 16) & 0xff; out[o++] = (v >>> 8) & 0xff; out[o++] = v & 0xff
  }
  return out
}
