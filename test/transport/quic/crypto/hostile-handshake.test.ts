/**
 * Hostile input against QUIC's TLS: every message decoder, the CRYPTO framer and a live server
 * and client handshake fed random, truncated, mutated and oversized messages. The only allowed
 * outcome is a QuicTlsError carrying a TLS alert (or, for bytes that happen to be valid, no
 * error); never another exception, a hang, or memory sized by the peer.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { generateKeyPair } from '../../../../src/crypto/index.ts'
import { createQuicHandshake } from '../../../../src/transport/quic/crypto/handshake.node.ts'
import {
  HandshakeFramer, MAX_HANDSHAKE_MESSAGE_LENGTH, decodeAlpn, decodeCertificate, decodeCertificateRequest, decodeCertificateVerify,
  decodeClientHello, decodeClientKeyShares, decodeEncryptedExtensions, decodeHelloRetryKeyShare, decodeSelectedVersion,
  decodeServerHello, decodeServerKeyShare, decodeUint16ListExtension
} from '../../../../src/transport/quic/crypto/tls-messages.ts'
import { QuicTlsError, TlsAlert } from '../../../../src/transport/quic/crypto/errors.ts'
import type { EncryptionLevel, QuicHandshake } from '../../../../src/transport/quic/crypto/types.ts'
import type { PrivateKey } from '../../../../src/interface/keys.ts'

const DECODERS: Array<[string, (body: Uint8Array) => unknown]> = [
  ['ClientHello', decodeClientHello],
  ['ServerHello', decodeServerHello],
  ['EncryptedExtensions', decodeEncryptedExtensions],
  ['CertificateRequest', decodeCertificateRequest],
  ['Certificate', decodeCertificate],
  ['CertificateVerify', decodeCertificateVerify],
  ['key_share (client)', decodeClientKeyShares],
  ['key_share (server)', decodeServerKeyShare],
  ['key_share (retry)', decodeHelloRetryKeyShare],
  ['supported_versions', decodeSelectedVersion],
  ['ALPN', decodeAlpn],
  ['signature_algorithms', (b) => decodeUint16ListExtension(b, 2, 'signature_algorithms')]
]

function onlyTlsErrors (name: string, run: () => unknown): void {
  try {
    run()
  } catch (err) {
    assert.ok(err instanceof QuicTlsError, `${name} threw ${String(err)}`)
    assert.ok(err.tlsAlert > 0 && err.tlsAlert < 256)
  }
}

test('every decoder gives a QuicTlsError (never another exception) on random bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
    for (const [name, decode] of DECODERS) onlyTlsErrors(name, () => decode(bytes))
  }), { numRuns: 400 })
})

/** A real flight to mutate: what a client and a server send each other. */
async function recordFlights (): Promise<{ clientHello: Uint8Array, serverInitial: Uint8Array, serverHandshake: Uint8Array, clientHandshake: Uint8Array }> {
  const sent = { client: [] as Array<[EncryptionLevel, Uint8Array]>, server: [] as Array<[EncryptionLevel, Uint8Array]> }
  let client: QuicHandshake | undefined
  let server: QuicHandshake | undefined
  const done: { resolve: () => void, reject: (err: Error) => void, promise?: Promise<void> } = { resolve () {}, reject () {} }
  done.promise = new Promise<void>((resolve, reject) => { done.resolve = resolve; done.reject = reject })
  let completed = 0
  const base = { alpn: ['libp2p'], localTransportParameters: Uint8Array.of(1, 2, 3), onKeys () {}, onError: done.reject, onComplete () { if (++completed === 2) done.resolve() } }
  client = createQuicHandshake({ ...base, role: 'client', privateKey: await generateKeyPair('Ed25519'), onCryptoData: (level, bytes) => { sent.client.push([level, bytes]); queueMicrotask(() => server!.receiveCryptoData(level, bytes)) } })
  server = createQuicHandshake({ ...base, role: 'server', privateKey: await generateKeyPair('Ed25519'), onCryptoData: (level, bytes) => { sent.server.push([level, bytes]); queueMicrotask(() => client!.receiveCryptoData(level, bytes)) } })
  client.start()
  await done.promise
  return { clientHello: sent.client[0][1], serverInitial: sent.server[0][1], serverHandshake: sent.server[1][1], clientHandshake: sent.client[1][1] }
}

/** Feeds `chunks` to a fresh handshake and waits until it settles or has nothing left to do. */
async function feed (role: 'client' | 'server', privateKey: PrivateKey, chunks: Array<[EncryptionLevel, Uint8Array]>, onComplete = (): void => {}): Promise<QuicTlsError | undefined> {
  let error: unknown
  const handshake = createQuicHandshake({
    role, privateKey, alpn: ['libp2p'], localTransportParameters: new Uint8Array(0),
    onCryptoData () {}, onKeys () {}, onComplete, onError (err) { error = err }
  })
  handshake.start()
  for (const [level, bytes] of chunks) handshake.receiveCryptoData(level, bytes)
  // Certificate checks are asynchronous: let them run out.
  for (let i = 0; i < 20 && error === undefined; i++) await new Promise(resolve => setImmediate(resolve))
  handshake.destroy()
  if (error !== undefined) assert.ok(error instanceof QuicTlsError, `expected a QuicTlsError, got ${String(error)}`)
  return error as QuicTlsError | undefined
}

