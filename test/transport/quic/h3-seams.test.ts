/**
 * The QUIC seams HTTP/3 (WebTransport) uses, below the WebTransport layer: DATAGRAM and
 * RESET_STREAM_AT frames decode (and bad ones are QuicDecodeError), the max_datagram_frame_size
 * and reset_stream_at parameters are announced only where the config asks, and unidirectional
 * streams: data flows, opening one past the peer's `maxIncomingUniStreams` is refused with
 * STREAM_LIMIT_ERROR, a receive-only stream refuses writes, a send-only one reads end-of-stream.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { QuicReader, writeVarint } from '../../../src/transport/quic/varint.ts'
import { decodeFrame } from '../../../src/transport/quic/frames.ts'
import { decodeTransportParameters, encodeLocalParameters } from '../../../src/transport/quic/transport-parameters.ts'
import { DEFAULT_QUIC_CONFIG } from '../../../src/transport/quic/config.ts'
import { QuicDecodeError, QuicTransportErrorCode } from '../../../src/transport/quic/errors.ts'
import { QuicEndpoint } from '../../../src/transport/quic/endpoint.ts'
import type { QuicStream } from '../../../src/transport/quic/stream.ts'
import { QUIC_TLS_CRYPTO } from '../../../src/transport/quic/index.ts'
import { generateKeyPair } from '../../../src/crypto/index.ts'

const varints = (...values: number[]): Uint8Array => {
  const out = new Uint8Array(8 * values.length)
  let o = 0
  for (const v of values) o = writeVarint(out, o, v)
  return out.subarray(0, o)
}

test('DATAGRAM (with and without a length) and RESET_STREAM_AT decode; bad ones are QuicDecodeError', () => {
  assert.deepEqual(decodeFrame(new QuicReader(Uint8Array.of(0x31, 3, 1, 2, 3))), { type: 'datagram', data: Uint8Array.of(1, 2, 3) })
  assert.deepEqual(decodeFrame(new QuicReader(Uint8Array.of(0x30, 9, 9))), { type: 'datagram', data: Uint8Array.of(9, 9) })
  assert.throws(() => decodeFrame(new QuicReader(Uint8Array.of(0x31, 5, 1))), QuicDecodeError)
  assert.deepEqual(decodeFrame(new QuicReader(varints(0x24, 4, 7, 100, 10))), { type: 'reset_stream', streamId: 4, errorCode: 7, finalSize: 100, reliableSize: 10 })
  assert.throws(() => decodeFrame(new QuicReader(varints(0x24, 4, 7, 10, 11))), QuicDecodeError)
})

test('max_datagram_frame_size and reset_stream_at are announced only when configured', () => {
  const ids = { initialSource: new Uint8Array(8), originalDestination: new Uint8Array(8) }
  const plain = decodeTransportParameters(encodeLocalParameters(DEFAULT_QUIC_CONFIG, 'client', ids), false)
  assert.equal(plain.maxDatagramFrameSize, 0)
  assert.equal(plain.initialMaxStreamsUni, 0)
  const h3Bytes = encodeLocalParameters({ ...DEFAULT_QUIC_CONFIG, maxDatagramFrameSize: 65535, maxIncomingUniStreams: 16, announceResetStreamAt: true }, 'client', ids)
  const h3 = decodeTransportParameters(h3Bytes, false)
  assert.equal(h3.maxDatagramFrameSize, 65535)
  assert.equal(h3.initialMaxStreamsUni, 16)
  assert.ok(h3.initialMaxStreamDataUni > 0)
  // reset_stream_at (0x17f7586d2cb571, an 8-byte varint id) with an empty value.
  assert.ok(Buffer.from(h3Bytes).includes(Buffer.from('c017f7586d2cb57100', 'hex')))
})

const endpoints: QuicEndpoint[] = []
after(async () => { for (const e of endpoints) await e.close() })

test('unidirectional streams: data flows, opening one past the peer\'s limit is STREAM_LIMIT_ERROR', async () => {
  const incoming: QuicStream[] = []
  const config = { maxIncomingUniStreams: 2 }
  const server = new QuicEndpoint(4, { privateKey: await generateKeyPair(), crypto: QUIC_TLS_CRYPTO, config, onIncomingStream: (_c, s) => { incoming.push(s) } })
  const client = new QuicEndpoint(4, { privateKey: await generateKeyPair(), crypto: QUIC_TLS_CRYPTO, config, onIncomingStream: () => {} })
  endpoints.push(server, client)
  await server.bind('127.0.0.1', 0)
  await client.bind('127.0.0.1', 0)
  server.setAccepting(true)
  const connection = client.dial({ address: '127.0.0.1', port: server.address().port, family: 4 })
  await connection.established
  const first = connection.openUniStream()
  assert.equal(first.kind, 'send-only')
  assert.equal(await first.read(), null)
  await first.write(Uint8Array.of(1, 2, 3))
  await first.closeWrite()
  connection.openUniStream()
  // Our peer allowed two: a third cannot be opened.
  assert.throws(() => connection.openUniStream(), { transportCode: QuicTransportErrorCode.STREAM_LIMIT_ERROR })
  while (incoming.length === 0) await new Promise(resolve => setImmediate(resolve))
  const received = incoming[0]
  assert.equal(received.kind, 'receive-only')
  const chunks: number[] = []
  for await (const c of received) chunks.push(...c)
  assert.deepEqual(chunks, [1, 2, 3])
  await assert.rejects(received.write(Uint8Array.of(1)), { name: 'StreamClosedError' })
  connection.close(0)
  await connection.terminated
})
