/**
 * libp2p TLS over real loopback TCP: the encrypter conformance suite, muxer choice through
 * ALPN (the server picks), no SNI in the ClientHello, a client with a bad certificate whose
 * early data is never delivered, and two full nodes upgrading through the upgrader.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { runEncrypterConformance } from '../conformance.ts'
import { loopbackTcpPair } from '../../support/tcp-pair.ts'
import { tls, TLS_PROTOCOL } from '../../../src/security/tls/index.ts'
import { InvalidCertificateError } from '../../../src/security/tls/errors.ts'
import { tcp } from '../../../src/transport/tcp/index.ts'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../../src/peer/peer-id.ts'
import { createLibp2p } from '../../../src/index.ts'
import { yamux } from '../../../src/muxer/yamux/index.ts'
import { mplex } from '../../../src/muxer/mplex/index.ts'
import { noise } from '../../../src/security/noise/index.ts'
import type { ByteStream } from '../../../src/interface/stream.ts'
import type { PrivateKey } from '../../../src/interface/keys.ts'

const YAMUX = '/yamux/1.0.0'
const MPLEX = '/mplex/6.7.0'

const opened: ByteStream[] = []
after(() => {
  for (const conn of opened) conn.abort(new Error('test finished'))
})

async function tcpPair (): Promise<[ByteStream, ByteStream]> {
  const pair = await loopbackTcpPair()
  opened.push(...pair)
  return pair
}

runEncrypterConformance('tls (TCP)', tls(), { authenticates: true, invalidSignatureError: InvalidCertificateError, pair: tcpPair })

async function encrypter (): Promise<{ privateKey: PrivateKey, enc: ReturnType<ReturnType<typeof tls>> }> {
  const privateKey = await generateKeyPair('Ed25519')
  return { privateKey, enc: tls()({ privateKey, peerId: peerIdFromPrivateKey(privateKey) }) }
}

test('tls: muxers ride in ALPN and the server picks its preferred one the client offers', async () => {
  const client = await encrypter()
  const server = await encrypter()
  const cases: Array<{ client: string[], server: string[], chosen: string | undefined }> = [
    { client: [YAMUX, MPLEX], server: [YAMUX, MPLEX], chosen: YAMUX },
    { client: [YAMUX, MPLEX], server: [MPLEX, YAMUX], chosen: MPLEX },
    { client: [YAMUX], server: [MPLEX, YAMUX], chosen: YAMUX },
    // Nothing in common but "libp2p": the muxer is left to multistream-select.
    { client: [YAMUX], server: [MPLEX], chosen: undefined },
    { client: [], server: [YAMUX], chosen: undefined }
  ]
  for (const c of cases) {
    const [a, b] = await tcpPair()
    const [out, inb] = await Promise.all([
      client.enc.secureOutbound(a, { streamMuxers: c.client, remotePeer: peerIdFromPrivateKey(server.privateKey) }),
      server.enc.secureInbound(b, { streamMuxers: c.server })
    ])
    assert.equal(out.streamMuxer, c.chosen, JSON.stringify(c))
    assert.equal(inb.streamMuxer, c.chosen, JSON.stringify(c))
    out.conn.abort(new Error('done'))
  }
})

/** The server_name extension (type 0) of a TLS ClientHello record, or undefined when absent. */
function findServerName (hello: Uint8Array): Uint8Array | undefined {
  const view = new DataView(hello.buffer, hello.byteOffset, hello.byteLength)
  assert.equal(hello[0], 22, 'a handshake record')
  assert.equal(hello[5], 1, 'a ClientHello')
  let pos = 5 + 4 + 2 + 32 // record header, handshake header, legacy_version, random
  pos += 1 + hello[pos] // legacy_session_id
  pos += 2 + view.getUint16(pos) // cipher_suites
  pos += 1 + hello[pos] // legacy_compression_methods
  const end = pos + 2 + view.getUint16(pos)
  pos += 2
  while (pos < end) {
    const type = view.getUint16(pos)
    const length = view.getUint16(pos + 2)
    if (type === 0) return hello.subarray(pos + 4, pos + 4 + length)
    pos += 4 + length
  }
  return undefined
}

