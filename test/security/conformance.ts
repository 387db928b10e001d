/**
 * The conformance suite every ConnectionEncrypter runs: handshake both ways over an in-memory
 * duplex pair, byte-exact data both ways (large and many small writes), half-close,
 * backpressure, peer id checks, a lying peer, and abort propagation.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '../../src/crypto/index.ts'
import type { PrivateKey } from '../../src/interface/keys.ts'
import type { PeerId } from '../../src/interface/peer-id.ts'
import type { ConnectionEncrypter, SecuredConnection } from '../../src/interface/security.ts'
import type { ByteStream } from '../../src/interface/stream.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { duplexPair, type DuplexPairOptions } from '../../src/util/duplex-pair.ts'
import { Libp2pError, UnexpectedPeerError } from '../../src/util/errors.ts'

export type EncrypterFactory = (components: { privateKey: PrivateKey, peerId?: PeerId }) => ConnectionEncrypter

export interface ConformanceOptions {
  /** The encrypter proves key possession (signature); a peer lying about its key is rejected. */
  authenticates: boolean
  /** Error class expected when the remote signs with a key other than the one it presents. */
  invalidSignatureError?: new (...args: any[]) => Error
  /** Optional wrapper between the two raw ends (e.g. one that re-chunks bytes). */
  /** The raw connection pair under test (default: an in-memory duplex pair). */
  pair?: (options?: DuplexPairOptions) => [ByteStream, ByteStream] | Promise<[ByteStream, ByteStream]>
}

interface Peer { privateKey: PrivateKey, peerId: PeerId, encrypter: ConnectionEncrypter }

async function makePeer (factory: EncrypterFactory): Promise<Peer> {
  const privateKey = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(privateKey)
  return { privateKey, peerId, encrypter: factory({ privateKey, peerId }) }
}

/** A deterministic pseudo-random byte pattern, so mismatches show where they start. */
export function pattern (length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed | 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

export async function readAll (stream: ByteStream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let length = 0
  for await (const chunk of stream) { chunks.push(chunk); length += chunk.length }
  const out = new Uint8Array(length)
  let offset = 0
  for (const c of chunks) { out.set(c, offset); offset += c.length }
  return out
}

async function writeInChunks (stream: ByteStream, data: Uint8Array, seed: number): Promise<void> {
  let x = seed
  for (let offset = 0; offset < data.length;) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    const size = 1 + (x % 200_000)
    await stream.write(data.subarray(offset, offset + size))
    offset += size
  }
  await stream.closeWrite()
}

