import { describe, it, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { DefaultConnectionManager, KEEP_ALIVE } from '../../src/switch/connection-manager.ts'
import type { ConnectionManagerOptions } from '../../src/switch/connection-manager.ts'
import { DefaultRegistrar } from '../../src/switch/registrar.ts'
import { TransportManager } from '../../src/switch/transport-manager.ts'
import { Upgrader } from '../../src/switch/upgrader.ts'
import { DialError } from '../../src/switch/errors.ts'
import { TypedEventEmitter } from '../../src/util/events.ts'
import type { Libp2pEvents } from '../../src/interface/events.ts'
import type { ConnectionGater } from '../../src/interface/connection-gater.ts'
import type { PeerId } from '../../src/interface/peer-id.ts'
import { PipeNetwork } from '../support/pipe-network.ts'
import { fakeEncrypter, frameMuxer, makePeer, waitFor } from './doubles.ts'
import { memoryPeerStore } from '../support/peer-store.ts'

let nextPort = 1000
const running: DefaultConnectionManager[] = []

afterEach(async () => {
  await Promise.all(running.splice(0).map(async cm => { await cm.stop() }))
})

async function makeSwitch (network: PipeNetwork, options: ConnectionManagerOptions & { gater?: ConnectionGater, listen?: boolean } = {}) {
  const { peerId } = await makePeer()
  const events = new TypedEventEmitter<Libp2pEvents>()
  const peerStore = memoryPeerStore()
  const log: string[] = []
  for (const type of ['peer:connect', 'peer:disconnect', 'connection:open', 'connection:close'] as const) {
    events.addEventListener(type, (evt: CustomEvent) => {
      const detail = evt.detail as { remotePeer?: PeerId } & PeerId
      log.push(`${type} ${(detail.remotePeer ?? detail).toString()}`)
    })
  }
  let cm: DefaultConnectionManager | undefined
  const registrar = new DefaultRegistrar({ events, peerStore, getConnections: p => cm?.getConnections(p) ?? [] })
  const upgrader = new Upgrader({
    connectionEncrypters: [fakeEncrypter(peerId)],
    streamMuxers: [frameMuxer()],
    registrar,
    connectionGater: options.gater,
    connectionCloseTimeout: 500,
    onConnectionClose: c => { cm?.onConnectionClose(c) }
  })
  const transports = new TransportManager({ transports: [network.transport()], onConnection: raw => { cm?.acceptIncoming(raw) } })
  const addr = multiaddr(`/ip4/127.0.0.1/tcp/${nextPort++}`)
  cm = new DefaultConnectionManager({
    ...options,
    peerId,
    events,
    peerStore,
    upgrader,
    transports,
    connectionGater: options.gater,
    getOwnAddrs: () => transports.getAddrs()
  })
  cm.start()
  running.push(cm)
  if (options.listen !== false) await transports.listen([addr])
  return { peerId, events, peerStore, registrar, cm, transports, addr, log, p2pAddr: addr.encapsulate(`/p2p/${peerId.toString()}`) }
}

describe('connection manager and dialer', () => {
  it('dials a multiaddr and announces the connection on both sides', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net)
    const b = await makeSwitch(net)
    const conn = await a.cm.openConnection(b.p2pAddr)
    assert.ok(conn.remotePeer.equals(b.peerId))
    await waitFor(() => b.cm.getConnections().length === 1)
    assert.deepEqual(a.log, [`peer:connect ${b.peerId}`, `connection:open ${b.peerId}`])
    assert.deepEqual(b.log, [`peer:connect ${a.peerId}`, `connection:open ${a.peerId}`])
    assert.deepEqual(a.cm.getPeers().map(String), [b.peerId.toString()])
    // the dialed address is remembered for dials by peer id (written in the background)
    await waitFor(async () => await a.peerStore.has(b.peerId), 5000, 'the dialed address in the peer store')
    assert.equal((await a.peerStore.get(b.peerId)).addresses.length, 1)
  })

  it('dials a peer id through the peer store and reuses the open connection', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net)
    const b = await makeSwitch(net)
    await a.peerStore.merge(b.peerId, { multiaddrs: [b.addr] })
    const first = await a.cm.openConnection(b.peerId)
    const second = await a.cm.openConnection(b.peerId)
    assert.equal(first, second)
    const forced = await a.cm.openConnection(b.peerId, { force: true })
    assert.notEqual(forced, first)
    assert.equal(a.cm.getConnections(b.peerId).length, 2)
    assert.deepEqual(a.log.filter(l => l.startsWith('peer:connect')), [`peer:connect ${b.peerId}`])
  })

  it('deduplicates concurrent dials to the same peer', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net)
    const b = await makeSwitch(net)
    await a.peerStore.merge(b.peerId, { multiaddrs: [b.addr] })
    const conns = await Promise.all(Array.from({ length: 10 }, (_, i) => a.cm.openConnection(i % 2 === 0 ? b.peerId : b.p2pAddr)))
    assert.equal(new Set(conns).size, 1)
    assert.equal(net.dialed.length, 1)
    assert.equal(a.cm.getConnections().length, 1)
  })

  it('concurrent forced dials each get a new connection', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net)
    const b = await makeSwitch(net, { inboundConnectionThreshold: 100, maxIncomingPendingConnections: 100 })
    await a.peerStore.merge(b.peerId, { multiaddrs: [b.addr] })
    const conns = await Promise.all(Array.from({ length: 16 }, (_, i) => a.cm.openConnection(i % 2 === 0 ? b.peerId : b.p2pAddr, { force: true })))
    assert.equal(new Set(conns).size, 16)
    assert.equal(net.dialed.length, 16)
    assert.equal(a.cm.getConnections(b.peerId).length, 16)
    // a forced dial in flight is not joined by a plain one either, which reuses an open connection
    const plain = await a.cm.openConnection(b.peerId)
    assert.ok(conns.includes(plain))
  })

  it('a forced dial honours its own signal', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net)
    const b = await makeSwitch(net)
    const reason = new Error('caller gave up')
    await assert.rejects(a.cm.openConnection(b.p2pAddr, { force: true, signal: AbortSignal.abort(reason) }), (err: unknown) => err === reason)
    assert.equal(net.dialed.length, 0)
  })

  it('DialError lists every address tried and why', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net)
    const { peerId } = await makePeer()
    const { peerId: other } = await makePeer()
    const addrs = [
      multiaddr(`/ip4/127.0.0.1/tcp/9001/p2p/${peerId}`),
      multiaddr(`/ip4/10.0.0.1/tcp/9002/p2p/${peerId}`),
      multiaddr(`/ip6/::1/tcp/9003/p2p/${peerId}`)
    ]
    await a.peerStore.merge(peerId, { multiaddrs: [...addrs, multiaddr(`/dns4/example.com/tcp/1/ws/p2p/${other}`)] })
    const err = await a.cm.openConnection(peerId).then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof DialError)
    assert.equal(err.code, 'ERR_DIAL_FAILED')
    assert.equal(err.errors.length, 4)
    for (const addr of addrs) {
      assert.ok(err.message.includes(addr.toString()), `message names ${addr}`)
      assert.ok(err.errors.some(e => e.multiaddr.equals(addr)))
    }
    assert.ok(err.message.includes('ECONNREFUSED'))
    assert.ok(err.errors.some(e => e.error.name === 'UnexpectedPeerError'))
  })

  it('an unknown peer without addresses fails with a DialError', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net)
    const { peerId } = await makePeer()
    await assert.rejects(a.cm.openConnection(peerId), (err: DialError) => err.code === 'ERR_DIAL_FAILED' && /no addresses known/.test(err.message))
  })

  it('times out a blackhole address and moves on to the next', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net, { addressDialTimeout: 100, dialStagger: 1000 })
    const b = await makeSwitch(net)
    const hole = multiaddr('/ip4/127.0.0.1/tcp/1')
    net.blackholes.add(hole.toString())
    const started = Date.now()
    const err = await a.cm.openConnection(hole).then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof DialError)
    assert.equal(err.errors[0].error.name, 'TimeoutError')
    assert.ok(Date.now() - started < 1000)
    // a private address ranks after loopback: the blackhole is tried first and times out
    const good = multiaddr(`/ip4/192.168.1.1/tcp/7/p2p/${b.peerId}`)
    const listener = net.listeners.get(b.addr.toString())!
    net.listeners.set('/ip4/192.168.1.1/tcp/7', listener)
    const conn = await a.cm.openConnection([good, multiaddr(`${hole}/p2p/${b.peerId}`)])
    assert.ok(conn.remotePeer.equals(b.peerId))
    assert.deepEqual(net.dialed.slice(-2), [hole.toString(), '/ip4/192.168.1.1/tcp/7'])
  })

  it('the whole dial is bounded by dialTimeout', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net, { addressDialTimeout: 10_000, dialTimeout: 150 })
    const hole = multiaddr('/ip4/127.0.0.1/tcp/2')
    net.blackholes.add(hole.toString())
    const started = Date.now()
    await assert.rejects(a.cm.openConnection(hole), (err: DialError) => err.code === 'ERR_DIAL_FAILED' && err.errors.length === 1)
    assert.ok(Date.now() - started < 2000)
  })

  it('a caller abort rejects its own call only; the dial stops when all callers gave up', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net, { addressDialTimeout: 10_000 })
    const hole = multiaddr('/ip4/127.0.0.1/tcp/3')
    net.blackholes.add(hole.toString())
    const c1 = new AbortController()
    const c2 = new AbortController()
    const p1 = a.cm.openConnection(hole, { signal: c1.signal })
    const p2 = a.cm.openConnection(hole, { signal: c2.signal })
    c1.abort(new Error('first gave up'))
    await assert.rejects(p1, /first gave up/)
    assert.equal(a.cm.pendingDials, 1)
    c2.abort(new Error('second gave up'))
    await assert.rejects(p2, /second gave up/)
    await waitFor(() => a.cm.pendingDials === 0, 2000, 'the dial to be aborted')
  })

  it('refuses to dial the wrong peer, itself and its own addresses', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net)
    const b = await makeSwitch(net)
    const { peerId: c } = await makePeer()
    // b's address, but claiming c: the handshake authenticates b
    const err = await a.cm.openConnection(multiaddr(`${b.addr}/p2p/${c}`)).then(() => undefined, (e: unknown) => e) as DialError
    assert.equal(err.errors[0].error.name, 'UnexpectedPeerError')
    await assert.rejects(a.cm.openConnection(a.peerId), { code: 'ERR_INVALID_PARAMETERS' })
    const own = await a.cm.openConnection(a.addr).then(() => undefined, (e: unknown) => e) as DialError
    assert.match(own.errors[0].error.message, /our own/)
  })

  it('the gater can deny peers and addresses', async () => {
    const net = new PipeNetwork()
    const b = await makeSwitch(net)
    const a = await makeSwitch(net, { gater: { denyDialPeer: p => p.equals(b.peerId) } })
    await assert.rejects(a.cm.openConnection(b.p2pAddr), { code: 'ERR_CONNECTION_DENIED' })
    const a2 = await makeSwitch(net, { gater: { denyDialMultiaddr: async ma => ma.toString().includes('127.0.0.1') } })
    const err = await a2.cm.openConnection(b.p2pAddr).then(() => undefined, (e: unknown) => e) as DialError
    assert.equal(err.errors[0].error.name, 'ConnectionDeniedError')
    assert.equal(net.dialed.length, 0)
  })

  it('closeConnections emits peer:disconnect on both sides', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net)
    const b = await makeSwitch(net)
    await a.cm.openConnection(b.p2pAddr)
    await waitFor(() => b.cm.getConnections().length === 1)
    await a.cm.closeConnections(b.peerId)
    assert.equal(a.cm.getConnections().length, 0)
    await waitFor(() => b.log.includes(`peer:disconnect ${a.peerId}`))
    assert.deepEqual(a.log.slice(-2), [`connection:close ${b.peerId}`, `peer:disconnect ${b.peerId}`])
  })

  it('prunes lowest-value peers first and never protected ones', async () => {
    const net = new PipeNetwork()
    const hub = await makeSwitch(net, { maxConnections: 4, lowWatermark: 3, pruneGracePeriod: 0 })
    const peers = await Promise.all(Array.from({ length: 5 }, async () => await makeSwitch(net)))
    const [keep, valuable, cheap, protectedPeer, newest] = peers
    await hub.peerStore.merge(keep.peerId, { tags: { [`${KEEP_ALIVE}-app`]: { value: 0 } } })
    await hub.peerStore.merge(valuable.peerId, { tags: { app: { value: 50 }, other: { value: 20 } } })
    await hub.peerStore.merge(cheap.peerId, { tags: { app: { value: 10 } } })
    hub.cm.protect(protectedPeer.peerId, 'test')
    for (const p of [keep, valuable, cheap, protectedPeer]) {
      await hub.cm.openConnection(p.p2pAddr)
    }
    assert.equal(hub.cm.getConnections().length, 4)
    await hub.cm.openConnection(newest.p2pAddr)
    // 5 > 4: prune to 3, dropping `newest` (value 0) then `cheap` (10)
    await waitFor(() => hub.cm.getConnections().length === 3)
    const left = hub.cm.getPeers().map(String).sort()
    assert.deepEqual(left, [keep, valuable, protectedPeer].map(p => p.peerId.toString()).sort())
    assert.equal(hub.cm.unprotect(protectedPeer.peerId, 'test'), false)
  })

  it('never prunes a connection younger than the grace period', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() })
    const net = new PipeNetwork()
    const hub = await makeSwitch(net, { maxConnections: 2, lowWatermark: 1, pruneGracePeriod: 60_000 })
    const [oldA, oldB, young] = await Promise.all(Array.from({ length: 3 }, async () => await makeSwitch(net)))
    await hub.cm.openConnection(oldA.p2pAddr)
    await hub.cm.openConnection(oldB.p2pAddr)
    t.mock.timers.tick(61_000)
    await hub.cm.openConnection(young.p2pAddr)
    // 3 > 2: prune to 1. Newest-first would drop `young` first; the grace period spares it.
    await waitFor(() => hub.cm.getConnections().length === 1)
    assert.deepEqual(hub.cm.getPeers().map(String), [young.peerId.toString()])
  })

  it('at the high watermark accepts a new inbound connection and trims the least valuable: unidentified, idle, oldest first', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() })
    const net = new PipeNetwork()
    const hub = await makeSwitch(net, { maxConnections: 3, lowWatermark: 3, pruneGracePeriod: 10_000, inboundConnectionThreshold: 100 })
    const [identified, oldest, older, old, honest] = await Promise.all(Array.from({ length: 5 }, async () => await makeSwitch(net, { listen: false })))
    await hub.peerStore.merge(identified.peerId, { protocols: ['/ipfs/ping/1.0.0'] })
    await identified.cm.openConnection(hub.p2pAddr)
    for (const p of [oldest, older, old]) {
      t.mock.timers.tick(1000)
      await p.cm.openConnection(hub.p2pAddr)
    }
    await waitFor(() => hub.cm.getConnections().length === 4)
    t.mock.timers.tick(20_000)
    // 4 > 3 already (each was accepted); the next one is accepted too, not refused
    await honest.cm.openConnection(hub.p2pAddr)
    await waitFor(() => hub.cm.getConnections().length === 3, 5000, 'trimmed to the low watermark')
    assert.deepEqual(hub.cm.getPeers().map(String).sort(), [identified, old, honest].map(p => p.peerId.toString()).sort())
  })

  it('a flood that arrived within the grace period is trimmed when the grace ends, without a new connection to trigger it', async () => {
    const net = new PipeNetwork()
    const hub = await makeSwitch(net, { maxConnections: 2, lowWatermark: 2, pruneGracePeriod: 300, inboundConnectionThreshold: 100 })
    const dialers = await Promise.all(Array.from({ length: 4 }, async () => await makeSwitch(net, { listen: false })))
    for (const d of dialers) await d.cm.openConnection(hub.p2pAddr)
    await waitFor(() => hub.cm.getConnections().length === 4)
    await waitFor(() => hub.cm.getConnections().length === 2, 5000, 'trimmed once the grace period ended')
    // oldest first among equals: the last two stay
    assert.deepEqual(hub.cm.getPeers().map(String).sort(), dialers.slice(2).map(d => d.peerId.toString()).sort())
  })

  it('refuses inbound connections only at the hard ceiling, twice the high watermark', async () => {
    const net = new PipeNetwork()
    const hub = await makeSwitch(net, { maxConnections: 1, lowWatermark: 1, pruneGracePeriod: 60_000, inboundConnectionThreshold: 100 })
    const dialers = await Promise.all(Array.from({ length: 3 }, async () => await makeSwitch(net, { listen: false })))
    await dialers[0].cm.openConnection(hub.p2pAddr)
    await dialers[1].cm.openConnection(hub.p2pAddr)
    await waitFor(() => hub.cm.getConnections().length === 2)
    await assert.rejects(dialers[2].cm.openConnection(hub.p2pAddr), { code: 'ERR_DIAL_FAILED' })
    assert.equal(hub.cm.getConnections().length, 2)
  })

  it('a peer-store address that failed is in backoff for dials by peer id, not for dials that name it', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net, { listen: false })
    const b = await makeSwitch(net)
    await a.peerStore.merge(b.peerId, { multiaddrs: [b.addr] })
    await b.transports.close()
    await assert.rejects(a.cm.openConnection(b.peerId), (err: DialError) => err.errors.every(e => e.error.name !== 'DialBackoffError'))
    // the second dial by peer id does not try the address again
    await assert.rejects(a.cm.openConnection(b.peerId), (err: DialError) => err.errors.length === 1 && err.errors[0].error.name === 'DialBackoffError' && (err.errors[0].error as Error & { code: string }).code === 'ERR_DIAL_BACKOFF')
    await b.transports.listen([b.addr])
    // naming the address dials it anyway, and the success clears the peer's backoff
    await a.cm.openConnection(b.p2pAddr)
    await a.cm.closeConnections(b.peerId)
    await a.cm.openConnection(b.peerId)
  })

  it('dials known peers while below minConnections, and again when one leaves', async () => {
    const net = new PipeNetwork()
    const [a, b] = await Promise.all([makeSwitch(net), makeSwitch(net)])
    const unreachable = await makePeer()
    const hub = await makeSwitch(net, { minConnections: 2, listen: false })
    await hub.peerStore.merge(a.peerId, { multiaddrs: [a.addr] })
    await hub.peerStore.merge(b.peerId, { multiaddrs: [b.addr], tags: { app: { value: 5 } } })
    await hub.peerStore.merge(unreachable.peerId, { multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/1')] })
    await hub.cm.stop()
    hub.cm.start()
    await waitFor(() => hub.cm.getPeers().length === 2)
    assert.deepEqual(hub.cm.getPeers().map(String).sort(), [a.peerId, b.peerId].map(String).sort())
    await b.cm.closeConnections(hub.peerId)
    const opens = (): number => hub.log.filter(line => line === `connection:open ${b.peerId.toString()}`).length
    await waitFor(() => opens() === 2 && hub.log.includes(`connection:close ${b.peerId.toString()}`))
    assert.equal(hub.cm.getConnections(b.peerId).length, 1)
    assert.equal(hub.cm.getConnections(unreachable.peerId).length, 0)
  })

  it('limits inbound connections per host per second (loopback only with limitLoopback)', async () => {
    const net = new PipeNetwork()
    const b = await makeSwitch(net, { inboundConnectionThreshold: 2, limitLoopback: true })
    const dialers = await Promise.all(Array.from({ length: 3 }, async () => await makeSwitch(net, { listen: false })))
    await dialers[0].cm.openConnection(b.p2pAddr)
    await dialers[1].cm.openConnection(b.p2pAddr)
    await assert.rejects(dialers[2].cm.openConnection(b.p2pAddr), { code: 'ERR_DIAL_FAILED' })
    assert.equal(b.cm.getConnections().length, 2)
  })

  it('beyond maxIncomingPendingConnections newcomers wait (as many again), then are dropped', async () => {
    const net = new PipeNetwork()
    const b = await makeSwitch(net, { maxIncomingPendingConnections: 2, pendingEvictionAge: 60_000, inboundConnectionThreshold: 100 })
    const transport = net.transport()
    // raw connections that never start the upgrade stay pending
    const silent = await Promise.all([0, 1, 2, 3, 4].map(async () => await transport.dial(b.addr)))
    await silent[4].closed
    assert.equal(silent[4].status, 'reset')
    assert.deepEqual(silent.slice(0, 4).map(s => s.status), ['open', 'open', 'open', 'open'])
    assert.equal(b.cm.pendingInbound, 2)
    // one of the two pending goes away: the first waiting one takes its place
    silent[0].abort(new Error('gone'))
    await waitFor(() => b.cm.pendingInbound === 2 && b.cm.waitingInbound === 1, 5000, 'a waiter admitted')
    for (const s of silent) s.abort(new Error('done'))
  })

  it('stop() closes every connection and refuses new dials', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net)
    const b = await makeSwitch(net)
    await a.cm.openConnection(b.p2pAddr)
    await a.cm.stop()
    assert.equal(a.cm.getConnections().length, 0)
    await assert.rejects(a.cm.openConnection(b.p2pAddr), { code: 'ERR_NOT_STARTED' })
    await waitFor(() => b.cm.getConnections().length === 0)
  })

  it('keeps both connections of a simultaneous dial and prefers the older', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net)
    const b = await makeSwitch(net)
    const [ab, ba] = await Promise.all([a.cm.openConnection(b.p2pAddr), b.cm.openConnection(a.p2pAddr)])
    await waitFor(() => a.cm.getConnections().length === 2 && b.cm.getConnections().length === 2)
    assert.equal(await a.cm.openConnection(b.peerId), a.cm.getConnections(b.peerId)[0])
    assert.ok(ab !== undefined && ba !== undefined)
    assert.equal(a.log.filter(l => l.startsWith('peer:connect')).length, 1)
  })

  it('rejects malformed dial targets', async () => {
    const net = new PipeNetwork()
    const a = await makeSwitch(net)
    const { peerId: x } = await makePeer()
    const { peerId: y } = await makePeer()
    await assert.rejects(a.cm.openConnection([] as Multiaddr[]), { code: 'ERR_INVALID_PARAMETERS' })
    await assert.rejects(a.cm.openConnection([multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${x}`), multiaddr(`/ip4/1.2.3.4/tcp/2/p2p/${y}`)]), { code: 'ERR_INVALID_PARAMETERS' })
    await assert.rejects(a.cm.openConnection('nonsense' as unknown as PeerId), { code: 'ERR_INVALID_PARAMETERS' })
  })
})
