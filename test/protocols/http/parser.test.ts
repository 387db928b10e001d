/**
 * The HTTP/1.1 head parser, body framing and chunked decoder: what they accept, and the typed
 * error each smuggling trick and limit gets.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  findHeadEnd, parseRequestHead, parseResponseHead, requestFraming, responseFraming, DEFAULT_HTTP_LIMITS
} from '../../../src/protocols/http/head.ts'
import { ChunkedDecoder, chunkHeader } from '../../../src/protocols/http/chunked.ts'
import { serializeRequestHead, serializeResponseHead } from '../../../src/protocols/http/writer.ts'
import {
  HttpAmbiguousLengthError, HttpBodyTooLargeError, HttpHeadersTooLargeError, HttpInvalidFieldError,
  HttpMalformedError, HttpNotImplementedError
} from '../../../src/protocols/http/errors.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

function request (raw: string) {
  const buf = enc(raw)
  const end = findHeadEnd(buf, 0, { resume: 0 })
  assert.ok(end > 0, 'head end found')
  const head = parseRequestHead(buf.subarray(0, end))
  return { head, framing: requestFraming(head), rest: buf.subarray(end) }
}

test('a request head: method, target, version, fields in order with names as sent, values trimmed', () => {
  const { head, framing, rest } = request('POST /a/b?c=d HTTP/1.1\r\nHost: x\r\nX-Two:  a b \t\r\nContent-Length: 3\r\n\r\nabc')
  assert.equal(head.method, 'POST')
  assert.equal(head.target, '/a/b?c=d')
  assert.equal(head.minorVersion, 1)
  assert.deepEqual(head.headers, [['Host', 'x'], ['X-Two', 'a b'], ['Content-Length', '3']])
  assert.deepEqual(framing, { kind: 'length', length: 3 })
  assert.equal(new TextDecoder().decode(rest), 'abc')
  assert.deepEqual(requestFraming(request('GET / HTTP/1.0\r\n\r\n').head), { kind: 'none' })
})

test('a response head, and response framing by status, method and fields', () => {
  const head = parseResponseHead(enc('HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\n'))
  assert.equal(head.status, 404)
  assert.equal(head.reason, 'Not Found')
  assert.deepEqual(responseFraming(head, 'GET'), { kind: 'length', length: 5 })
  assert.deepEqual(responseFraming(head, 'HEAD'), { kind: 'none' })
  assert.equal(parseResponseHead(enc('HTTP/1.1 200\r\n\r\n')).reason, '')
  assert.deepEqual(responseFraming(parseResponseHead(enc('HTTP/1.1 200 OK\r\n\r\n')), 'GET'), { kind: 'close' })
  assert.deepEqual(responseFraming(parseResponseHead(enc('HTTP/1.1 204 No Content\r\n\r\n')), 'GET'), { kind: 'none' })
  assert.deepEqual(responseFraming(parseResponseHead(enc('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')), 'GET'), { kind: 'chunked' })
  assert.throws(() => parseResponseHead(enc('HTTP/1.1 20 OK\r\n\r\n')), HttpMalformedError)
  assert.throws(() => parseResponseHead(enc('HTTP/1.1 200 O\x01K\r\n\r\n')), HttpMalformedError)
})

test('request smuggling: every ambiguous body length is refused with a typed error', () => {
  const cases: Array<[string, new (...args: never[]) => Error]> = [
    ['POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', HttpAmbiguousLengthError],
    ['POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n', HttpAmbiguousLengthError],
    ['POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n', HttpAmbiguousLengthError],
    ['POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', HttpAmbiguousLengthError],
    ['POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n', HttpAmbiguousLengthError],
    ['POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n', HttpAmbiguousLengthError],
    ['POST / HTTP/1.1\r\nContent-Length: 0x3\r\n\r\n', HttpAmbiguousLengthError],
    ['POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', HttpAmbiguousLengthError],
    ['POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n', HttpAmbiguousLengthError],
    ['POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n', HttpAmbiguousLengthError],
    ['POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', HttpNotImplementedError],
    ['POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', HttpAmbiguousLengthError],
    ['POST / HTTP/1.1\r\nTransfer-Encoding: chunked,\r\n\r\n', HttpMalformedError]
  ]
  for (const [raw, type] of cases) {
    assert.throws(() => request(raw), type, JSON.stringify(raw))
  }
  // Transfer-Encoding split over two fields is one list: chunked once is fine, twice is not
  assert.deepEqual(request('POST / HTTP/1.1\r\ntransfer-encoding: CHUNKED\r\n\r\n').framing, { kind: 'chunked' })
  assert.throws(() => request('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n'), HttpNotImplementedError)
})

test('malformed heads: bare CR or LF, obs-fold, space before colon, bad start lines', () => {
  const bad = [
    'GET / HTTP/1.1\nHost: x\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n',
    'GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n',
    'GET / HTTP/1.1\r\nX : a\r\n\r\n',
    'GET / HTTP/1.1\r\n: a\r\n\r\n',
    'GET / HTTP/1.1\r\nX\x00Y: a\r\n\r\n',
    'GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n',
    'GET  / HTTP/1.1\r\n\r\n',
    'GET / HTTP/1.1 \r\n\r\n',
    'GET /\x7f HTTP/1.1\r\n\r\n',
    'G(T / HTTP/1.1\r\n\r\n',
    'GET / HTTP/11\r\n\r\n',
    'GET / http/1.1\r\n\r\n',
    '\r\n\r\n'
  ]
  for (const raw of bad) {
    assert.throws(() => request(raw), HttpMalformedError, JSON.stringify(raw))
  }
  assert.throws(() => request('GET / HTTP/2.0\r\n\r\n'), HttpNotImplementedError)
})

test('limits: field count, body size by Content-Length', () => {
  const many = 'GET / HTTP/1.1\r\n' + Array.from({ length: DEFAULT_HTTP_LIMITS.maxHeaders + 1 }, (_, i) => `X-${i}: v\r\n`).join('') + '\r\n'
  assert.throws(() => request(many), HttpHeadersTooLargeError)
  assert.throws(() => request(`POST / HTTP/1.1\r\nContent-Length: ${DEFAULT_HTTP_LIMITS.maxBodyBytes + 1}\r\n\r\n`), HttpBodyTooLargeError)
  assert.throws(() => request('POST / HTTP/1.1\r\nContent-Length: 1234567890123456\r\n\r\n'), HttpAmbiguousLengthError)
})

/** Decodes `raw` fed in pieces of `step` bytes; returns the body and the trailers. */
function decodeChunked (raw: string | Uint8Array, step: number, limits = DEFAULT_HTTP_LIMITS) {
  const bytes = typeof raw === 'string' ? enc(raw) : raw
  const decoder = new ChunkedDecoder(limits)
  const out: number[] = []
  for (let start = 0; start < bytes.length && !decoder.done; start += step) {
    const piece = bytes.subarray(start, Math.min(bytes.length, start + step))
    let offset = 0
    while (offset < piece.length && !decoder.done) {
      const r = decoder.decode(piece, offset)
      if (r.data !== undefined) out.push(...r.data)
      offset = r.offset
    }
  }
  return { body: new TextDecoder().decode(Uint8Array.from(out)), done: decoder.done, trailers: decoder.trailers }
}

