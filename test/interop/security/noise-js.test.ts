/**
 * Wire-level interop with js-libp2p's Noise (@chainsafe/libp2p-noise) over a real loopback TCP
 * socket pair, both roles: handshake, identities, inlined muxer negotiation and data both ways.
 * Skipped when the js packages are not installed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { noise } from '../../../src/security/noise/index.ts'
import { generateKeyPair, publicKeyFromProtobuf } from '../../../src/crypto/index.ts'
import { peerIdFromPrivateKey, peerIdFromPublicKey } from '../../../src/peer/peer-id.ts'
import { js, jsConn, jsReadAll, ourConn, socketPair } from './js-interop.ts'
import { pattern, readAll } from '../../security/conformance.ts'

async function setup (jsSide: 'dialer' | 'listener', muxers: { ours?: string[], theirs?: string[] } = {}) {
  const ourKey = await generateKeyPair('Ed25519')
  const jsKey = await js.crypto.generateKeyPair('Ed25519')
  const ours = noise()({ privateKey: ourKey })
  const theirs = js.noise.noise()({
    privateKey: jsKey,
    logger: js.logger.defaultLogger(),
    upgrader: { getStreamMuxers: () => new Map((muxers.theirs ?? []).map(m => [m, { protocol: m }])) }
  })
  const [a, b] = await socketPair(jsSide)
  const jsPeerAsOurs = peerIdFromPublicKey(publicKeyFromProtobuf(js.crypto.publicKeyToProtobuf(jsKey.publicKey)))
  const ourPeerAsJs = js.peerId.peerIdFromPublicKey(js.crypto.publicKeyFromProtobuf(ourKey.publicKey.toProtobuf()))
  return { ourKey, jsKey, ours, theirs, a, b, jsPeerAsOurs, ourPeerAsJs, ourMuxers: muxers.ours }
}

test('noise interop: we dial js-libp2p', { skip: js === undefined ? 'js-libp2p noise not installed' : false }, async () => {
  const s = await setup('listener', { ours: ['/yamux/1.0.0', '/mplex/6.7.0'], theirs: ['/mplex/6.7.0', '/yamux/1.0.0'] })
  const [mine, theirs] = await Promise.all([
    s.ours.secureOutbound(ourConn(s.a, 'outbound'), { remotePeer: s.jsPeerAsOurs, streamMuxers: s.ourMuxers }),
    s.theirs.secureInbound(jsConn(s.b, 'inbound'))
  ])
  assert.ok(mine.remotePeer.equals(s.jsPeerAsOurs))
  assert.equal(theirs.remotePeer.toString(), peerIdFromPrivateKey(s.ourKey).toString())
  // Both sides pick the initiator's first choice.
  assert.equal(mine.streamMuxer, '/yamux/1.0.0')
  assert.equal(theirs.streamMuxer?.protocol, '/yamux/1.0.0')

  const up = pattern(3 * 1024 * 1024 + 5, 21)
  const down = pattern(2 * 1024 * 1024 + 3, 22)
  const readExactly = async (length: number): Promise<Uint8Array> => {
    const chunks: Uint8Array[] = []
    let received = 0
    while (received < length) {
      const chunk = await mine.conn.read()
      assert.ok(chunk !== null, 'ended early')
      chunks.push(chunk)
      received += chunk.length
    }
    return Buffer.concat(chunks)
  }
  const [gotDown, gotUp] = await Promise.all([
    // Our FIN ends js's whole connection, so half-close only after reading everything.
    (async () => {
      await mine.conn.write(up)
      const received = await readExactly(down.length)
      await mine.conn.closeWrite()
      return received
    })(),
    (async () => {
      for (let i = 0; i < down.length; i += 100_000) {
        if (!theirs.connection.send(down.subarray(i, i + 100_000))) await theirs.connection.onDrain()
      }
      return await jsReadAll(theirs.connection)
    })()
  ])
  assert.ok(Buffer.from(gotUp).equals(up), 'ours -> js bytes differ')
  assert.ok(Buffer.from(gotDown).equals(down), 'js -> ours bytes differ')
})

test('noise interop: js-libp2p dials us', { skip: js === undefined ? 'js-libp2p noise not installed' : false }, async () => {
  const s = await setup('dialer', { ours: ['/mplex/6.7.0', '/yamux/1.0.0'], theirs: ['/yamux/1.0.0'] })
  const [theirs, mine] = await Promise.all([
    s.theirs.secureOutbound(jsConn(s.a, 'outbound'), { remotePeer: s.ourPeerAsJs }),
    s.ours.secureInbound(ourConn(s.b, 'inbound'), { streamMuxers: s.ourMuxers })
  ])
  assert.ok(mine.remotePeer.equals(s.jsPeerAsOurs))
  assert.equal(theirs.remotePeer.toString(), peerIdFromPrivateKey(s.ourKey).toString())
  assert.equal(mine.streamMuxer, '/yamux/1.0.0')
  assert.ok(theirs.streamMuxer !== undefined)

  const up = pattern(1024 * 1024, 23)
  const sending = (async () => {
    for (let i = 0; i < up.length; i += 10_000) {
      if (!theirs.connection.send(up.subarray(i, i + 10_000))) await theirs.connection.onDrain()
    }
  })()
  const chunks: Uint8Array[] = []
  let received = 0
  while (received < up.length) {
    const chunk = await mine.conn.read()
    assert.ok(chunk !== null)
    chunks.push(chunk)
    received += chunk.length
  }
  await sending
  assert.ok(Buffer.concat(chunks).equals(up))
  await mine.conn.write(Uint8Array.of(1, 2, 3))
  await mine.conn.closeWrite()
  assert.deepEqual([...await jsReadAll(theirs.connection)], [1, 2, 3])
  await theirs.connection.close()
  assert.equal(await mine.conn.read(), null)
})

test('noise interop: js rejects us when it expected another peer, and we reject js likewise', { skip: js === undefined ? 'js-libp2p noise not installed' : false }, async () => {
  const s = await setup('dialer')
  const other = js.peerId.peerIdFromPrivateKey(await js.crypto.generateKeyPair('Ed25519'))
  const jsRaw = jsConn(s.a, 'outbound')
  const [jsResult, ourSide] = await Promise.allSettled([
    // js's upgrader aborts the connection when the handshake fails; do the same here.
    s.theirs.secureOutbound(jsRaw, { remotePeer: other }).catch((err: Error) => { jsRaw.abort(err); throw err }),
    s.ours.secureInbound(ourConn(s.b, 'inbound'), { signal: AbortSignal.timeout(5000) })
  ])
  assert.equal(jsResult.status, 'rejected')
  assert.equal(ourSide.status, 'rejected')
  assert.notEqual((ourSide as PromiseRejectedResult).reason.name, 'TimeoutError')

  const s2 = await setup('listener')
  const wrong = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const [ourResult, jsOther] = await Promise.allSettled([
    s2.ours.secureOutbound(ourConn(s2.a, 'outbound'), { remotePeer: wrong, signal: AbortSignal.timeout(5000) }),
    s2.theirs.secureInbound(jsConn(s2.b, 'inbound'), { signal: AbortSignal.timeout(5000) })
  ])
  assert.equal(ourResult.status, 'rejected')
  assert.equal((ourResult as PromiseRejectedResult).reason.name, 'UnexpectedPeerError')
  assert.equal(jsOther.status, 'rejected', 'js noticed that we hung up')
})
