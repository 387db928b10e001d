/**
 * The TLS 1.3 handshake for QUIC, client against server in memory: CRYPTO bytes go across as
 * QUIC would carry them (per level, in order), and the keys each side installs must open what
 * the other side seals. Then the failures a libp2p peer must produce: wrong peer, no common
 * ALPN, a HelloRetryRequest round, a client without a certificate.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '../../../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../../../src/peer/peer-id.ts'
import { createQuicHandshake } from '../../../../src/transport/quic/crypto/handshake.node.ts'
import { ClientHandshake } from '../../../../src/transport/quic/crypto/client-handshake.node.ts'
import { ServerHandshake } from '../../../../src/transport/quic/crypto/server-handshake.node.ts'
import { CipherSuite, NamedGroup } from '../../../../src/transport/quic/crypto/tls-messages.ts'
import { QuicTlsError, TlsAlert } from '../../../../src/transport/quic/crypto/errors.ts'
import type { EncryptionLevel, PacketProtectorPair, QuicHandshake, QuicHandshakeOptions, QuicHandshakeResult } from '../../../../src/transport/quic/crypto/types.ts'
import type { PrivateKey } from '../../../../src/interface/keys.ts'
import { generateKeyShare } from '../../../../src/transport/quic/crypto/key-exchange.node.ts'
import { nextTurn } from '../../../../src/util/timers.ts'

interface Side {
  handshake: QuicHandshake
  keys: Map<EncryptionLevel, PacketProtectorPair>
  result: Promise<QuicHandshakeResult>
  sent: Array<{ level: EncryptionLevel, bytes: Uint8Array }>
}

type SideOptions = Partial<QuicHandshakeOptions> & { privateKey: PrivateKey, groups?: number[], suites?: number[] }

function makeSide (role: 'client' | 'server', options: SideOptions, deliver: (level: EncryptionLevel, bytes: Uint8Array) => void): Side {
  const keys = new Map<EncryptionLevel, PacketProtectorPair>()
  const sent: Side['sent'] = []
  let resolve!: (result: QuicHandshakeResult) => void
  let reject!: (err: Error) => void
  const promise = new Promise<QuicHandshakeResult>((res, rej) => { resolve = res; reject = rej })
  const full: QuicHandshakeOptions = {
    role,
    alpn: ['libp2p'],
    localTransportParameters: Uint8Array.of(role === 'client' ? 1 : 2, 0x0f, 0x00),
    onCryptoData: (level, bytes) => { sent.push({ level, bytes }); deliver(level, bytes) },
    onKeys: (level, pair) => { keys.set(level, pair) },
    onComplete: resolve,
    onError: reject,
    ...options
  }
  const tuning = { groups: options.groups, suites: options.suites }
  const handshake = options.groups !== undefined || options.suites !== undefined
    ? (role === 'client' ? new ClientHandshake(full, tuning) : new ServerHandshake(full, tuning))
    : createQuicHandshake(full)
  promise.catch(() => {})
  return { handshake, keys, result: promise, sent }
}

/** Wires two handshakes together; bytes cross on a later microtask, as from a socket. */
function connect (clientOptions: SideOptions, serverOptions: SideOptions): { client: Side, server: Side } {
  let client: Side | undefined
  let server: Side | undefined
  client = makeSide('client', clientOptions, (level, bytes) => { queueMicrotask(() => server!.handshake.receiveCryptoData(level, bytes)) })
  server = makeSide('server', serverOptions, (level, bytes) => { queueMicrotask(() => client!.handshake.receiveCryptoData(level, bytes)) })
  client.handshake.start()
  server.handshake.start()
  return { client, server }
}

function assertKeysMatch (a: PacketProtectorPair, b: PacketProtectorPair): void {
  const header = Uint8Array.of(0x41, 0xaa, 0xbb)
  const payload = new TextEncoder().encode('a QUIC payload')
  assert.deepEqual(b.read.open(5, header, a.write.seal(5, header, payload)), Buffer.from(payload))
  assert.deepEqual(a.read.open(9, header, b.write.seal(9, header, payload)), Buffer.from(payload))
  const sample = new Uint8Array(16).fill(7)
  assert.deepEqual(a.write.headerProtectionMask(sample), b.read.headerProtectionMask(sample))
}

