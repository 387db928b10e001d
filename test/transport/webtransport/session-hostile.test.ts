/**
 * The listener's HTTP/3 and WebTransport layer against a raw HTTP/3 client (our QUIC with ALPN
 * h3, frames written by hand): wrong path, method or a second CONNECT get an HTTP status and the
 * connection lives on; a control stream without SETTINGS, a second control stream, a request
 * starting with DATA, an oversized HEADERS frame and undecodable QPACK close the connection with
 * the RFC 9114/9204 error code; WebTransport streams for a session that never comes are held
 * within a bound and then refused. After Noise on the first stream the listener ends that stream
 * with a FIN and waits for the client's, never STOP_SENDING (a browser client still closing its
 * writer would have that close fail).
 */
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { QuicEndpoint } from '../../../src/transport/quic/endpoint.ts'
import type { QuicConnection } from '../../../src/transport/quic/connection.ts'
import type { QuicStream } from '../../../src/transport/quic/stream.ts'
import { QUIC_TLS_CRYPTO } from '../../../src/transport/quic/index.ts'
import { webTransport } from '../../../src/transport/webtransport/index.ts'
import { parseWebTransportAddress, authorityOf } from '../../../src/transport/webtransport/address.ts'
import { readCertificate } from '../../../src/transport/webtransport/certificates.node.ts'
import { h3QuicConfig } from '../../../src/transport/webtransport/options.ts'
import { encodeFrame, encodeSettings, encodeVarints, Http3FrameType, Http3StreamType, WEBTRANSPORT_BIDI_SIGNAL } from '../../../src/transport/webtransport/http3-frames.ts'
import { headersFrame, localSettings, readResponseHeaders } from '../../../src/transport/webtransport/http3-connection.node.ts'
import { connectRequestFields, responseStatus } from '../../../src/transport/webtransport/session-headers.ts'
import { Http3ErrorCode } from '../../../src/transport/webtransport/errors.ts'
import type { WebTransportTarget } from '../../../src/transport/webtransport/address.ts'
import { noise } from '../../../src/security/noise/index.ts'
import { makeNode, stopAll } from '../../node/helpers.ts'
import type { TestNode } from '../../node/helpers.ts'

let listener: TestNode
let target: WebTransportTarget
const endpoints: QuicEndpoint[] = []

before(async () => {
  listener = await makeNode({ addresses: { listen: ['/ip4/127.0.0.1/udp/0/quic-v1/webtransport'] }, transports: [webTransport()] })
  target = parseWebTransportAddress(listener.getMultiaddrs()[0].decapsulateCode(421), 'dial')!
})
after(async () => {
  for (const e of endpoints) await e.close()
  await stopAll()
})

/** A QUIC connection with ALPN h3 to the listener, our SETTINGS sent, nothing else. */
async function rawH3 (options: { sendSettings?: boolean } = {}): Promise<QuicConnection> {
  const endpoint = new QuicEndpoint(4, {
    privateKey: await generateKeyPair(),
    crypto: QUIC_TLS_CRYPTO,
    config: h3QuicConfig(),
    onIncomingStream: (_c, stream) => { void (async () => { try { for await (const _ of stream) {} } catch {} })() }
  })
  endpoints.push(endpoint)
  await endpoint.bind('127.0.0.1', 0)
  const connection = endpoint.dial({ address: target.host, port: target.port, family: 4 }, undefined, undefined, {
    alpn: ['h3'],
    plainCertificates: { verifyServer: async certificates => readCertificate(certificates[0]).spki }
  })
  await connection.established
  if (options.sendSettings !== false) {
    const control = connection.openUniStream()
    control.send(encodeVarints(Http3StreamType.CONTROL))
    control.send(encodeSettings(localSettings()))
  }
  return connection
}

async function request (connection: QuicConnection, bytes: Uint8Array): Promise<{ stream: QuicStream, status: string | undefined }> {
  const stream = await connection.streams.openStream()
  stream.send(bytes)
  return { stream, status: responseStatus(await readResponseHeaders(stream, AbortSignal.timeout(5000))) }
}

async function closedWith (connection: QuicConnection): Promise<number | undefined> {
  await connection.terminated
  return (connection.error as { errorCode?: number } | undefined)?.errorCode
}

const connect = (path?: string, method?: string): Uint8Array => headersFrame(connectRequestFields(authorityOf(target)).map(([n, v]) => [n, n === ':path' && path !== undefined ? path : n === ':method' && method !== undefined ? method : v] as const))