function assertSameBytes (actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`)
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength)
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength)
  assert.ok(a.equals(b), `${what}: content differs`)
}

export function runEncrypterConformance (name: string, factory: EncrypterFactory, options: ConformanceOptions): void {
  const pair = options.pair ?? duplexPair

  async function connect (dialer: Peer, listener: Peer, expected: PeerId | undefined = listener.peerId): Promise<[SecuredConnection, SecuredConnection]> {
    const [a, b] = await pair()
    return await Promise.all([
      dialer.encrypter.secureOutbound(a, { remotePeer: expected }),
      listener.encrypter.secureInbound(b)
    ])
  }

  test(`${name}: handshake both ways learns the remote peer id and key`, async () => {
    const alice = await makePeer(factory)
    const bob = await makePeer(factory)
    for (const [dialer, listener] of [[alice, bob], [bob, alice]]) {
      const [out, inb] = await connect(dialer, listener)
      assert.ok(out.remotePeer.equals(listener.peerId))
      assert.ok(inb.remotePeer.equals(dialer.peerId))
      assert.ok(out.remotePublicKey.equals(listener.privateKey.publicKey))
      assert.ok(inb.remotePublicKey.equals(dialer.privateKey.publicKey))
      await out.conn.close()
      await inb.conn.close()
    }
  })

  test(`${name}: 10 MiB each way arrive byte-exact`, async () => {
    const [out, inb] = await connect(await makePeer(factory), await makePeer(factory))
    const up = pattern(10 * 1024 * 1024, 1)
    const down = pattern(10 * 1024 * 1024 + 7, 2)
    const [receivedUp, receivedDown] = await Promise.all([
      readAll(inb.conn),
      readAll(out.conn),
      writeInChunks(out.conn, up, 3),
      writeInChunks(inb.conn, down, 4)
    ])
    assertSameBytes(receivedUp, up, 'dialer to listener')
    assertSameBytes(receivedDown, down, 'listener to dialer')
    await Promise.all([out.conn.closed, inb.conn.closed])
    assert.equal(out.conn.status, 'closed')
    assert.equal(inb.conn.status, 'closed')
  })

  test(`${name}: many small writes keep their order`, async () => {
    const [out, inb] = await connect(await makePeer(factory), await makePeer(factory))
    const data = pattern(50_000, 5)
    const receiving = readAll(inb.conn)
    for (let offset = 0, size = 1; offset < data.length; offset += size, size = (size % 13) + 1) {
      if (!out.conn.send(data.subarray(offset, offset + size))) await out.conn.drain()
    }
    await out.conn.closeWrite()
    assertSameBytes(await receiving, data, 'small writes')
  })

  test(`${name}: half-close reaches the remote, which can still answer`, async () => {
    const [out, inb] = await connect(await makePeer(factory), await makePeer(factory))
    await out.conn.write(Uint8Array.of(1, 2, 3))
    await out.conn.closeWrite()
    assert.deepEqual(await readAll(inb.conn), Uint8Array.of(1, 2, 3))
    assert.equal(inb.conn.readStatus, 'closed')
    await inb.conn.write(Uint8Array.of(4, 5))
    await inb.conn.closeWrite()
    assert.deepEqual(await readAll(out.conn), Uint8Array.of(4, 5))
    await Promise.all([out.conn.closed, inb.conn.closed])
    assert.equal(out.conn.error, undefined)
    assert.equal(inb.conn.error, undefined)
  })

  test(`${name}: a reader that stops reading pushes back on the writer`, async () => {
    const [out, inb] = await connect(await makePeer(factory), await makePeer(factory))
    const chunk = new Uint8Array(16 * 1024)
    let sent = 0
    while (out.conn.send(chunk)) {
      sent += chunk.length
      assert.ok(sent < 8 * 1024 * 1024, 'send() never reported backpressure')
    }
    sent += chunk.length
    let drained = false
    const draining = out.conn.drain().then(() => { drained = true })
    // Reading everything buffered releases the writer.
    let received = 0
    while (received < sent) received += (await inb.conn.read())!.length
    await draining
    assert.ok(drained)
    await out.conn.close()
    await inb.conn.close()
  })

  test(`${name}: a dialer expecting another peer rejects the handshake`, async () => {
    const alice = await makePeer(factory)
    const bob = await makePeer(factory)
    const carol = await makePeer(factory)
    const [a, b] = await pair()
    const [dialed, listened] = await Promise.allSettled([
      alice.encrypter.secureOutbound(a, { remotePeer: carol.peerId }),
      bob.encrypter.secureInbound(b)
    ])
    assert.equal(dialed.status, 'rejected')
    assert.ok((dialed as PromiseRejectedResult).reason instanceof UnexpectedPeerError)
    // The listener either failed too or got a connection that is already dead.
    if (listened.status === 'fulfilled') await assert.rejects(listened.value.conn.read())
  })

  test(`${name}: a peer claiming another peer id is not believed`, async () => {
    const alice = await makePeer(factory)
    const bob = await makePeer(factory)
    const mallory = await makePeer(factory)
    // Mallory's encrypter is told it is Bob.
    const liar: Peer = { ...mallory, encrypter: factory({ privateKey: mallory.privateKey, peerId: bob.peerId }) }
    const [a, b] = await pair()
    const [dialed] = await Promise.allSettled([
      alice.encrypter.secureOutbound(a),
      liar.encrypter.secureInbound(b)
    ])
    if (dialed.status === 'fulfilled') {
      assert.ok(dialed.value.remotePeer.equals(mallory.peerId), 'the real identity is learned, not the claimed one')
      await dialed.value.conn.close()
    } else {
      assert.ok(dialed.reason instanceof Libp2pError, String(dialed.reason))
    }
  })

  if (options.authenticates) {
    test(`${name}: a peer presenting a key it cannot sign with is rejected`, async () => {
      const alice = await makePeer(factory)
      const bob = await makePeer(factory)
      const mallory = await makePeer(factory)
      // Presents Bob's public key but signs with Mallory's private key.
      const forged: PrivateKey = {
        type: mallory.privateKey.type,
        raw: mallory.privateKey.raw,
        publicKey: bob.privateKey.publicKey,
        sign: async (data) => await mallory.privateKey.sign(data),
        toProtobuf: () => mallory.privateKey.toProtobuf(),
        equals: (other) => mallory.privateKey.equals(other)
      }
      const liar = factory({ privateKey: forged, peerId: bob.peerId })
      for (const liarDials of [false, true]) {
        const [a, b] = await pair()
        const [honest, lying] = liarDials
          ? await Promise.allSettled([alice.encrypter.secureInbound(b), liar.secureOutbound(a)])
          : await Promise.allSettled([alice.encrypter.secureOutbound(a, { remotePeer: bob.peerId }), liar.secureInbound(b)])
        assert.equal(honest.status, 'rejected', `liar ${liarDials ? 'dialing' : 'listening'} was accepted`)
        const reason = (honest as PromiseRejectedResult).reason
        if (options.invalidSignatureError !== undefined) assert.ok(reason instanceof options.invalidSignatureError, String(reason))
        if (lying.status === 'fulfilled') await assert.rejects(lying.value.conn.read())
      }
    })
  }

  test(`${name}: abort after the handshake reaches the remote`, async () => {
    const [out, inb] = await connect(await makePeer(factory), await makePeer(factory))
    const pending = inb.conn.read()
    out.conn.abort(new Error('boom'))
    await assert.rejects(pending)
    assert.equal(out.conn.status, 'aborted')
    await Promise.all([out.conn.closed, inb.conn.closed])
    assert.throws(() => inb.conn.send(Uint8Array.of(1)))
  })

  test(`${name}: an abort signal stops a handshake with a silent peer`, async () => {
    const alice = await makePeer(factory)
    const bob = await makePeer(factory)
    const [a] = await pair()
    const controller = new AbortController()
    const dialing = alice.encrypter.secureOutbound(a, { remotePeer: bob.peerId, signal: controller.signal })
    controller.abort(new Error('too slow'))
    await assert.rejects(dialing, /too slow/)
  })

  test(`${name}: the remote hanging up mid-handshake gives a typed error`, async () => {
    const alice = await makePeer(factory)
    const bob = await makePeer(factory)
    const [a, b] = await pair()
    const dialing = alice.encrypter.secureOutbound(a, { remotePeer: bob.peerId })
    await b.closeWrite()
    await assert.rejects(dialing, (err: unknown) => err instanceof Libp2pError)
  })
}