test('client and server complete the handshake, authenticate each other and agree on every key', async () => {
  const clientKey = await generateKeyPair('Ed25519')
  const serverKey = await generateKeyPair('secp256k1')
  const { client, server } = connect({ privateKey: clientKey, expectedRemotePeer: peerIdFromPrivateKey(serverKey) }, { privateKey: serverKey })
  const [clientResult, serverResult] = await Promise.all([client.result, server.result])
  assert.ok(clientResult.remotePeer?.equals(peerIdFromPrivateKey(serverKey)) === true)
  assert.ok(serverResult.remotePeer?.equals(peerIdFromPrivateKey(clientKey)) === true)
  assert.ok(serverResult.remotePublicKey?.equals(clientKey.publicKey) === true)
  assert.deepEqual([...clientResult.remoteTransportParameters], [2, 0x0f, 0x00])
  assert.deepEqual([...serverResult.remoteTransportParameters], [1, 0x0f, 0x00])
  assert.equal(clientResult.alpn, 'libp2p')
  assert.equal(serverResult.alpn, 'libp2p')
  assert.equal(client.handshake.state, 'complete')
  assert.equal(server.handshake.state, 'complete')

  // Each side's keys open what the other sealed, at both levels, and after two key updates.
  for (const level of ['handshake', 'application'] as const) assertKeysMatch(client.keys.get(level)!, server.keys.get(level)!)
  assert.equal(client.keys.get('application')!.write.aead, 'AES-128-GCM')
  // Peeking at the next generation does not switch to it, and the update returns the very keys peeked at.
  const peeked = client.handshake.nextApplicationKeys!()
  assert.equal(client.handshake.nextApplicationKeys!().read, peeked.read)
  assertKeysMatch(peeked, server.handshake.nextApplicationKeys!())
  for (let generation = 1; generation <= 2; generation++) {
    const clientNext = client.handshake.updateApplicationKeys()
    if (generation === 1) assert.equal(clientNext.read, peeked.read)
    const serverNext = server.handshake.updateApplicationKeys()
    assertKeysMatch(clientNext, serverNext)
    // The new generation does not open what the old one sealed.
    const header = Uint8Array.of(0x41)
    const sealed = client.keys.get('application')!.write.seal(1, header, Uint8Array.of(1))
    assert.throws(() => serverNext.read.open(1, header, sealed))
  }
  // The flights went where RFC 9001 puts them: ClientHello and ServerHello in Initial, the rest in Handshake.
  assert.deepEqual(client.sent.map(s => s.level), ['initial', 'handshake'])
  assert.deepEqual(server.sent.map(s => s.level), ['initial', 'handshake'])
  assert.equal(client.sent[0].bytes[0], 1) // ClientHello
  assert.equal(server.sent[1].bytes[0], 8) // EncryptedExtensions first under handshake keys
})

test('a server that takes only P-256 asks for it with a HelloRetryRequest, and the handshake completes', async () => {
  const clientKey = await generateKeyPair('Ed25519')
  const serverKey = await generateKeyPair('Ed25519')
  const { client, server } = connect({ privateKey: clientKey }, { privateKey: serverKey, groups: [NamedGroup.secp256r1] })
  const [clientResult] = await Promise.all([client.result, server.result])
  assert.ok(clientResult.remotePeer?.equals(peerIdFromPrivateKey(serverKey)) === true)
  // Two ClientHellos in Initial (the second answers the retry), then the client's final flight.
  assert.deepEqual(client.sent.map(s => s.level), ['initial', 'initial', 'handshake'])
  assertKeysMatch(client.keys.get('application')!, server.keys.get('application')!)
})

test('no key share group in common: the server refuses cleanly with handshake_failure (CRYPTO_ERROR 0x128)', async () => {
  const { client, server } = connect({ privateKey: await generateKeyPair('Ed25519'), groups: [NamedGroup.x25519] }, { privateKey: await generateKeyPair('Ed25519'), groups: [0x0018] })
  await assert.rejects(server.result, (err: QuicTlsError) => err instanceof QuicTlsError && err.tlsAlert === TlsAlert.handshakeFailure && err.quicErrorCode === 0x0128)
  assert.equal(server.handshake.state, 'failed')
  assert.equal(client.handshake.state, 'handshaking')
})