test('a wrong path gets 404, a wrong method 405, then a good CONNECT 200 and a second one 429', async () => {
  const connection = await rawH3()
  assert.equal((await request(connection, connect('/'))).status, '404')
  assert.equal((await request(connection, connect(undefined, 'GET'))).status, '405')
  assert.equal((await request(connection, connect())).status, '200')
  assert.equal((await request(connection, connect())).status, '429')
  assert.equal(connection.isClosed, false)
  connection.close(0)
})

test('a control stream that does not start with SETTINGS closes the connection with H3_MISSING_SETTINGS', async () => {
  const connection = await rawH3({ sendSettings: false })
  const control = connection.openUniStream()
  control.send(encodeVarints(Http3StreamType.CONTROL))
  control.send(encodeFrame(Http3FrameType.GOAWAY, encodeVarints(0)))
  assert.equal(await closedWith(connection), Http3ErrorCode.MISSING_SETTINGS)
})

test('a second control stream closes the connection with H3_STREAM_CREATION_ERROR', async () => {
  const connection = await rawH3()
  const second = connection.openUniStream()
  second.send(encodeVarints(Http3StreamType.CONTROL))
  second.send(encodeSettings(localSettings()))
  assert.equal(await closedWith(connection), Http3ErrorCode.STREAM_CREATION_ERROR)
})

test('a request that starts with DATA closes the connection with H3_FRAME_UNEXPECTED', async () => {
  const connection = await rawH3()
  const stream = await connection.streams.openStream()
  stream.send(encodeFrame(Http3FrameType.DATA, new Uint8Array(10)))
  assert.equal(await closedWith(connection), Http3ErrorCode.FRAME_UNEXPECTED)
})

test('a HEADERS frame claiming 1 GiB closes the connection with H3_EXCESSIVE_LOAD, nothing buffered', async () => {
  const connection = await rawH3()
  const stream = await connection.streams.openStream()
  stream.send(encodeVarints(Http3FrameType.HEADERS, 2 ** 30))
  stream.send(new Uint8Array(1000))
  assert.equal(await closedWith(connection), Http3ErrorCode.EXCESSIVE_LOAD)
})

test('undecodable QPACK (a dynamic table reference) closes the connection with QPACK_DECOMPRESSION_FAILED', async () => {
  const connection = await rawH3()
  const stream = await connection.streams.openStream()
  stream.send(encodeFrame(Http3FrameType.HEADERS, Uint8Array.of(0x01, 0x00, 0x80)))
  assert.equal(await closedWith(connection), Http3ErrorCode.QPACK_DECOMPRESSION_FAILED)
})

test('WebTransport streams for a session that never comes: 32 held, the rest reset, the connection lives', async () => {
  const connection = await rawH3()
  const streams: QuicStream[] = []
  for (let i = 0; i < 40; i++) {
    const s = await connection.streams.openStream()
    s.send(encodeVarints(WEBTRANSPORT_BIDI_SIGNAL, 1000))
    s.send(new Uint8Array(16))
    streams.push(s)
  }
  const outcomes = await Promise.all(streams.map(async s => {
    try {
      await s.read({ signal: AbortSignal.timeout(3000) })
      return 'data'
    } catch (err) {
      return (err as Error).name
    }
  }))
  assert.equal(outcomes.filter(o => o === 'StreamResetError').length, 8)
  assert.equal(connection.isClosed, false)
  connection.close(0)
})

test('after Noise the listener ends the handshake stream with a FIN and no STOP_SENDING while the client has not closed its side', async () => {
  const connection = await rawH3()
  const { stream: connectStream, status } = await request(connection, connect())
  assert.equal(status, '200')
  const handshakeStream = await connection.streams.openStream()
  let stopSendings = 0
  const receiveStopSending = handshakeStream.receiveStopSending.bind(handshakeStream)
  handshakeStream.receiveStopSending = (code: number): void => { stopSendings++; receiveStopSending(code) }
  handshakeStream.send(encodeVarints(WEBTRANSPORT_BIDI_SIGNAL, connectStream.quicId))
  const secured = await noise()({ privateKey: await generateKeyPair() }).secureOutbound(handshakeStream, { remotePeer: listener.peerId })
  assert.ok(secured.remotePeer.equals(listener.peerId))
  // As js-libp2p in a browser: the listener's end arrives while our write side is still open
  // (a STOP_SENDING would have been queued with that FIN, ahead of it).
  assert.equal(await secured.conn.read({ signal: AbortSignal.timeout(5000) }), null)
  assert.equal(stopSendings, 0)
  await secured.conn.closeWrite({ signal: AbortSignal.timeout(5000) })
  await handshakeStream.closed
  assert.equal(handshakeStream.status, 'closed')
  assert.equal(stopSendings, 0)
  connection.close(0)
})
