import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../../src/index.ts'
import { identify } from '../../../src/protocols/identify/index.ts'
import { echo } from '../../../src/protocols/echo/index.ts'
import { yamux } from '../../../src/muxer/yamux/index.ts'
import { memory, memoryEncrypter, MemoryEncrypter, MemoryNetwork, MemoryTransport } from '../../../src/transport/memory/index.ts'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../../src/peer/peer-id.ts'
import { duplexPair } from '../../../src/util/duplex-pair.ts'

async function identity () {
  const key = await generateKeyPair('Ed25519')
  return { peerId: peerIdFromPrivateKey(key), publicKey: key.publicKey }
}

describe('memory transport', () => {
  it('connects two ends that know each other, and refuses unknown names and foreign addresses', async () => {
    const network = new MemoryNetwork()
    const a = await identity()
    const b = await identity()
    const ta = new MemoryTransport(a, { network })
    const tb = new MemoryTransport(b, { network })
    const inbound: unknown[] = []
    const listener = tb.createListener({ onConnection: (c) => { inbound.push(c) } })
    await listener.listen(multiaddr('/memory/b'))
    assert.deepEqual(listener.getAddrs().map(String), ['/memory/b'])
    const conn = await ta.dial(multiaddr(`/memory/b/p2p/${b.peerId.toString()}`))
    assert.equal(inbound.length, 1)
    const secured = await new MemoryEncrypter().secureOutbound(conn, { remotePeer: b.peerId })
    assert.ok(secured.remotePeer.equals(b.peerId))
    await assert.rejects(new MemoryEncrypter().secureOutbound(conn, { remotePeer: a.peerId }), { code: 'ERR_UNEXPECTED_PEER' })
    await assert.rejects(new MemoryEncrypter().secureInbound(duplexPair()[0]), { code: 'ERR_HANDSHAKE' })
    await assert.rejects(ta.dial(multiaddr('/memory/nobody')), { code: 'ERR_CONNECTION_FAILED' })
    await assert.rejects(ta.dial(multiaddr('/ip4/127.0.0.1/tcp/1')), { code: 'ERR_INVALID_MULTIADDR' })
    await assert.rejects(tb.createListener({ onConnection: () => {} }).listen(multiaddr('/memory/b')), { code: 'ERR_LISTEN_FAILED' })
    await listener.close()
    await assert.rejects(ta.dial(multiaddr('/memory/b')), { code: 'ERR_CONNECTION_FAILED' })
    assert.deepEqual(ta.dialFilter([multiaddr('/memory/x'), multiaddr('/ip4/1.2.3.4/tcp/5')]).map(String), ['/memory/x'])
  })

  it('carries a full node stack (identify, echo over yamux)', async () => {
    const network = new MemoryNetwork()
    const options = (name: string) => ({
      addresses: { listen: [`/memory/${name}`] },
      transports: [memory({ network })],
      connectionEncrypters: [memoryEncrypter()],
      streamMuxers: [yamux()],
      services: { identify: identify(), echo: echo() }
    })
    const alice = await createLibp2p(options('alice'))
    const bob = await createLibp2p(options('bob'))
    try {
      const stream = await alice.dialProtocol(bob.getMultiaddrs()[0], '/echo/1.0.0')
      const payload = new Uint8Array(200_000).map((_, i) => (i * 31) & 0xff)
      const reading = (async () => {
        const chunks: Uint8Array[] = []
        for await (const c of stream) chunks.push(c)
        return Buffer.concat(chunks)
      })()
      await stream.write(payload)
      await stream.closeWrite()
      assert.deepEqual(new Uint8Array(await reading), payload)
      assert.ok(alice.getConnections(bob.peerId)[0].remotePeer.equals(bob.peerId))
    } finally {
      await alice.stop()
      await bob.stop()
    }
  })
})
