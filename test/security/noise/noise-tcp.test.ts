/**
 * Noise over real loopback TCP, where the socket hands bytes over in its shared, reused read
 * buffer (borrowed reads): the whole encrypter conformance suite, plus backpressure with a
 * slow reader and several connections sharing the buffer at once.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { runEncrypterConformance } from '../conformance.ts'
import { loopbackTcpPair } from '../../support/tcp-pair.ts'
import { noise } from '../../../src/security/noise/index.ts'
import type { NoiseConnection } from '../../../src/security/noise/noise-connection.ts'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../../src/peer/peer-id.ts'
import type { ByteStream } from '../../../src/interface/stream.ts'
import type { SecuredConnection } from '../../../src/interface/security.ts'
import { InvalidSignatureError } from '../../../src/util/errors.ts'

/** Every socket the tests opened: some tests leave theirs half-open on purpose. */
const opened: ByteStream[] = []
after(() => {
  for (const conn of opened) conn.abort(new Error('test finished'))
})

async function tcpPair (): Promise<[ByteStream, ByteStream]> {
  const pair = await loopbackTcpPair()
  opened.push(...pair)
  return pair
}

runEncrypterConformance('noise (TCP, borrowed reads)', noise(), { authenticates: true, invalidSignatureError: InvalidSignatureError, pair: tcpPair })

async function securedTcpPair (): Promise<[SecuredConnection, SecuredConnection]> {
  const [a, b] = await tcpPair()
  const keyA = await generateKeyPair('Ed25519')
  const keyB = await generateKeyPair('Ed25519')
  const encA = noise()({ privateKey: keyA, peerId: peerIdFromPrivateKey(keyA) })
  const encB = noise()({ privateKey: keyB, peerId: peerIdFromPrivateKey(keyB) })
  return await Promise.all([encA.secureOutbound(a), encB.secureInbound(b)])
}

/** Deterministic bytes, so the receiver can check every byte without keeping a copy. */
function patternByte (i: number): number {
  return (i * 31 + (i >>> 11)) & 0xff
}

function patternChunk (offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = patternByte(offset + i)
  return out
}

async function sendPattern (conn: ByteStream, total: number, seed: number): Promise<void> {
  let sent = 0
  let state = seed
  while (sent < total) {
    state = (state * 1103515245 + 12345) & 0x7fffffff
    const size = Math.min(total - sent, 1 + (state % 150_000))
    await conn.write(patternChunk(sent, size))
    sent += size
  }
  await conn.closeWrite()
}

async function receivePattern (conn: ByteStream, slow: boolean): Promise<{ received: number, maxBuffered: number }> {
  let received = 0
  let maxBuffered = 0
  for (;;) {
    maxBuffered = Math.max(maxBuffered, conn.readableLength)
    const chunk = await conn.read()
    if (chunk === null) break
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== patternByte(received + i)) assert.fail(`byte ${received + i} differs`)
    }
    received += chunk.length
    // A slow reader: give the event loop (and so the socket) a turn before every read.
    if (slow) await new Promise<void>((resolve) => { setImmediate(resolve) })
  }
  return { received, maxBuffered }
}

test('noise over TCP reads through the shared socket buffer', async () => {
  const [out, inb] = await securedTcpPair()
  assert.equal((out.conn as NoiseConnection).borrowedReads, true)
  assert.equal((inb.conn as NoiseConnection).borrowedReads, true)
  await out.conn.close()
  await inb.conn.close()
})

test('noise over TCP: a slow reader bounds what is buffered and every byte arrives in order', async () => {
  const [out, inb] = await securedTcpPair()
  const total = 24 * 1024 * 1024
  const [, result] = await Promise.all([sendPattern(out.conn, total, 3), receivePattern(inb.conn, true)])
  assert.equal(result.received, total)
  // The high-water mark (256 KiB) plus at most one read's worth of frames decrypted past it.
  assert.ok(result.maxBuffered <= 1024 * 1024, `buffered ${result.maxBuffered} bytes`)
  await out.conn.close()
  await inb.conn.close()
})

test('noise over TCP: several connections moving data at once share the read buffer safely', async () => {
  const pairs = await Promise.all([1, 2, 3, 4].map(async () => await securedTcpPair()))
  const total = 6 * 1024 * 1024
  const results = await Promise.all(pairs.flatMap(([out, inb], i) => [
    sendPattern(out.conn, total, 11 + i).then(() => total),
    receivePattern(inb.conn, false).then((r) => r.received),
    sendPattern(inb.conn, total, 21 + i).then(() => total),
    receivePattern(out.conn, false).then((r) => r.received)
  ]))
  for (const r of results) assert.equal(r, total)
  for (const [out, inb] of pairs) {
    await out.conn.close()
    await inb.conn.close()
  }
})
