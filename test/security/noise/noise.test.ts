import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runEncrypterConformance, pattern, readAll } from '../conformance.ts'
import { noise, NOISE_PROTOCOL, MAX_PLAINTEXT_LENGTH, type NoiseInit } from '../../../src/security/noise/index.ts'
import { noiseCrypto as nodeCrypto } from '../../../src/security/noise/crypto.node.ts'
import { noiseCrypto as webCrypto } from '../../../src/security/noise/crypto.browser.ts'
import { decodeHandshakePayload, encodeHandshakePayload } from '../../../src/security/noise/payload.ts'
import { selectMuxer } from '../../../src/security/noise/handshake.ts'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../../src/peer/peer-id.ts'
import type { ByteStream } from '../../../src/interface/stream.ts'
import { duplexPair, type DuplexPairOptions } from '../../../src/util/duplex-pair.ts'
import {
  InvalidMessageError, InvalidSignatureError, Libp2pError, UnexpectedEOFError
} from '../../../src/util/errors.ts'

runEncrypterConformance('noise', noise(), { authenticates: true, invalidSignatureError: InvalidSignatureError })
runEncrypterConformance('noise (portable backend)', noise({ crypto: webCrypto }), { authenticates: true, invalidSignatureError: InvalidSignatureError })

/**
 * Two duplex pairs joined by a relay that re-slices every chunk at pseudo-random points and
 * sometimes merges chunks, so frames arrive split across chunks and several per chunk.
 */
function rechunkingPair (options?: DuplexPairOptions): [ByteStream, ByteStream] {
  const [a, x] = duplexPair(options)
  const [y, b] = duplexPair(options)
  let seed = 7
  const relay = async (from: ByteStream, to: ByteStream): Promise<void> => {
    let carry: Uint8Array | undefined
    try {
      for (;;) {
        const chunk = await from.read()
        if (chunk === null) break
        let data = chunk
        if (carry !== undefined) { data = new Uint8Array(carry.length + chunk.length); data.set(carry); data.set(chunk, carry.length); carry = undefined }
        seed = (seed * 1103515245 + 12345) & 0x7fffffff
        if (seed % 5 === 0 && from.readableLength > 0) { carry = data; continue }
        for (let offset = 0; offset < data.length;) {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff
          const size = 1 + (seed % 70_000)
          await to.write(data.subarray(offset, offset + size))
          offset += size
        }
      }
      if (carry !== undefined) await to.write(carry)
      await to.closeWrite()
    } catch (err) {
      to.abort(err as Error)
    }
  }
  void relay(x, y)
  void relay(y, x)
  return [a, b]
}

runEncrypterConformance('noise (re-chunked transport)', noise(), { authenticates: true, invalidSignatureError: InvalidSignatureError, pair: rechunkingPair })

async function securedPair (init: NoiseInit = {}, initB: NoiseInit = init, muxers?: [string[]?, string[]?]) {
  const keyA = await generateKeyPair('Ed25519')
  const keyB = await generateKeyPair('Ed25519')
  const [rawA, rawB] = duplexPair()
  const [a, b] = await Promise.all([
    noise(init)({ privateKey: keyA }).secureOutbound(rawA, { remotePeer: peerIdFromPrivateKey(keyB), streamMuxers: muxers?.[0] }),
    noise(initB)({ privateKey: keyB }).secureInbound(rawB, { streamMuxers: muxers?.[1] })
  ])
  return { a, b, rawA, rawB }
}

test('noise: protocol id and node/portable backends interoperate both ways', async () => {
  assert.equal(noise()({ privateKey: await generateKeyPair('Ed25519') }).protocol, NOISE_PROTOCOL)
  for (const [ca, cb] of [[nodeCrypto, webCrypto], [webCrypto, nodeCrypto]]) {
    const { a, b } = await securedPair({ crypto: ca }, { crypto: cb })
    const data = pattern(200_000, 9)
    const [got] = await Promise.all([readAll(b.conn), a.conn.write(data).then(async () => { await a.conn.closeWrite() })])
    assert.deepEqual(got, data)
    assert.deepEqual(a.handshakeHash, b.handshakeHash)
  }
})

