/**
 * Fuzz targets of HTTP over libp2p: request and response heads with their body framing (the
 * bytes after the head go through the chunked decoder when the head says chunked), the chunked
 * decoder alone, and the fetch protocol's messages. Joined into targets.ts's list and seeds.
 */
import { findHeadEnd, parseRequestHead, parseResponseHead, requestFraming, responseFraming, DEFAULT_HTTP_LIMITS } from '../../src/protocols/http/head.ts'
import { ChunkedDecoder } from '../../src/protocols/http/chunked.ts'
import { utf8Encode } from '../../src/util/bytes.ts'
import { decodeFetchRequest, decodeFetchResponse, encodeFetchRequest, encodeFetchResponse } from '../../src/protocols/fetch/messages.ts'
import type { FuzzTarget } from './target.ts'

const LIMITS = { ...DEFAULT_HTTP_LIMITS, maxHeaderBytes: 4096, maxBodyBytes: 1 << 20 }

function decodeChunked (input: Uint8Array): void {
  const decoder = new ChunkedDecoder(LIMITS)
  let offset = 0
  while (offset < input.length && !decoder.done) offset = decoder.decode(input, offset).offset
}

function message (input: Uint8Array, kind: 'request' | 'response'): void {
  const end = findHeadEnd(input, 0, { resume: 0 })
  if (end < 0) return
  const head = input.subarray(0, end)
  const framing = kind === 'request'
    ? requestFraming(parseRequestHead(head, LIMITS), LIMITS)
    : responseFraming(parseResponseHead(head, LIMITS), 'GET', LIMITS)
  if (framing.kind === 'chunked') decodeChunked(input.subarray(end))
}

export const httpTargets: FuzzTarget[] = [
  { name: 'http-request', run: (b) => { message(b, 'request') }, dictionary: ['Content-Length', 'Transfer-Encoding', 'chunked', 'HTTP/1.1', '\r\n', ': '].map(utf8Encode) },
  { name: 'http-response', run: (b) => { message(b, 'response') } },
  { name: 'http-chunked', run: (b) => { decodeChunked(b) } },
  { name: 'fetch-request', run: (b) => { decodeFetchRequest(b) } },
  { name: 'fetch-response', run: (b) => { decodeFetchResponse(b) } }
]

export function httpSeeds (): Record<string, Uint8Array[]> {
  return {
    'http-request': [
      'GET /.well-known/libp2p/protocols HTTP/1.1\r\nHost: 12D3KooW\r\nAccept: application/json\r\n\r\n',
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n\r\n',
      'PUT /x HTTP/1.0\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc'
    ].map(utf8Encode),
    'http-response': [
      'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
      'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: libp2p-PeerID challenge-client="abc", opaque="x"\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
    ].map(utf8Encode),
    'http-chunked': ['5\r\nhello\r\n1;x\r\n \r\n0\r\nTrailer: t\r\n\r\n', 'a\r\n0123456789\r\n0\r\n\r\n'].map(utf8Encode),
    'fetch-request': [encodeFetchRequest(utf8Encode('/ipns/k51qzi5uqu5d'))],
    'fetch-response': [encodeFetchResponse({ status: 0, data: utf8Encode('value') }), encodeFetchResponse({ status: 2, data: utf8Encode('lookup failed') })]
  }
}