test('tls: the client sends no SNI', async () => {
  const client = await encrypter()
  const server = await encrypter()
  const [a, b] = await tcpPair()
  // Peek at the first bytes the server receives: the ClientHello, in one record.
  const hello = await new Promise<Uint8Array>((resolve, reject) => {
    client.enc.secureOutbound(a).catch(() => {})
    b.read().then(chunk => { chunk === null ? reject(new Error('no ClientHello')) : resolve(chunk) }, reject)
  })
  assert.equal(findServerName(hello), undefined)
  // The hello still carries ALPN (type 16) with "libp2p": the parser sees real extensions.
  assert.ok(Buffer.from(hello).includes(Buffer.from('libp2p')))
  a.abort(new Error('done'))
  b.abort(new Error('done'))
  void server
})

test('tls: a client with a bad certificate may finish its handshake and write, but the server delivers nothing', async () => {
  const honest = await encrypter()
  const bob = await generateKeyPair('Ed25519')
  const mallory = await generateKeyPair('Ed25519')
  // Claims Bob's key, signs with Mallory's: the SignedKey signature fails on the server.
  const forged: PrivateKey = {
    type: mallory.type,
    raw: mallory.raw,
    publicKey: bob.publicKey,
    sign: async (data) => await mallory.sign(data),
    toProtobuf: () => mallory.toProtobuf(),
    equals: (other) => mallory.equals(other)
  }
  const liar = tls()({ privateKey: forged })
  const [a, b] = await tcpPair()
  const serverSide = honest.enc.secureInbound(b)
  // TLS 1.3: the client is done after sending its Finished, before the server looked at it.
  const clientSide = await liar.secureOutbound(a, { remotePeer: peerIdFromPrivateKey(honest.privateKey) })
  clientSide.conn.send(new TextEncoder().encode('data the server must never see'))
  await assert.rejects(serverSide, InvalidCertificateError)
  assert.equal(b.status, 'aborted')
  // The client learns it was refused: its connection fails or ends, with nothing to read.
  const read = await clientSide.conn.read().catch(() => null)
  assert.equal(read, null)
})

test('tls: two nodes upgrade over TCP with TLS, yamux agreed through ALPN, and ping', async () => {
  const make = async (encrypters: any[]) => await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: encrypters,
    streamMuxers: [yamux(), mplex()]
  })
  const listener = await make([tls()])
  // The dialer prefers Noise but also speaks TLS, which is all the listener offers.
  const dialer = await make([noise(), tls()])
  try {
    // TLS 1.3: the client finishes first, so the listener's side may open a moment later.
    const inboundOpened = new Promise<void>((resolve) => {
      listener.addEventListener('connection:open', () => { resolve() }, { once: true })
    })
    const connection = await dialer.dial(listener.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) })
    assert.equal(connection.encryption, TLS_PROTOCOL)
    assert.equal(connection.multiplexer, YAMUX)
    assert.ok(connection.remotePeer.equals(listener.peerId))
    await inboundOpened
    const inbound = listener.getConnections(dialer.peerId)
    assert.equal(inbound.length, 1)
    assert.equal(inbound[0].encryption, TLS_PROTOCOL)
    await listener.handle('/test/echo', async (stream) => {
      for await (const chunk of stream) await stream.write(chunk)
      await stream.closeWrite()
    })
    const stream = await connection.newStream('/test/echo', { signal: AbortSignal.timeout(10_000) })
    await stream.write(new TextEncoder().encode('hello over tls'))
    await stream.closeWrite()
    const chunks: Uint8Array[] = []
    for await (const chunk of stream) chunks.push(chunk)
    assert.equal(Buffer.concat(chunks).toString(), 'hello over tls')
  } finally {
    await dialer.stop()
    await listener.stop()
  }
})