/** Captures what `conn` hands to `raw` until every queued microtask ran, as frames. */
async function captureFrames (raw: ByteStream, send: () => void): Promise<{ wire: Uint8Array, frames: number[], writes: number }> {
  const pieces: Uint8Array[] = []
  const original = raw.send
  raw.send = (chunk: Uint8Array) => { pieces.push(chunk); return true }
  try {
    send()
    // setImmediate runs after every microtask, where the last short frame is sealed
    await new Promise(resolve => setImmediate(resolve))
  } finally {
    raw.send = original
  }
  const wire = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const piece of pieces) { wire.set(piece, offset); offset += piece.length }
  const frames: number[] = []
  for (let at = 0; at < wire.length; at += 2 + frames[frames.length - 1]) frames.push((wire[at] << 8) | wire[at + 1])
  return { wire, frames, writes: pieces.length }
}

test('noise: frames carry at most 65519 plaintext bytes and survive any chunking', async () => {
  const { a, b, rawA } = await securedPair()
  const data = pattern(MAX_PLAINTEXT_LENGTH + 1, 12)
  const { wire, frames } = await captureFrames(rawA, () => { a.conn.send(data) })
  assert.deepEqual(frames, [65535, 17])
  // Deliver the first frame byte by byte for a while, then the rest merged with the next frame.
  const reading = readAll(b.conn)
  for (let i = 0; i < 3000; i++) rawA.send(wire.subarray(i, i + 1))
  rawA.send(wire.subarray(3000))
  await rawA.closeWrite()
  assert.deepEqual(await reading, data)
})

test('noise: writes made together share frames (a muxer header rides with its payload)', async () => {
  const { a, b, rawA } = await securedPair()
  const header = pattern(12, 1)
  const payload = pattern(65536, 2)
  const small = [pattern(5, 3), pattern(7, 4), pattern(1, 5)]
  const { wire, frames } = await captureFrames(rawA, () => {
    a.conn.send(header)
    a.conn.send(payload)
    for (const s of small) a.conn.send(s)
  })
  // 12 + 65536 + 13 bytes: one full frame and one with the remaining 42, not one per write
  assert.deepEqual(frames, [65535, 42 + 16])
  const reading = readAll(b.conn)
  rawA.send(wire)
  await rawA.closeWrite()
  assert.deepEqual(await reading, Uint8Array.from([...header, ...payload, ...small.flatMap(s => [...s])]))
})

test('noise: frames split anywhere, including inside the tag, decrypt', async () => {
  const { a, b, rawA } = await securedPair()
  const data = pattern(3 * MAX_PLAINTEXT_LENGTH + 100, 21)
  const { wire, frames } = await captureFrames(rawA, () => { a.conn.send(data) })
  assert.deepEqual(frames, [65535, 65535, 65535, 116])
  const reading = readAll(b.conn)
  // cut so that tags straddle chunk boundaries in every possible way (1..16 bytes on one side)
  const frameEnd = 2 + 65535
  const cuts = [frameEnd - 16, frameEnd - 15, frameEnd - 1, frameEnd, 2 * frameEnd - 8, 2 * frameEnd - 7, 3 * frameEnd - 1, wire.length - 3]
  let from = 0
  for (const cut of cuts) { rawA.send(wire.subarray(from, cut)); from = cut }
  rawA.send(wire.subarray(from))
  await rawA.closeWrite()
  assert.deepEqual(await reading, data)
})

test('noise: a tampered byte in a frame that spans chunks resets the connection', async () => {
  const { a, b, rawA } = await securedPair()
  const { wire } = await captureFrames(rawA, () => { a.conn.send(pattern(1000, 3)) })
  const reading = b.conn.read()
  wire[500] ^= 1
  rawA.send(wire.subarray(0, 400))
  rawA.send(wire.subarray(400, 1010))
  rawA.send(wire.subarray(1010))
  await assert.rejects(reading, InvalidMessageError)
  assert.equal(b.conn.status, 'reset')
})