test('the client refuses a server that is not the peer it dialed (bad_certificate)', async () => {
  const someoneElse = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const { client } = connect({ privateKey: await generateKeyPair('Ed25519'), expectedRemotePeer: someoneElse }, { privateKey: await generateKeyPair('Ed25519') })
  await assert.rejects(client.result, (err: QuicTlsError) => err.name === 'QuicTlsError' && err.code === 'ERR_QUIC_TLS' && err.tlsAlert === TlsAlert.badCertificate && /not the expected/.test(err.message))
  assert.equal(client.keys.has('application'), false)
})

test('no ALPN in common: the server refuses with no_application_protocol (CRYPTO_ERROR 0x178)', async () => {
  const { server } = connect({ privateKey: await generateKeyPair('Ed25519'), alpn: ['h3'] }, { privateKey: await generateKeyPair('Ed25519') })
  await assert.rejects(server.result, (err: QuicTlsError) => err.tlsAlert === TlsAlert.noApplicationProtocol && err.quicErrorCode === 0x178)
  assert.equal(server.keys.has('handshake'), false)
})

test('ChaCha20-Poly1305 when the client offers only it: the handshake completes and the keys agree', async () => {
  const { client, server } = connect({ privateKey: await generateKeyPair('Ed25519'), suites: [CipherSuite.chacha20Poly1305Sha256] }, { privateKey: await generateKeyPair('ECDSA') })
  await Promise.all([client.result, server.result])
  for (const side of [client, server]) assert.equal(side.keys.get('application')!.write.aead, 'ChaCha20-Poly1305')
  assertKeysMatch(client.keys.get('handshake')!, server.keys.get('handshake')!)
  assertKeysMatch(client.handshake.updateApplicationKeys(), server.handshake.updateApplicationKeys())
})

test('handshakes of one identity share its certificate; another identity gets its own', async () => {
  const serverKey = await generateKeyPair('Ed25519')
  const certificateOf = (side: Side): string => {
    // The server's handshake flight: EncryptedExtensions, CertificateRequest, then Certificate (type 11).
    const flight = Buffer.from(side.sent[1].bytes)
    let offset = 0
    while (flight[offset] !== 11) offset += 4 + flight.readUIntBE(offset + 1, 3)
    return flight.subarray(offset, offset + 4 + flight.readUIntBE(offset + 1, 3)).toString('hex')
  }
  const first = connect({ privateKey: await generateKeyPair('Ed25519') }, { privateKey: serverKey })
  const second = connect({ privateKey: await generateKeyPair('Ed25519') }, { privateKey: serverKey })
  const other = connect({ privateKey: await generateKeyPair('Ed25519') }, { privateKey: await generateKeyPair('Ed25519') })
  await Promise.all([first, second, other].flatMap(({ client, server }) => [client.result, server.result]))
  assert.equal(certificateOf(first.server), certificateOf(second.server))
  assert.notEqual(certificateOf(first.server), certificateOf(other.server))
})

test('destroy stops a handshake: no callback afterwards', async () => {
  const calls: string[] = []
  const handshake = createQuicHandshake({
    role: 'server',
    privateKey: await generateKeyPair('Ed25519'),
    alpn: ['libp2p'],
    localTransportParameters: new Uint8Array(0),
    onCryptoData: () => calls.push('data'),
    onKeys: () => calls.push('keys'),
    onComplete: () => calls.push('complete'),
    onError: () => calls.push('error')
  })
  handshake.destroy()
  handshake.receiveCryptoData('initial', Uint8Array.of(1, 0, 0, 1, 0))
  await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(calls, [])
  assert.throws(() => handshake.updateApplicationKeys(), QuicTlsError)
})

test('X25519 key shares: the pair made ahead serves one handshake; shares taken before, after and while it is refilled never repeat, and two shares agree on one secret', async () => {
  const seen = new Set<string>()
  const take = (): ReturnType<typeof generateKeyShare> => {
    const share = generateKeyShare(NamedGroup.x25519)
    const hex = Buffer.from(share.publicKey).toString('hex')
    assert.equal(share.publicKey.length, 32)
    assert.ok(!seen.has(hex), 'a public value came back')
    seen.add(hex)
    return share
  }
  const first = take()
  const second = take() // before the spare is made
  await nextTurn()
  await nextTurn() // the spare is made now
  const third = take()
  const fourth = take()
  await nextTurn()
  await nextTurn()
  take()
  assert.equal(seen.size, 5)
  for (const [a, b] of [[first, second], [third, fourth], [second, third]]) {
    assert.deepEqual(a.deriveSharedSecret(b.publicKey), b.deriveSharedSecret(a.publicKey))
  }
})
