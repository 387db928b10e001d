import { describe, it, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import type { AddressInfo, Server, Socket } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, DialError, KEEP_ALIVE } from '../../src/index.ts'
import type { Connection, PeerId, Stream } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { utf8Encode } from '../../src/util/bytes.ts'
import { makeNode, nextEvent, readAll, stacks, stopAll } from './helpers.ts'
import { unusedTcpPort } from '../support/ports.ts'

afterEach(stopAll)

async function echoOver (stream: Stream, text: string): Promise<string> {
  await stream.write(utf8Encode(text))
  await stream.closeWrite()
  return await readAll(stream)
}

describe('two nodes over TCP', () => {
  for (const [name, stack] of Object.entries(stacks)) {
    it(`dial by multiaddr and echo (${name})`, async () => {
      const a = await makeNode(stack)
      const b = await makeNode(stack)
      const connected = nextEvent<PeerId>(b, 'peer:connect')
      const stream = await a.dialProtocol(b.getMultiaddrs()[0], '/echo/1.0.0')
      assert.equal(stream.protocol, '/echo/1.0.0')
      assert.equal(await echoOver(stream, `hello over ${name}`), `hello over ${name}`)
      assert.ok((await connected).equals(a.peerId))
      const [conn] = a.getConnections(b.peerId)
      const [encryption, muxer] = name.split('+')
      assert.equal(conn.encryption, encryption === 'noise' ? '/noise' : '/plaintext/2.0.0')
      assert.equal(conn.multiplexer, muxer === 'yamux' ? '/yamux/1.0.0' : '/mplex/6.7.0')
      assert.equal(conn.direction, 'outbound')
      assert.equal(b.getConnections(a.peerId)[0].direction, 'inbound')
    })
  }

  it('dials a peer id through the peer store, and identify fills it in', async () => {
    const a = await makeNode()
    const b = await makeNode()
    await a.peerStore.merge(b.peerId, { multiaddrs: b.getMultiaddrs() })
    const identified = nextEvent<{ peerId: PeerId, protocols: string[] }>(a, 'peer:identify')
    const conn = await a.dial(b.peerId)
    assert.ok(conn.remotePeer.equals(b.peerId))
    const result = await identified
    assert.ok(result.peerId.equals(b.peerId))
    assert.ok(result.protocols.includes('/echo/1.0.0'))
    assert.deepEqual(a.getPeers().map(String), [b.peerId.toString()])
  })

  it('lazy dialProtocol (negotiateFully: false) works end to end', async () => {
    const a = await makeNode()
    const b = await makeNode()
    const stream = await a.dialProtocol(b.getMultiaddrs()[0], '/echo/1.0.0', { negotiateFully: false })
    assert.equal(await echoOver(stream, 'lazy'), 'lazy')
  })

  it('10 concurrent dials produce one connection', async () => {
    const a = await makeNode()
    const b = await makeNode()
    const addr = b.getMultiaddrs()[0]
    const conns = await Promise.all(Array.from({ length: 10 }, async () => await a.dial(addr)))
    assert.equal(new Set(conns.map(c => c.id)).size, 1)
    assert.equal(a.getConnections().length, 1)
  })

  it('DialError names each failing address', async () => {
    const a = await makeNode()
    const b = await makeNode()
    // ports that were just free: nothing listens there
    const closed = await Promise.all([0, 1].map(async () => await unusedTcpPort()))
    const addrs = closed.map(port => multiaddr(`/ip4/127.0.0.1/tcp/${port}/p2p/${b.peerId}`))
    await a.peerStore.merge(b.peerId, { multiaddrs: addrs })
    const err = await a.dial(b.peerId).then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof DialError, String(err))
    assert.equal(err.errors.length, 2)
    for (const addr of addrs) assert.ok(err.message.includes(addr.decapsulateCode(421).toString()) || err.message.includes(addr.toString()), err.message)
    assert.match(err.message, /ECONNREFUSED/)
  })

  it('a blackhole address times out per address and the next one wins', async () => {
    const hole = await blackhole()
    try {
      const a = await makeNode({ connectionManager: { addressDialTimeout: 300, dialStagger: 5000 } })
      const b = await makeNode()
      const holeAddr = multiaddr(`/ip4/127.0.0.1/tcp/${hole.port}/p2p/${b.peerId}`)
      const started = Date.now()
      const err = await a.dial(holeAddr).then(() => undefined, (e: unknown) => e)
      assert.ok(err instanceof DialError)
      assert.equal(err.errors[0].error.name, 'TimeoutError')
      assert.ok(Date.now() - started < 3000)
      // both addresses loopback; the blackhole goes first (same rank, given order) and times out
      const conn = await a.dial([holeAddr, b.getMultiaddrs()[0]])
      assert.ok(conn.remotePeer.equals(b.peerId))
      assert.ok(hole.sockets.length >= 2)
    } finally {
      await hole.close()
    }
  })

  it('hangUp emits peer:disconnect on both sides', async () => {
    const a = await makeNode()
    const b = await makeNode()
    await a.dial(b.getMultiaddrs()[0])
    const aSaw = nextEvent<PeerId>(a, 'peer:disconnect')
    const bSaw = nextEvent<PeerId>(b, 'peer:disconnect')
    await a.hangUp(b.peerId)
    assert.ok((await aSaw).equals(b.peerId))
    assert.ok((await bSaw).equals(a.peerId))
    assert.equal(a.getConnections().length, 0)
    assert.equal(b.getConnections().length, 0)
  })

  it('hangUp by multiaddr closes the connections to that peer', async () => {
    const a = await makeNode()
    const b = await makeNode()
    await a.dial(b.getMultiaddrs()[0])
    await a.hangUp(b.getMultiaddrs()[0])
    assert.equal(a.getConnections().length, 0)
  })

  it('announces configured addresses instead of bound ones, minus noAnnounce', async () => {
    const a = await makeNode({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'], announce: ['/dns4/a.example/tcp/4001', '/ip4/5.6.7.8/tcp/4001'], noAnnounce: ['/ip4/5.6.7.8/tcp/4001'] }
    })
    assert.deepEqual(a.getMultiaddrs().map(String), [`/dns4/a.example/tcp/4001/p2p/${a.peerId}`])
    assert.equal(a.addressManager.getListenAddrs().length, 1)
    assert.equal(a.transportManager.getAddrs().length, 1)
  })

  it('maxInboundStreams is enforced per connection', async () => {
    const a = await makeNode()
    const b = await makeNode()
    const held: Stream[] = []
    await b.handle('/hold/1.0.0', stream => { held.push(stream) }, { maxInboundStreams: 2 })
    const conn = await a.dial(b.getMultiaddrs()[0])
    const s1 = await conn.newStream('/hold/1.0.0')
    const s2 = await conn.newStream('/hold/1.0.0')
    const s3 = await conn.newStream('/hold/1.0.0')
    await s3.closed
    assert.equal(s3.status, 'reset')
    assert.equal(s1.status, 'open')
    assert.equal(s2.status, 'open')
    assert.equal(held.length, 2)
  })

  it('connection manager prunes to the low watermark, sparing tagged and protected peers', async () => {
    const hub = await makeNode({ connectionManager: { maxConnections: 3, lowWatermark: 2, pruneGracePeriod: 0 } })
    const [kept, valuable, cheap, newest] = await Promise.all(Array.from({ length: 4 }, async () => await makeNode()))
    await hub.peerStore.merge(kept.peerId, { tags: { [KEEP_ALIVE]: { value: 1 } } })
    await hub.peerStore.merge(valuable.peerId, { tags: { app: { value: 80 } } })
    await hub.peerStore.merge(cheap.peerId, { tags: { app: { value: 5 } } })
    for (const peer of [kept, valuable, cheap]) await hub.dial(peer.getMultiaddrs()[0])
    const cheapGone = nextEvent<PeerId>(hub, 'peer:disconnect', p => p.equals(cheap.peerId))
    const newestGone = nextEvent<PeerId>(hub, 'peer:disconnect', p => p.equals(newest.peerId))
    await hub.dial(newest.getMultiaddrs()[0])
    await Promise.all([cheapGone, newestGone])
    assert.deepEqual(hub.getPeers().map(String).sort(), [kept, valuable].map(p => p.peerId.toString()).sort())
  })

  it('the connection gater can deny an inbound peer after the handshake', async () => {
    const a = await makeNode()
    const b = await makeNode({ connectionGater: { denyInboundEncryptedConnection: peer => peer.equals(a.peerId) } })
    await assert.rejects(a.dialProtocol(b.getMultiaddrs()[0], '/echo/1.0.0'))
    assert.equal(b.getConnections().length, 0)
    const c = await makeNode({ connectionGater: { denyDialMultiaddr: () => true } })
    await assert.rejects(c.dial(b.getMultiaddrs()[0]), (err: DialError) => err.errors[0].error.name === 'ConnectionDeniedError')
  })

  it('stop() is bounded even when a remote never finishes its streams', async () => {
    const a = await makeNode({ connectionManager: { stopTimeout: 300 } })
    const b = await makeNode()
    await b.handle('/hold/1.0.0', () => { /* never closes or reads */ })
    const stream = await a.dialProtocol(b.getMultiaddrs()[0], '/hold/1.0.0')
    await stream.write(utf8Encode('x'))
    const started = Date.now()
    await a.stop()
    assert.ok(Date.now() - started < 3000, `stop took ${Date.now() - started} ms`)
    assert.equal(a.getConnections().length, 0)
    assert.notEqual(stream.status, 'open')
  })

  it('topologies hear about peers that identify with the protocol', async () => {
    const a = await makeNode()
    const b = await makeNode()
    await b.handle('/topo/1.0.0', () => {})
    const connected = new Promise<{ peer: PeerId, conn: Connection }>(resolve => {
      a.registrar.register('/topo/1.0.0', { onConnect: (peer, conn) => { resolve({ peer, conn }) } })
    })
    await a.dial(b.getMultiaddrs()[0])
    const { peer, conn } = await connected
    assert.ok(peer.equals(b.peerId))
    assert.equal(conn.status, 'open')
  })

  it('announces self:peer:update when protocols change', async () => {
    const a = await makeNode()
    const updated = nextEvent(a, 'self:peer:update')
    await a.handle('/new/1.0.0', () => {})
    await updated
    assert.ok(a.getProtocols().includes('/new/1.0.0'))
  })

  it('fails fast when a service dependency is missing', async () => {
    const needy = () => ({ serviceDependencies: ['@libp2p/identify', 'pubsub'] })
    await assert.rejects(createLibp2p({ transports: [tcp()], services: { needy }, start: false }), (err: Error) =>
      err.name === 'MissingServiceDependencyError' && err.message.includes("service 'needy' needs 'pubsub'") && err.message.includes("needs '@libp2p/identify': add identify() from 'ts-libp2p/identify'"))
    const provider = () => ({ serviceCapabilities: ['@libp2p/identify'] })
    const ok = await createLibp2p({ transports: [tcp()], services: { needy: () => ({ serviceDependencies: ['@libp2p/identify', 'p'] }), p: provider, i: identify() }, start: false })
    assert.equal(ok.status, 'stopped')
  })

  it('starts with zero options and can restart after stop', async () => {
    const node = await createLibp2p()
    try {
      assert.equal(node.status, 'started')
      assert.deepEqual(node.getMultiaddrs(), [])
      assert.ok(node.getProtocols().includes('/ipfs/id/1.0.0'))
      assert.ok(node.getProtocols().includes('/ipfs/ping/1.0.0'))
      await node.stop()
      assert.equal(node.status, 'stopped')
      await assert.rejects(node.dial(multiaddr('/ip4/127.0.0.1/tcp/1')), { code: 'ERR_NOT_STARTED' })
      await node.start()
      assert.ok(node.getProtocols().includes('/ipfs/id/1.0.0'))
    } finally {
      await node.stop()
    }
  })
})

/** A TCP server that accepts connections and never says a word. */
async function blackhole (): Promise<{ port: number, sockets: Socket[], close(): Promise<void> }> {
  const sockets: Socket[] = []
  const server: Server = createServer(socket => { sockets.push(socket); socket.on('error', () => {}) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
  }
}
