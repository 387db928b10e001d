/**
 * HTTP/3 framing, the QPACK subset and its Huffman decoder: published vectors (RFC 7541 C.4,
 * RFC 9204 B.1), round trips, the extended CONNECT check, and hostile input (random, truncated,
 * oversized, dynamic-table references) that only ever yields Http3Error.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { huffmanDecode } from '../../../src/transport/webtransport/huffman.ts'
import { decodeFieldSection, encodeFieldSection } from '../../../src/transport/webtransport/qpack.ts'
import type { HeaderField } from '../../../src/transport/webtransport/qpack.ts'
import { decodeGoaway, decodeSettings, encodeFrame, encodeGoaway, encodeSettings, encodeVarints, Http3FrameType, Http3Setting, readFrame } from '../../../src/transport/webtransport/http3-frames.ts'
import { checkConnectRequest, connectRequestFields, connectResponseFields, responseStatus } from '../../../src/transport/webtransport/session-headers.ts'
import { Http3Error, Http3ErrorCode } from '../../../src/transport/webtransport/errors.ts'
import { StreamReader } from '../../../src/util/stream-reader.ts'
import { duplexPair } from '../../../src/util/duplex-pair.ts'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'))
const text = (b: Uint8Array): string => new TextDecoder().decode(b)

function isHttp3Error (code?: number) {
  return (err: unknown): boolean => err instanceof Http3Error && err.name === 'Http3Error' && err.code === 'ERR_HTTP3' && (code === undefined || err.h3Code === code)
}

test('Huffman: the RFC 7541 C.4 strings decode', () => {
  assert.equal(text(huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff'), 100)), 'www.example.com')
  assert.equal(text(huffmanDecode(hex('a8eb 1064 9cbf'), 100)), 'no-cache')
  assert.equal(text(huffmanDecode(hex('25a8 49e9 5ba9 7d7f'), 100)), 'custom-key')
  assert.equal(text(huffmanDecode(hex('25a8 49e9 5bb8 e8b4 bf'), 100)), 'custom-value')
})

test('Huffman: bad padding, an EOS symbol and an output over the limit are typed errors', () => {
  const code = Http3ErrorCode.QPACK_DECOMPRESSION_FAILED
  // '0' is the 5-bit code 00000: 0x07 is '0' and three bits of valid padding, 0x00 pads with zeros.
  assert.equal(text(huffmanDecode(hex('07'), 100)), '0')
  assert.throws(() => huffmanDecode(hex('00'), 100), isHttp3Error(code))
  // A full byte of ones after the last symbol: padding longer than 7 bits.
  assert.throws(() => huffmanDecode(hex('a8eb 1064 9cbf ff'), 100), isHttp3Error(code))
  // EOS (30 one bits) inside the string.
  assert.throws(() => huffmanDecode(hex('ffff ffff'), 100), isHttp3Error(code))
  assert.throws(() => huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff'), 5), isHttp3Error(code))
})

test('QPACK: RFC 9204 B.1 (literal with a static name reference) encodes and decodes', () => {
  const section = hex('0000 510b 2f69 6e64 6578 2e68 746d 6c')
  assert.deepEqual(encodeFieldSection([[':path', '/index.html']]), section)
  assert.deepEqual(decodeFieldSection(section, 4096), [[':path', '/index.html']])
})

test('QPACK: indexed, name-referenced and literal-name fields round-trip, Huffman literals decode', () => {
  const fields: HeaderField[] = [[':method', 'CONNECT'], [':protocol', 'webtransport'], [':authority', 'example.com:443'], ['x-long-name-that-is-not-in-the-table', 'v'.repeat(300)]]
  assert.deepEqual(decodeFieldSection(encodeFieldSection(fields), 8192), fields)
  // A literal field with a Huffman-encoded literal name and value (what browsers send):
  // 001 N=0 H=1 len=6 'custom-key' (huffman), then H=1 len=9 'custom-value' (huffman).
  const section = Uint8Array.from([0, 0, 0x28 | 0x06, ...hex('25a8 49e9 5ba9 7d7f').subarray(0, 6), 0x80 | 9, ...hex('25a8 49e9 5bb8 e8b4 bf')])
  // The name's 8 bytes need the 3-bit prefix integer's continuation (7 + 1); 6 cuts a code short.
  const fixed = Uint8Array.from([0, 0, 0x28 | 0x07, 0x01, ...hex('25a8 49e9 5ba9 7d7f'), 0x80 | 9, ...hex('25a8 49e9 5bb8 e8b4 bf')])
  assert.deepEqual(decodeFieldSection(fixed, 4096), [['custom-key', 'custom-value']])
  assert.throws(() => decodeFieldSection(section, 4096), isHttp3Error(Http3ErrorCode.QPACK_DECOMPRESSION_FAILED))
})

test('QPACK: dynamic-table references, bad indexes and oversized sections are QPACK_DECOMPRESSION_FAILED', () => {
  const code = Http3ErrorCode.QPACK_DECOMPRESSION_FAILED
  for (const bad of [
    hex('0100 d1'), // required insert count 1
    hex('0000 91'), // indexed field, T=0 (dynamic)
    hex('0000 10'), // indexed post-base
    hex('0000 4103 616263'), // name reference, T=0
    hex('0000 0003 616263'), // literal with post-base name reference
    hex('0000 ff3f'), // static index 126: out of range
    hex('0000 510b 2f69'), // value runs past the end
    hex('0000 7f'), // truncated integer
    hex('0000 7fffffffffffffffffffffff01') // an integer that never ends within bounds
  ]) assert.throws(() => decodeFieldSection(bad, 4096), isHttp3Error(code), Buffer.from(bad).toString('hex'))
  const big = encodeFieldSection([['x', 'y'.repeat(5000)]])
  assert.throws(() => decodeFieldSection(big, 4096), isHttp3Error(code))
  const many = encodeFieldSection(Array.from({ length: 300 }, () => [':method', 'GET'] as const))
  assert.throws(() => decodeFieldSection(many, 1 << 20), isHttp3Error(code))
})

test('QPACK: random and mutated field sections never throw anything but Http3Error', () => {
  const valid = encodeFieldSection(connectRequestFields('127.0.0.1:4433'))
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), bytes => {
    try { decodeFieldSection(bytes, 2048) } catch (err) { assert.ok(isHttp3Error()(err), String(err)) }
  }), { numRuns: 2000 })
  fc.assert(fc.property(fc.nat(valid.length - 1), fc.nat(255), fc.nat(valid.length), (i, b, cut) => {
    const mutated = valid.slice(0, Math.max(cut, i + 1))
    mutated[i] = b
    try { decodeFieldSection(mutated, 2048) } catch (err) { assert.ok(isHttp3Error()(err), String(err)) }
  }), { numRuns: 2000 })
})

test('SETTINGS and GOAWAY: round trip; HTTP/2 settings, repeats and truncation are typed errors', () => {
  const settings = new Map([[Http3Setting.ENABLE_CONNECT_PROTOCOL, 1], [Http3Setting.WT_MAX_SESSIONS, 2 ** 40], [Http3Setting.ENABLE_WEBTRANSPORT_DRAFT06, 1]])
  const frame = encodeSettings(settings)
  assert.equal(frame[0], Http3FrameType.SETTINGS)
  assert.deepEqual(decodeSettings(frame.subarray(2)), settings)
  assert.throws(() => decodeSettings(encodeVarints(0x02, 1)), isHttp3Error(Http3ErrorCode.SETTINGS_ERROR))
  assert.throws(() => decodeSettings(encodeVarints(0x08, 1, 0x08, 1)), isHttp3Error(Http3ErrorCode.SETTINGS_ERROR))
  assert.throws(() => decodeSettings(encodeVarints(0x08)), isHttp3Error(Http3ErrorCode.FRAME_ERROR))
  const flood: number[] = []
  for (let i = 0; i < 100; i++) flood.push(0x21 + 0x1f * i, 0)
  assert.throws(() => decodeSettings(encodeVarints(...flood)), isHttp3Error(Http3ErrorCode.EXCESSIVE_LOAD))
  assert.equal(decodeGoaway(encodeGoaway(1234).subarray(2)), 1234)
  assert.throws(() => decodeGoaway(encodeVarints(4, 4)), isHttp3Error(Http3ErrorCode.FRAME_ERROR))
})

test('readFrame: skips unknown types, rejects HTTP/2 types and oversized or truncated frames before buffering them', async () => {
  const read = async (bytes: Uint8Array, maxPayload = 1024): Promise<Array<{ type: number, payload: string }>> => {
    const [a, b] = duplexPair()
    await a.write(bytes)
    await a.closeWrite()
    const reader = new StreamReader(b)
    const out: Array<{ type: number, payload: string }> = []
    for (;;) {
      const frame = await readFrame(reader, { maxPayload })
      if (frame === null) return out
      out.push({ type: frame.type, payload: text(frame.payload) })
    }
  }
  const grease = encodeFrame(0x21 + 0x1f * 7, new Uint8Array(5))
  const bytes = Uint8Array.from([...encodeFrame(Http3FrameType.HEADERS, new TextEncoder().encode('abc')), ...grease, ...encodeFrame(Http3FrameType.DATA, new TextEncoder().encode('xyz'))])
  assert.deepEqual(await read(bytes), [{ type: 1, payload: 'abc' }, { type: 0, payload: 'xyz' }])
  await assert.rejects(read(encodeFrame(0x06, new Uint8Array(8))), isHttp3Error(Http3ErrorCode.FRAME_UNEXPECTED))
  await assert.rejects(read(encodeVarints(Http3FrameType.DATA, 2 ** 40)), isHttp3Error(Http3ErrorCode.EXCESSIVE_LOAD))
  await assert.rejects(read(bytes.subarray(0, 4)), isHttp3Error(Http3ErrorCode.FRAME_ERROR))
  await assert.rejects(read(encodeVarints(Http3FrameType.DATA)), isHttp3Error(Http3ErrorCode.FRAME_ERROR))
})

test('extended CONNECT: our request passes the listener check; wrong path, method, protocol or order is refused', () => {
  const request = decodeFieldSection(encodeFieldSection(connectRequestFields('127.0.0.1:1234')), 4096)
  assert.deepEqual(checkConnectRequest(request), { ok: true })
  const withPath = (path: string): HeaderField[] => request.map(([n, v]) => [n, n === ':path' ? path : v])
  assert.equal((checkConnectRequest(withPath('/')) as { status: string }).status, '404')
  assert.equal((checkConnectRequest(request.map(([n, v]) => [n, n === ':method' ? 'GET' : v])) as { status: string }).status, '405')
  assert.equal((checkConnectRequest(request.map(([n, v]) => [n, n === ':protocol' ? 'websocket' : v])) as { status: string }).status, '400')
  assert.equal((checkConnectRequest([['x', 'y'], ...request])) .ok, false)
  assert.equal((checkConnectRequest([...request, [':method', 'CONNECT']])).ok, false)
  assert.deepEqual(checkConnectRequest(request.map(([n, v]) => [n, n === ':protocol' ? 'webtransport-h3' : v])), { ok: true })
  assert.equal(responseStatus(decodeFieldSection(encodeFieldSection(connectResponseFields('200')), 4096)), '200')
})
