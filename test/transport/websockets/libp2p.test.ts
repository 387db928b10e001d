/**
 * Two ts-libp2p nodes over WebSockets with the full stack (multistream-select, Noise, Yamux):
 * dial, identify, ping, a 10 MiB echo, many streams, a node that listens on TCP and /ws at once,
 * and a clean hang-up that leaves no connection behind.
 */
import { describe, it, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createLibp2p, multiaddr } from '../../../src/index.ts'
import { echo } from '../../../src/protocols/echo/index.ts'
import { identify } from '../../../src/protocols/identify/index.ts'
import { noise } from '../../../src/security/noise/index.ts'
import { ping } from '../../../src/protocols/ping/index.ts'
import { yamux } from '../../../src/muxer/yamux/index.ts'
import type { IdentifyResult, Libp2p, PeerId, Stream } from '../../../src/index.ts'
import type { EchoService } from '../../../src/protocols/echo/index.ts'
import type { IdentifyService } from '../../../src/protocols/identify/index.ts'
import type { PingService } from '../../../src/protocols/ping/index.ts'
import { tcp } from '../../../src/transport/tcp/index.ts'
import { webSockets } from '../../../src/transport/websockets/index.ts'

type Node = Libp2p<{ identify: IdentifyService, ping: PingService, echo: EchoService }>

const nodes: Node[] = []
afterEach(async () => { await Promise.all(nodes.splice(0).map(async n => { await n.stop() })) })

async function makeNode (listen = ['/ip4/127.0.0.1/tcp/0/ws'], withTcp = false): Promise<Node> {
  const node = await createLibp2p({
    addresses: { listen },
    transports: withTcp ? [tcp(), webSockets()] : [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping(), echo: echo({ maxInboundStreams: 256, maxOutboundStreams: 256 }) }
  })
  nodes.push(node)
  return node
}

function wsAddr (node: Node): string {
  const addr = node.getMultiaddrs().map(String).find(a => a.includes('/ws/'))
  assert.ok(addr !== undefined, `no /ws address among ${node.getMultiaddrs().map(String).join(', ')}`)
  return addr
}

function nextIdentify (node: Node, peer: PeerId): Promise<IdentifyResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('no peer:identify in time')) }, 10_000)
    node.addEventListener('peer:identify', (evt) => {
      if (!evt.detail.peerId.equals(peer)) return
      clearTimeout(timer)
      resolve(evt.detail)
    })
  })
}

/** Writes `payload` while reading the echo; returns the echo's sha256. */
async function echoDigest (stream: Stream, payload: Uint8Array): Promise<string> {
  const hash = createHash('sha256')
  let received = 0
  const signal = AbortSignal.timeout(30_000)
  const reading = (async () => {
    for (;;) {
      const chunk = await stream.read({ signal })
      if (chunk === null) return
      received += chunk.length
      hash.update(chunk)
    }
  })()
  for (let o = 0; o < payload.length; o += 64 * 1024) {
    if (!stream.send(payload.subarray(o, o + 64 * 1024))) await stream.drain({ signal })
  }
  await stream.closeWrite({ signal })
  await reading
  assert.equal(received, payload.length)
  return hash.digest('hex')
}

describe('two nodes over WebSockets (Noise + Yamux)', () => {
  it('dial, identify and ping', async () => {
    const a = await makeNode()
    const b = await makeNode()
    const identified = nextIdentify(a, b.peerId)
    const conn = await a.dial(b.getMultiaddrs()[0])
    assert.ok(conn.remotePeer.equals(b.peerId))
    assert.equal(conn.encryption, '/noise')
    assert.equal(conn.multiplexer, '/yamux/1.0.0')
    assert.match(conn.remoteAddr.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws/)
    const result = await identified
    assert.ok(result.listenAddrs.map(String).some(addr => addr.endsWith('/ws')), result.listenAddrs.map(String).join(', '))
    assert.match(String(result.observedAddr), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws$/)
    assert.ok(result.protocols.includes('/echo/1.0.0'))
    for (let i = 0; i < 3; i++) assert.ok(await a.services.ping.ping(b.peerId) >= 0)
    assert.ok(await b.services.ping.ping(a.peerId) >= 0)
  })

  it('echoes 10 MiB byte-exact, and 50 concurrent streams', async () => {
    const a = await makeNode()
    const b = await makeNode()
    const payload = new Uint8Array(10 * 1024 * 1024)
    let x = 1
    for (let i = 0; i < payload.length; i++) { x = (x * 1103515245 + 12345) >>> 0; payload[i] = x >>> 24 }
    const stream = await a.dialProtocol(b.getMultiaddrs()[0], '/echo/1.0.0')
    assert.equal(await echoDigest(stream, payload), createHash('sha256').update(payload).digest('hex'))
    const small = payload.subarray(0, 100_000)
    const expected = createHash('sha256').update(small).digest('hex')
    await Promise.all(Array.from({ length: 50 }, async () => {
      const s = await a.dialProtocol(b.peerId, '/echo/1.0.0')
      assert.equal(await echoDigest(s, small), expected)
    }))
    assert.equal(a.getConnections(b.peerId).length, 1)
  })

  it('a node listening on TCP and /ws is reachable over either', async () => {
    const both = await makeNode(['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'], true)
    const wsOnly = await makeNode()
    const tcpOnly = await createLibp2p({
      addresses: { listen: [] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify(), ping: ping() }
    })
    try {
      assert.equal(both.getMultiaddrs().length, 2)
      const overWs = await wsOnly.dial(both.getMultiaddrs().find(a => a.toString().includes('/ws/'))!)
      assert.match(overWs.remoteAddr.toString(), /\/ws/)
      // Given every address, each node picks the one its transports can dial.
      const overTcp = await tcpOnly.dial(both.getMultiaddrs())
      assert.doesNotMatch(overTcp.remoteAddr.toString(), /\/ws/)
      assert.ok(await tcpOnly.services.ping.ping(both.peerId) >= 0)
      assert.ok(await wsOnly.services.ping.ping(both.peerId) >= 0)
    } finally {
      await tcpOnly.stop()
    }
  })

  it('hang-up closes the WebSocket cleanly on both sides', async () => {
    const a = await makeNode()
    const b = await makeNode()
    const disconnected = new Promise<void>(resolve => {
      b.addEventListener('peer:disconnect', (evt) => { if (evt.detail.equals(a.peerId)) resolve() })
    })
    await a.dial(multiaddr(wsAddr(b)))
    const stream = await a.dialProtocol(b.peerId, '/echo/1.0.0')
    await stream.write(Uint8Array.of(1, 2, 3))
    assert.deepEqual(await stream.read(), Uint8Array.of(1, 2, 3))
    await a.hangUp(b.peerId)
    await disconnected
    assert.equal(a.getConnections().length, 0)
    assert.equal(b.getConnections().length, 0)
    assert.equal(await stream.read().catch(() => null), null)
  })

  it('zero-option nodes in Node.js listen on and dial /ws (WebSockets is a default transport)', async () => {
    const a = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0/ws'] } })
    const b = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] } })
    try {
      assert.match(a.getMultiaddrs()[0].toString(), /\/ws\/p2p\//)
      const conn = await b.dial(a.getMultiaddrs()[0])
      assert.match(conn.remoteAddr.toString(), /\/ws/)
      assert.ok(await b.services.ping.ping(a.peerId) >= 0)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
