/**
 * Connection-setup latency properties of the Noise handshake: what leaves when, and the
 * helpers that keep node:crypto's overhead off the critical path.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { noise } from '../../../src/security/noise/index.ts'
import { withoutStackTraces } from '../../../src/security/noise/symmetric-state.ts'
import { noiseCrypto as nodeCrypto } from '../../../src/security/noise/crypto-node.ts'
import type { NoiseCrypto } from '../../../src/security/noise/crypto.ts'
import { duplexPair } from '../../../src/util/duplex-pair.ts'
import { TcpConnection } from '../../../src/transport/tcp-connection.ts'
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

test('noise: the next handshake\'s ephemeral key is generated while one waits, and no ephemeral key is used twice', async () => {
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
    const generatedBefore = generated.length
    await Promise.all([
      initiator.secureOutbound(rawA, { remotePeer: peerIdFromPrivateKey(keyB) }),
      responder.secureInbound(rawB)
    ])
    if (i > 0) {
      // the key in message A is the spare made during the previous handshake
      assert.deepEqual(sentEphemerals[i], generated[generatedBefore - 1])
    }
    // a spare for the next one is made once the handshake waits for the remote
    await new Promise(resolve => setImmediate(resolve))
    // (the first handshake generates its own; the static key was generated at construction)
    assert.equal(generated.length, generatedBefore + (i === 0 ? 2 : 1))
    rawA.abort(new Error('done'))
    rawB.abort(new Error('done'))
  }
  const distinct = new Set(sentEphemerals.map(k => Buffer.from(k).toString('hex')))
  assert.equal(distinct.size, sentEphemerals.length)
})
