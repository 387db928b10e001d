/**
 * Connection-setup latency properties of the Noise handshake: what leaves when, and the
 * helpers that keep node:crypto's overhead off the critical path.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { noise, type Noise } from '../../../src/security/noise/index.ts'
import { VERIFIED_IDENTITY_CACHE_SIZE } from '../../../src/security/noise/handshake.ts'
import { Ed25519PublicKey } from '../../../src/crypto/ed25519.ts'
import type { PeerId } from '../../../src/interface/peer-id.ts'
import { withoutStackTraces } from '../../../src/security/noise/symmetric-state.ts'
import { noiseCrypto as nodeCrypto } from '../../../src/security/noise/crypto.node.ts'
import type { NoiseCrypto } from '../../../src/security/noise/crypto.ts'
import { duplexPair } from '../../../src/util/duplex-pair.ts'
import { TcpConnection } from '../../../src/transport/tcp/connection.ts'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../../src/peer/peer-id.ts'

async function socketPair (): Promise<{ client: Socket, server: Socket, close: () => Promise<void> }> {
  let accepted: (socket: Socket) => void
  const serverSide = new Promise<Socket>(resolve => { accepted = resolve })
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, socket => { accepted(socket) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const client = connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true })
  await new Promise<void>((resolve, reject) => { client.once('connect', resolve).once('error', reject) })
  const serverSocket = await serverSide
  return {
    client,
    server: serverSocket,
    close: async () => {
      client.destroy()
      serverSocket.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

test('noise over TCP: the initiator\'s message C is handed to the kernel before secureOutbound resolves', async () => {
  const { client, server, close } = await socketPair()
  try {
    const addr = multiaddr('/ip4/127.0.0.1/tcp/1')
    const rawClient = new TcpConnection(client, 'outbound', { remoteAddr: addr })
    const rawServer = new TcpConnection(server, 'inbound', { remoteAddr: addr })
    const keyA = await generateKeyPair('Ed25519')
    const keyB = await generateKeyPair('Ed25519')
    const inbound = noise()({ privateKey: keyB }).secureInbound(rawServer)
    const outbound = await noise()({ privateKey: keyA }).secureOutbound(rawClient, { remotePeer: peerIdFromPrivateKey(keyB) })
    // Whatever the initiator does next (build the connection, open a stream) must not hold
    // back the message the responder needs to finish its side.
    assert.equal(client.writableCorked, 0, 'the socket is still corked')
    assert.equal(client.writableLength, 0, 'message C still waits in Node\'s write buffer')
    const secured = await inbound
    assert.ok(secured.remotePeer.equals(peerIdFromPrivateKey(keyA)))
    outbound.conn.abort(new Error('done'))
    secured.conn.abort(new Error('done'))
  } finally {
    await close()
  }
})

test('withoutStackTraces: returns the result and restores the stack trace limit, also when fn throws', () => {
  const before = Error.stackTraceLimit
  assert.equal(withoutStackTraces(() => { assert.equal(Error.stackTraceLimit, 0); return 7 }), 7)
  assert.equal(Error.stackTraceLimit, before)
  assert.throws(() => withoutStackTraces(() => { throw new RangeError('boom') }), RangeError)
  assert.equal(Error.stackTraceLimit, before)
})

test('noise: the first ephemeral key is made with the encrypter, each next one while a handshake waits, and no ephemeral key is used twice', async () => {
  const generated: Uint8Array[] = []
  const counting: NoiseCrypto = {
    ...nodeCrypto,
    generateX25519KeyPair () {
      const pair = nodeCrypto.generateX25519KeyPair()
      generated.push(pair.publicKey)
      return pair
    }
  }
  const keyA = await generateKeyPair('Ed25519')
  const keyB = await generateKeyPair('Ed25519')
  // one encrypter per side, as in a node: the spare is per encrypter
  const initiator = noise({ crypto: counting })({ privateKey: keyA })
  const responder = noise()({ privateKey: keyB })
  // the static key and the first handshake's ephemeral key, both before any connection
  assert.equal(generated.length, 2)
  const sentEphemerals: Uint8Array[] = []
  for (let i = 0; i < 3; i++) {
    const [rawA, rawB] = duplexPair()
    const send = rawA.send.bind(rawA)
    let first = true
    rawA.send = (chunk: Uint8Array) => {
      // message A: u16 length, then the 32-byte ephemeral public key
      if (first) sentEphemerals.push(chunk.slice(2, 34))
      first = false
      return send(chunk)
    }
    const generatedBefore: number = generated.length
    await Promise.all([
      initiator.secureOutbound(rawA, { remotePeer: peerIdFromPrivateKey(keyB) }),
      responder.secureInbound(rawB)
    ])
    // the key in message A is the spare made during the previous handshake (for the first:
    // made with the encrypter, after its static key)
    assert.deepEqual(sentEphemerals[i], generated[generatedBefore - 1])
    // a spare for the next one is made once the handshake waits for the remote
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(generated.length, generatedBefore + 1)
    rawA.abort(new Error('done'))
    rawB.abort(new Error('done'))
  }
  const distinct = new Set(sentEphemerals.map(k => Buffer.from(k).toString('hex')))
  assert.equal(distinct.size, sentEphemerals.length)
})

async function countVerifications<T> (fn: () => Promise<T>): Promise<{ result: T, verified: number }> {
  const verify = Ed25519PublicKey.prototype.verify
  let verified = 0
  Ed25519PublicKey.prototype.verify = function (data: Uint8Array, signature: Uint8Array) { verified++; return verify.call(this, data, signature) }
  try {
    return { result: await fn(), verified }
  } finally {
    Ed25519PublicKey.prototype.verify = verify
  }
}

async function handshake (initiator: Noise, responder: Noise, responderId: PeerId) {
  const [rawA, rawB] = duplexPair()
  const [a, b] = await Promise.all([initiator.secureOutbound(rawA, { remotePeer: responderId }), responder.secureInbound(rawB)])
  rawA.abort(new Error('done'))
  rawB.abort(new Error('done'))
  return { a, b }
}

test('noise: a reconnecting peer\'s identity signature is verified once; another static key or identity is verified again', async () => {
  const keyA = await generateKeyPair('Ed25519')
  const keyB = await generateKeyPair('Ed25519')
  const idA = peerIdFromPrivateKey(keyA)
  const idB = peerIdFromPrivateKey(keyB)
  const a = noise()({ privateKey: keyA })
  const b = noise()({ privateKey: keyB })
  const first = await countVerifications(async () => await handshake(a, b, idB))
  assert.equal(first.verified, 2, 'each side checks the other once')
  const again = await countVerifications(async () => await handshake(a, b, idB))
  assert.equal(again.verified, 0)
  assert.ok(again.result.a.remotePeer.equals(idB))
  assert.ok(again.result.b.remotePeer.equals(idA))
  // the same identity with a new static key (a restarted node) is checked again
  const restarted = await countVerifications(async () => await handshake(noise()({ privateKey: keyA }), b, idB))
  assert.equal(restarted.verified, 1, 'only the responder sees a new static key')
  // a cached identity does not stand in for another peer the dialer expected
  const keyC = await generateKeyPair('Ed25519')
  await assert.rejects(handshake(a, b, peerIdFromPrivateKey(keyC)), { code: 'ERR_UNEXPECTED_PEER' })
})

test('noise: the verified-identity cache is bounded', async () => {
  const responderKey = await generateKeyPair('Ed25519')
  const responderId = peerIdFromPrivateKey(responderKey)
  const responder = noise()({ privateKey: responderKey })
  const firstKey = await generateKeyPair('Ed25519')
  const first = noise()({ privateKey: firstKey })
  await handshake(first, responder, responderId)
  for (let i = 0; i < VERIFIED_IDENTITY_CACHE_SIZE; i++) {
    await handshake(noise()({ privateKey: await generateKeyPair('Ed25519') }), responder, responderId)
  }
  // the first initiator's identity was pushed out (the responder's own stayed in use)
  const { verified } = await countVerifications(async () => await handshake(first, responder, responderId))
  assert.equal(verified, 1)
})