test('noise: a tampered tag split across chunks resets the connection before any of the frame is read', async () => {
  const { a, b, rawA } = await securedPair()
  const { wire } = await captureFrames(rawA, () => { a.conn.send(pattern(1000, 5)) })
  const reading = b.conn.read()
  wire[wire.length - 3] ^= 0x80
  rawA.send(wire.subarray(0, 300))
  rawA.send(wire.subarray(300, wire.length - 8))
  rawA.send(wire.subarray(wire.length - 8))
  await assert.rejects(reading, InvalidMessageError)
  assert.equal(b.conn.status, 'reset')
})

test('noise: close flushes plaintext still waiting for its frame', async () => {
  const { a, b } = await securedPair()
  const reading = readAll(b.conn)
  a.conn.send(pattern(10, 1))
  await a.conn.closeWrite()
  assert.deepEqual(await reading, pattern(10, 1))
})

test('noise: inlined muxer negotiation follows the initiator preference', async () => {
  const both = await securedPair({}, {}, [['/yamux/1.0.0', '/mplex/6.7.0'], ['/mplex/6.7.0', '/yamux/1.0.0']])
  assert.equal(both.a.streamMuxer, '/yamux/1.0.0')
  assert.equal(both.b.streamMuxer, '/yamux/1.0.0')
  assert.deepEqual(both.a.remoteExtensions?.streamMuxers, ['/mplex/6.7.0', '/yamux/1.0.0'])

  const oneSided = await securedPair({}, {}, [['/yamux/1.0.0'], undefined])
  assert.equal(oneSided.a.streamMuxer, undefined)
  assert.equal(oneSided.b.streamMuxer, undefined)

  const disjoint = await securedPair({}, {}, [['/yamux/1.0.0'], ['/mplex/6.7.0']])
  assert.equal(disjoint.a.streamMuxer, undefined)
  assert.equal(disjoint.b.streamMuxer, undefined)

  const fromInit = await securedPair({ extensions: { streamMuxers: ['/mplex/6.7.0'] } })
  assert.equal(fromInit.a.streamMuxer, '/mplex/6.7.0')
  assert.equal(selectMuxer(['/b', '/a'], ['/a', '/b']), '/b')
})

test('noise: generated X25519 key pairs carry the raw keys that belong together (both backends)', () => {
  for (const backend of [nodeCrypto, webCrypto]) {
    for (let i = 0; i < 20; i++) {
      const pair = backend.generateX25519KeyPair()
      assert.equal(pair.privateKey.length, 32)
      assert.deepEqual(webCrypto.x25519KeyPairFromPrivateKey(pair.privateKey).publicKey, pair.publicKey)
      const other = backend.generateX25519KeyPair()
      assert.deepEqual(nodeCrypto.x25519(pair, other.publicKey), webCrypto.x25519(other, pair.publicKey))
    }
  }
})

test('noise: a static key given in options is used', async () => {
  const staticNoiseKey = new Uint8Array(32).fill(3)
  const encrypter = noise({ staticNoiseKey })({ privateKey: await generateKeyPair('Ed25519') })
  assert.deepEqual(encrypter.staticPublicKey, nodeCrypto.x25519KeyPairFromPrivateKey(staticNoiseKey).publicKey)
})

test('noise: a frame with a bad tag resets the connection with InvalidMessageError', async () => {
  const { b, rawA } = await securedPair()
  const reading = b.conn.read()
  rawA.send(Uint8Array.of(0, 20, ...new Uint8Array(20).fill(1)))
  await assert.rejects(reading, InvalidMessageError)
  assert.equal(b.conn.status, 'reset')
  await assert.rejects(rawA.read()) // the raw connection was torn down too
})

