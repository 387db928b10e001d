/**
 * QUIC's wire codecs: varints (RFC 9000 A.1 vectors), packet numbers (A.2, A.3), frames,
 * headers and transport parameters round-trip, and the hostile-input part: random, truncated and
 * mutated bytes only ever produce QuicDecodeError.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { QuicReader, varintLength, writeVarint, writeVarintFixed } from '../../../src/transport/quic/varint.ts'
import { decodeFrame, writeAck, writeConnectionClose, writeCrypto, writeMaxStreams, writeNewConnectionId, writeResetStream, writeStreamHeader, writeStopSending, writeMaxData, writeMaxStreamData, writePathFrame, writeNewToken } from '../../../src/transport/quic/frames.ts'
import type { Frame } from '../../../src/transport/quic/frames.ts'
import { buildVersionNegotiation, decodePacketNumber, packetNumberLength, parseHeader, writeLongHeader, writeShortHeader, QUIC_V1 } from '../../../src/transport/quic/packet.ts'
import { decodeTransportParameters, encodeTransportParameters } from '../../../src/transport/quic/transport-parameters.ts'
import { QuicDecodeError } from '../../../src/transport/quic/errors.ts'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'))

function decodeAll (payload: Uint8Array): Frame[] {
  const r = new QuicReader(payload)
  const frames: Frame[] = []
  while (r.remaining > 0) frames.push(decodeFrame(r))
  return frames
}

test('varints: the RFC 9000 A.1 examples decode, and values round-trip at every length boundary', () => {
  assert.equal(new QuicReader(hex('9d7f3e7d')).varint(), 494878333)
  assert.equal(new QuicReader(hex('7bbd')).varint(), 15293)
  assert.equal(new QuicReader(hex('25')).varint(), 37)
  assert.equal(new QuicReader(hex('4025')).varint(), 37)
  // 151288809941952652 is above 2^53: it saturates (see varint.ts).
  assert.equal(new QuicReader(hex('c2197c5eff14e88c')).varint(), Number.MAX_SAFE_INTEGER)
  for (const v of [0, 63, 64, 16383, 16384, 1073741823, 1073741824, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER]) {
    const buf = new Uint8Array(8)
    const end = writeVarint(buf, 0, v)
    assert.equal(end, varintLength(v))
    const r = new QuicReader(buf, 0, end)
    assert.equal(r.varint(), v)
    assert.equal(r.remaining, 0)
  }
  const fixed = new Uint8Array(8)
  for (const length of [2, 4, 8] as const) {
    writeVarintFixed(fixed, 0, 37, length)
    const r = new QuicReader(fixed)
    assert.equal(r.varint(), 37)
    assert.equal(r.pos, length)
  }
  assert.throws(() => new QuicReader(hex('80ff')).varint(), QuicDecodeError)
})

test('packet numbers: RFC 9000 A.3 decoding example and A.2 lengths', () => {
  assert.equal(decodePacketNumber(0xa82f30ea, 0x9b32, 16), 0xa82f9b32)
  assert.equal(decodePacketNumber(-1, 0, 8), 0)
  assert.equal(decodePacketNumber(255, 0, 8), 256)
  assert.equal(decodePacketNumber(300, 0xff, 8), 255)
  assert.equal(packetNumberLength(0xac5c02, 0xabe8b3), 2)
  assert.equal(packetNumberLength(0xace8fe, 0xabe8b3), 3)
  assert.equal(packetNumberLength(0, -1), 1)
})

test('frames: every frame type the connection writes decodes to what was written', () => {
  const buf = new Uint8Array(2048)
  let o = 0
  o = writeAck(buf, o, buf.length, [100, 90, 80, 75, 10, 0], 7)
  o = writeCrypto(buf, o, 1234, hex('01020304'))
  o = writeStreamHeader(buf, o, 4, 70000, 3, true)
  buf.set([9, 8, 7], o); o += 3
  o = writeStreamHeader(buf, o, 0, 0, 1, false)
  buf[o++] = 5
  o = writeResetStream(buf, o, 8, 3, 99)
  o = writeStopSending(buf, o, 12, 77)
  o = writeMaxData(buf, o, 2 ** 40)
  o = writeMaxStreamData(buf, o, 4, 65536)
  o = writeMaxStreams(buf, o, true, 256)
  o = writeNewConnectionId(buf, o, 3, 1, hex('0102030405060708'), new Uint8Array(16).fill(0xaa))
  o = writePathFrame(buf, o, false, hex('1122334455667788'))
  o = writeNewToken(buf, o, hex('abcdef'))
  o = writeConnectionClose(buf, o, false, 0x0a, 0x08, new TextEncoder().encode('bad'))
  o = writeConnectionClose(buf, o, true, 42, 0, new Uint8Array(0))
  buf[o++] = 0x01 // PING
  buf[o++] = 0x1e // HANDSHAKE_DONE
  o += 5 // PADDING
  const frames = decodeAll(buf.subarray(0, o))
  assert.deepEqual(frames.map(f => f.type), ['ack', 'crypto', 'stream', 'stream', 'reset_stream', 'stop_sending', 'max_data', 'max_stream_data', 'max_streams', 'new_connection_id', 'path_challenge', 'new_token', 'connection_close', 'connection_close', 'ping', 'handshake_done', 'padding'])
  const ack = frames[0] as Extract<Frame, { type: 'ack' }>
  assert.deepEqual(ack.ranges, [100, 90, 80, 75, 10, 0])
  assert.equal(ack.delay, 7)
  const stream = frames[2] as Extract<Frame, { type: 'stream' }>
  assert.deepEqual([stream.streamId, stream.offset, [...stream.data], stream.fin], [4, 70000, [9, 8, 7], true])
  assert.deepEqual(frames[6], { type: 'max_data', maximum: 2 ** 40 })
  const close = frames[12] as Extract<Frame, { type: 'connection_close' }>
  assert.deepEqual([close.application, close.errorCode, close.frameType, new TextDecoder().decode(close.reason)], [false, 0x0a, 0x08, 'bad'])
  assert.deepEqual(frames[16], { type: 'padding', length: 5 })
})

test('frames: an ACK frame that does not fit writes only the ranges that do', () => {
  const ranges: number[] = []
  for (let i = 0; i < 200; i++) ranges.push(10000 - i * 10, 10000 - i * 10 - 5)
  const buf = new Uint8Array(64)
  const end = writeAck(buf, 0, 64, ranges, 0)
  assert.ok(end > 0 && end <= 64)
  const ack = decodeFrame(new QuicReader(buf, 0, end)) as Extract<Frame, { type: 'ack' }>
  assert.deepEqual(ack.ranges, ranges.slice(0, ack.ranges.length))
  assert.equal(writeAck(buf, 60, 64, ranges, 0), 60)
})

test('frames: malformed input is refused with QuicDecodeError', () => {
  const cases = [
    hex('02 05 00 00 06'), // ACK whose first range goes below 0
    hex('02 05 00 01 00 05 00'), // a second range below 0
    hex('02 05 00 3f 00'), // 63 ranges announced in 0 bytes
    hex('06 00 05 0102'), // CRYPTO longer than the payload
    hex('07 00'), // empty NEW_TOKEN
    hex('18 01 02 08 0102030405060708' + '00'.repeat(16)), // NEW_CONNECTION_ID retire > sequence
    hex('18 01 00 15' + '00'.repeat(37)), // NEW_CONNECTION_ID of 21 bytes
    hex('1c 00 00 44 00'), // reason of 1024+ bytes announced
    hex('1f'), // unknown frame type
    hex('4001'), // PING with a two-byte type
    hex('1a 0102') // truncated PATH_CHALLENGE
  ]
  for (const bytes of cases) assert.throws(() => decodeAll(bytes), QuicDecodeError, Buffer.from(bytes).toString('hex'))
})

test('packet headers: long and short headers written by us parse back', () => {
  const buf = new Uint8Array(200)
  const dcid = hex('8394c8f03e515708')
  const scid = hex('0102')
  const token = hex('aabb')
  const pnEnd = writeLongHeader(buf, 0, 'initial', dcid, scid, token, 2, 1, 40)
  const header = parseHeader(buf.subarray(0, pnEnd + 40), 0, 8)
  assert.equal(header.type, 'initial')
  assert.equal(header.version, QUIC_V1)
  assert.deepEqual([...header.dcid], [...dcid])
  assert.deepEqual([...header.scid], [...scid])
  assert.deepEqual([...header.token], [...token])
  assert.equal(header.pnOffset, pnEnd - 1)
  assert.equal(header.end, pnEnd + 40)
  const shortEnd = writeShortHeader(buf, 0, dcid, true, 300, 2)
  const short = parseHeader(buf.subarray(0, shortEnd + 30), 0, 8)
  assert.equal(short.type, 'short')
  assert.equal(short.pnOffset, shortEnd - 2)
  assert.deepEqual([...short.dcid], [...dcid])
  const vn = buildVersionNegotiation(dcid, scid, [QUIC_V1], 7)
  const vnHeader = parseHeader(vn, 0, 8)
  assert.equal(vnHeader.type, 'version_negotiation')
  assert.deepEqual(vnHeader.versions, [QUIC_V1])
  assert.deepEqual([...vnHeader.dcid], [...scid])
})

test('transport parameters: round-trip, defaults, and RFC 9000 18.2 violations', () => {
  const cid = hex('0102030405060708')
  const encoded = encodeTransportParameters({ maxIdleTimeout: 30000, initialMaxData: 1 << 24, initialMaxStreamsBidi: 256, initialSourceConnectionId: cid, originalDestinationConnectionId: cid, statelessResetToken: new Uint8Array(16).fill(1), maxUdpPayloadSize: 1452, disableActiveMigration: true })
  const decoded = decodeTransportParameters(encoded, true)
  assert.equal(decoded.maxIdleTimeout, 30000)
  assert.equal(decoded.initialMaxData, 1 << 24)
  assert.equal(decoded.initialMaxStreamsBidi, 256)
  assert.equal(decoded.maxUdpPayloadSize, 1452)
  assert.equal(decoded.ackDelayExponent, 3)
  assert.equal(decoded.disableActiveMigration, true)
  assert.deepEqual([...decoded.initialSourceConnectionId ?? []], [...cid])
  // A client may not send server-only parameters.
  assert.throws(() => decodeTransportParameters(encoded, false), { code: 'ERR_QUIC_DECODE', transportCode: 0x08 })
  const bad = [
    hex('0f00 0f00'), // duplicate
    hex('0f00 0302 4400'), // max_udp_payload_size 1024
    hex('0f00 0a01 15'), // ack_delay_exponent 21
    hex('0f00 0e01 01'), // active_connection_id_limit 1
    hex('0100'), // no initial_source_connection_id
    hex('0f00 0105 0000') // value longer than announced data
  ]
  for (const bytes of bad) assert.throws(() => decodeTransportParameters(bytes, false), { name: 'QuicDecodeError', transportCode: 0x08 }, Buffer.from(bytes).toString('hex'))
  // Greased ids are skipped.
  assert.equal(decodeTransportParameters(hex('0f00 4041 02 abcd'), false).maxIdleTimeout, 0)
})

test('hostile input: random bytes never crash the frame, header or parameter decoders', () => {
  const onlyDecodeErrors = (fn: () => void): void => {
    try { fn() } catch (err) {
      if (!(err instanceof QuicDecodeError)) throw err
    }
  }
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), bytes => {
    onlyDecodeErrors(() => decodeAll(bytes))
    onlyDecodeErrors(() => { parseHeader(bytes, 0, 8) })
    onlyDecodeErrors(() => { decodeTransportParameters(bytes, true) })
  }), { numRuns: 3000 })
  // Truncations of a valid payload.
  const buf = new Uint8Array(256)
  let o = writeAck(buf, 0, 256, [50, 40, 30, 1], 3)
  o = writeCrypto(buf, o, 70000, new Uint8Array(30))
  o = writeNewConnectionId(buf, o, 3, 1, hex('0102030405060708'), new Uint8Array(16))
  for (let cut = 0; cut < o; cut++) onlyDecodeErrors(() => decodeAll(buf.subarray(0, cut)))
})