test('a server fed mutated, truncated and wrong-level ClientHellos fails with an alert or carries on', async () => {
  const flights = await recordFlights()
  const key = await generateKeyPair('Ed25519')
  const hello = flights.clientHello
  // Truncations: a strict prefix is an incomplete message (nothing happens); a shortened length field is a decode error.
  assert.equal(await feed('server', key, [['initial', hello.subarray(0, hello.length - 1)]]), undefined)
  const shortened = hello.slice(); shortened[3] -= 1
  assert.equal((await feed('server', key, [['initial', shortened.subarray(0, hello.length - 1)]]))?.tlsAlert, TlsAlert.decodeError)
  // Wrong level, wrong message, a KeyUpdate (forbidden in QUIC).
  assert.equal((await feed('server', key, [['handshake', hello]]))?.tlsAlert, TlsAlert.unexpectedMessage)
  assert.equal((await feed('server', key, [['initial', flights.serverInitial]]))?.tlsAlert, TlsAlert.unexpectedMessage)
  assert.equal((await feed('server', key, [['initial', Uint8Array.of(24, 0, 0, 1, 0)]]))?.tlsAlert, TlsAlert.unexpectedMessage)
  // Random mutations of one byte anywhere.
  await fc.assert(fc.asyncProperty(fc.nat(hello.length - 1), fc.integer({ min: 1, max: 255 }), async (index, xor) => {
    const mutated = hello.slice(); mutated[index] ^= xor
    await feed('server', key, [['initial', mutated]])
  }), { numRuns: 150 })
})

test('a client fed a mutated server flight fails with an alert, never completes on forged bytes', async () => {
  const flights = await recordFlights()
  const key = await generateKeyPair('Ed25519')
  // The recorded flight answers another ClientHello, so even unmodified it must fail (on the
  // key share's Finished or CertificateVerify), never complete.
  const unmodified = await feed('client', key, [['initial', flights.serverInitial], ['handshake', flights.serverHandshake]])
  assert.ok(unmodified !== undefined && [TlsAlert.decryptError, TlsAlert.illegalParameter].includes(unmodified.tlsAlert as never), String(unmodified))
  await fc.assert(fc.asyncProperty(fc.nat(flights.serverHandshake.length - 1), fc.integer({ min: 1, max: 255 }), async (index, xor) => {
    const mutated = flights.serverHandshake.slice(); mutated[index] ^= xor
    // A changed length may leave a message incomplete (the handshake waits; QUIC's idle timeout
    // ends it), anything else fails; nothing completes.
    let completed = false
    await feed('client', key, [['initial', flights.serverInitial], ['handshake', mutated]], () => { completed = true })
    assert.equal(completed, false)
  }), { numRuns: 100 })
})

test('an oversized handshake message is refused from its header, before any body is buffered', async () => {
  const framer = new HandshakeFramer()
  const header = Uint8Array.of(11, (MAX_HANDSHAKE_MESSAGE_LENGTH + 1) >>> 16, ((MAX_HANDSHAKE_MESSAGE_LENGTH + 1) >>> 8) & 0xff, (MAX_HANDSHAKE_MESSAGE_LENGTH + 1) & 0xff)
  assert.throws(() => framer.push(header), (err: QuicTlsError) => err.tlsAlert === TlsAlert.decodeError)
  const maxHeader = Uint8Array.of(1, 0xff, 0xff, 0xff)
  assert.equal((await feed('server', await generateKeyPair('Ed25519'), [['initial', maxHeader]]))?.tlsAlert, TlsAlert.decodeError)
  // A message just at the limit is held until complete, and only that much.
  const atLimit = new HandshakeFramer()
  atLimit.push(Uint8Array.of(11, MAX_HANDSHAKE_MESSAGE_LENGTH >>> 16, (MAX_HANDSHAKE_MESSAGE_LENGTH >>> 8) & 0xff, MAX_HANDSHAKE_MESSAGE_LENGTH & 0xff))
  atLimit.push(new Uint8Array(MAX_HANDSHAKE_MESSAGE_LENGTH - 1))
  assert.equal(atLimit.pendingLength, MAX_HANDSHAKE_MESSAGE_LENGTH + 3)
  assert.equal(atLimit.push(new Uint8Array(1)).length, 1)
})

test('a message sent one byte at a time, from a buffer the caller reuses, is reassembled intact', () => {
  const framer = new HandshakeFramer()
  const body = new Uint8Array(MAX_HANDSHAKE_MESSAGE_LENGTH).fill(7)
  const message = Uint8Array.of(11, body.length >>> 16, (body.length >>> 8) & 0xff, body.length & 0xff, ...body)
  let out: ReturnType<HandshakeFramer['push']> = []
  const reused = new Uint8Array(1)
  for (const byte of message) {
    reused[0] = byte // the caller reuses its buffer: the framer must have copied what it kept
    out = framer.push(reused)
  }
  assert.equal(out.length, 1)
  assert.deepEqual(out[0].body, body)
  assert.equal(framer.pendingLength, 0)
})

test('random CRYPTO bytes at every level fail cleanly on both roles', async () => {
  const key = await generateKeyPair('Ed25519')
  await fc.assert(fc.asyncProperty(fc.constantFrom<'client' | 'server'>('client', 'server'), fc.constantFrom<EncryptionLevel>('initial', 'handshake', 'application'), fc.uint8Array({ minLength: 4, maxLength: 300 }), async (role, level, bytes) => {
    await feed(role, key, [[level, bytes]])
  }), { numRuns: 150 })
})