test('chunked bodies decode the same in any split, with extensions and trailers', () => {
  const raw = '5\r\nhello\r\n1;name=value\r\n \r\nA ; x\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n'
  for (const step of [1, 2, 3, 7, 1000]) {
    const r = decodeChunked(raw, step)
    assert.equal(r.body, 'hello 0123456789')
    assert.ok(r.done)
    assert.deepEqual(r.trailers, [['X-Trailer', 't']])
  }
  assert.equal(decodeChunked('0\r\n\r\n', 1).done, true)
})

test('bad chunk sizes and framing are refused', () => {
  const bad = ['-1\r\n', '0x5\r\nhello\r\n0\r\n\r\n', ' 5\r\nhello\r\n', '5 \r\nhello\r\n', '\r\n', 'g\r\n',
    '5\nhello\r\n', '5\r\nhelloX\r\n', '5\r\nhello\n', '1234567890abc\r\n', '0\r\nX: a\n\r\n', '0\r\nX\r\n\r\n', '5;a\x00\r\nhello']
  for (const raw of bad) {
    assert.throws(() => decodeChunked(raw, 3), HttpMalformedError, JSON.stringify(raw))
  }
  assert.throws(() => decodeChunked('ffffffff\r\n', 100), HttpBodyTooLargeError)
  assert.throws(() => decodeChunked('4\r\nabcd\r\n4\r\nabcd\r\n', 100, { ...DEFAULT_HTTP_LIMITS, maxBodyBytes: 6 }), HttpBodyTooLargeError)
  assert.throws(() => decodeChunked('0\r\n' + 'X: y\r\n'.repeat(4000), 100), HttpHeadersTooLargeError)
  assert.deepEqual(chunkHeader(255), enc('ff\r\n'))
})

test('the serializer refuses names and values that would inject fields or messages', () => {
  assert.deepEqual(serializeRequestHead('GET', '/x', [['Host', 'a']]), enc('GET /x HTTP/1.1\r\nHost: a\r\n\r\n'))
  assert.deepEqual(serializeResponseHead(200, 'OK', [['A', ' b ']]), enc('HTTP/1.1 200 OK\r\nA: b\r\n\r\n'))
  assert.throws(() => serializeRequestHead('GET', '/x', [['X', 'a\r\nEvil: 1']]), HttpInvalidFieldError)
  assert.throws(() => serializeRequestHead('GET', '/x y', []), HttpInvalidFieldError)
  assert.throws(() => serializeRequestHead('GE T', '/', []), HttpInvalidFieldError)
  assert.throws(() => serializeResponseHead(200, 'OK\r\n', []), HttpInvalidFieldError)
  assert.throws(() => serializeResponseHead(200, 'OK', [['Bad Name', 'x']]), HttpInvalidFieldError)
  assert.throws(() => serializeResponseHead(200, 'OK', [['X', '\u0100']]), HttpInvalidFieldError)
  // what we write parses back to the same thing
  const head = serializeRequestHead('PUT', '/a?b', [['Content-Length', '0'], ['X', 'é']])
  assert.deepEqual(parseRequestHead(head).headers, [['Content-Length', '0'], ['X', 'é']])
})