test('noise: a frame shorter than its tag is refused', async () => {
  const { b, rawA } = await securedPair()
  const reading = b.conn.read()
  rawA.send(Uint8Array.of(0, 15, ...new Uint8Array(15)))
  await assert.rejects(reading, InvalidMessageError)
})

test('noise: a connection that ends inside a frame gives UnexpectedEOFError', async () => {
  for (const partial of [Uint8Array.of(0x01), Uint8Array.of(0x01, 0x00, 1, 2, 3)]) {
    const { b, rawA } = await securedPair()
    const reading = b.conn.read()
    rawA.send(partial)
    await rawA.closeWrite()
    await assert.rejects(reading, UnexpectedEOFError)
  }
})

test('noise: random bytes during the handshake give typed errors and never hang', async () => {
  const privateKey = await generateKeyPair('Ed25519')
  const remotePeer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const encrypter = noise()({ privateKey })
  let seed = 99
  for (let i = 0; i < 60; i++) {
    const input = new Uint8Array(i < 30 ? i * 7 : 2 + 32 + i * 11)
    for (let j = 0; j < input.length; j++) { seed = (seed * 1103515245 + 12345) & 0x7fffffff; input[j] = seed & 0xff }
    if (i >= 30) { input[0] = (input.length - 2) >>> 8; input[1] = (input.length - 2) & 0xff }
    for (const inbound of [true, false]) {
      const [raw, remote] = duplexPair({ highWaterMark: 1 << 20 })
      const securing = inbound ? encrypter.secureInbound(raw) : encrypter.secureOutbound(raw, { remotePeer })
      await remote.write(input)
      await remote.closeWrite()
      await assert.rejects(securing, (err: unknown) => err instanceof Libp2pError, `case ${i} ${inbound ? 'inbound' : 'outbound'}`)
    }
  }
})

test('noise: handshake payload codec round-trips and rejects garbage with InvalidMessageError', () => {
  const payload = {
    identityKey: Uint8Array.of(8, 1, 18, 2, 9, 9),
    identitySig: new Uint8Array(64).fill(5),
    extensions: { webtransportCerthashes: [Uint8Array.of(0x12, 0x20, 1)], streamMuxers: ['/yamux/1.0.0'] }
  }
  assert.deepEqual(decodeHandshakePayload(encodeHandshakePayload(payload)), payload)
  const bare = decodeHandshakePayload(encodeHandshakePayload({ ...payload, extensions: { webtransportCerthashes: [], streamMuxers: [] } }))
  assert.equal(bare.extensions, undefined)
  let seed = 5
  for (let i = 0; i < 500; i++) {
    const bytes = new Uint8Array(i % 80)
    for (let j = 0; j < bytes.length; j++) { seed = (seed * 1103515245 + 12345) & 0x7fffffff; bytes[j] = seed & 0xff }
    try { decodeHandshakePayload(bytes) } catch (err) { assert.ok(err instanceof InvalidMessageError, String(err)) }
  }
})

test('noise: a clean close on both sides closes the raw connections too', async () => {
  const { a, b, rawA, rawB } = await securedPair()
  await a.conn.write(Uint8Array.of(1))
  assert.deepEqual(await b.conn.read(), Uint8Array.of(1))
  await Promise.all([a.conn.close(), b.conn.close()])
  await Promise.all([a.conn.closed, b.conn.closed, rawA.closed, rawB.closed])
  assert.equal(rawA.status, 'closed')
  assert.equal(rawB.status, 'closed')
  assert.equal(a.conn.error, undefined)
})

test('noise: closeRead while a frame is half received does not reset the connection', async () => {
  const { a, b, rawA } = await securedPair()
  rawA.send(Uint8Array.of(0x01, 0x00, 1, 2, 3)) // the start of a 256-byte frame
  await b.conn.write(Uint8Array.of(9))
  b.conn.closeRead()
  assert.equal(b.conn.status, 'open')
  assert.deepEqual(await a.conn.read(), Uint8Array.of(9))
  await b.conn.closeWrite()
  assert.equal(b.conn.error, undefined)
})
