/**
 * The DCUtR service, both roles, over in-memory streams: the exchange, RTT-timed SYNC, three
 * attempts on one stream, the role swap on the last, direct dial first, the events, and the
 * failure table on a fake clock (no CONNECT, no SYNC, no addresses, oversized message, a dial
 * that times out, wrong message) with the default budgets.
 * Dials are recorded by a stand-in connection manager; the real punch runs in the NAT lab tests.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { DcutrService, type DcutrComponents, type DcutrOptions } from '../../../src/protocols/dcutr/dcutr.ts'
import { DCUTR_PROTOCOL, encodeHolePunch, decodeHolePunch } from '../../../src/protocols/dcutr/message.ts'
import type { Connection } from '../../../src/interface/connection.ts'
import type { DialOptions, DialTarget } from '../../../src/interface/connection-manager.ts'
import type { HolePunchOutcome, Libp2pEvents } from '../../../src/interface/events.ts'
import type { Stream } from '../../../src/interface/stream.ts'
import { TypedEventEmitter } from '../../../src/util/events.ts'
import { NotFoundError } from '../../../src/util/errors.ts'
import { StreamReader, encodeLP } from '../../../src/util/stream-reader.ts'
import { FakeConnection, FakeRegistrar, fakePeerId, logger } from '../../support/fake-connections.ts'

const RELAY = '/ip4/11.0.0.10/tcp/4001/p2p/QmRelay/p2p-circuit'

interface Dial { addrs: string[], role: string | undefined, abortedWith?: Error }

interface Side {
  service: DcutrService
  registrar: FakeRegistrar
  events: TypedEventEmitter<Libp2pEvents>
  dials: Dial[]
  outcomes: HolePunchOutcome[]
}

/** One peer: its public address, what its dials do (attempt number -> succeed?), known addresses of the other. */
function side (name: string, publicAddr: string | undefined, dialSucceeds: (n: number) => boolean | 'hang', options: DcutrOptions = {}, known: Multiaddr[] = []): Side {
  const registrar = new FakeRegistrar()
  const events = new TypedEventEmitter<Libp2pEvents>()
  const dials: Dial[] = []
  const outcomes: HolePunchOutcome[] = []
  events.addEventListener('holepunch', evt => { outcomes.push(evt.detail) })
  const components: DcutrComponents = {
    registrar,
    events,
    logger,
    addressManager: { getListenAddrs: () => [], getAddresses: () => publicAddr === undefined ? [] : [multiaddr(publicAddr)], addObservedAddr: () => {} } as unknown as DcutrComponents['addressManager'],
    peerStore: { get: async () => { if (known.length === 0) throw new NotFoundError(); return { addresses: known.map(m => ({ multiaddr: m })) } } } as unknown as DcutrComponents['peerStore'],
    connectionManager: {
      async openConnection (target: DialTarget, options: DialOptions = {}) {
        const addrs = (target as Multiaddr[]).map(String)
        const dial: Dial = { addrs, role: options.handshakeRole }
        dials.push(dial)
        const outcome = dialSucceeds(dials.length)
        if (outcome === 'hang') {
          // a SYN that never gets an answer: only the dial's own deadline ends it
          return await new Promise<never>((_resolve, reject) => {
            options.signal?.addEventListener('abort', () => { dial.abortedWith = options.signal?.reason as Error; reject(options.signal?.reason) }, { once: true })
          })
        }
        if (!outcome) throw new Error(`dial ${dials.length} refused`)
        return { remoteAddr: multiaddr(addrs[0]), status: 'open' } as unknown as Connection
      },
      getConnections: () => [],
      async closeConnections () {}
    }
  }
  const service = new DcutrService(components, { streamTimeout: 2000, ...options })
  service.start()
  return { service, registrar, events, dials, outcomes }
}

/** A relayed connection from A (outbound, the dialer through the relay) to B (inbound). */
function relayedPair (a: Side, b: Side): { aToB: FakeConnection, bToA: FakeConnection } {
  const aToB = new FakeConnection(fakePeerId('B'), multiaddr(RELAY + '/p2p/QmB'), 'outbound', b.registrar)
  const bToA = new FakeConnection(fakePeerId('A'), multiaddr(RELAY + '/p2p/QmA'), 'inbound', a.registrar)
  aToB.other = bToA
  bToA.other = aToB
  return { aToB, bToA }
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise(resolve => setImmediate(resolve))
}

test('the first attempt connects: A initiates the handshakes, B responds, both dial the other\'s CONNECT addresses', async () => {
  const a = side('A', '/ip4/11.0.0.11/tcp/41001', () => true)
  const b = side('B', '/ip4/11.0.0.12/tcp/41002', () => true)
  const { bToA } = relayedPair(a, b)
  await b.service.upgrade(bToA)
  await until(() => a.outcomes.length > 0)
  assert.deepEqual(b.dials, [{ addrs: ['/ip4/11.0.0.11/tcp/41001/p2p/A'], role: 'responder' }])
  assert.deepEqual(a.dials, [{ addrs: ['/ip4/11.0.0.12/tcp/41002/p2p/B'], role: 'initiator' }])
  assert.deepEqual([b.outcomes[0].success, b.outcomes[0].attempt, a.outcomes[0].success, a.outcomes[0].attempt], [true, 1, true, 1])
  assert.equal(b.outcomes[0].addr?.toString(), '/ip4/11.0.0.11/tcp/41001/p2p/A')
})

test('after the upgrade the relayed connection is closed, once the streams still running on it have finished', async () => {
  const a = side('A', '/ip4/11.0.0.11/tcp/41001', () => true)
  const b = side('B', '/ip4/11.0.0.12/tcp/41002', () => true)
  a.registrar.handle('/transfer/1', () => {})
  const { bToA } = relayedPair(a, b)
  const transfer = await bToA.newStream('/transfer/1')
  await b.service.upgrade(bToA)
  await until(() => a.outcomes.length > 0)
  for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve))
  assert.equal(bToA.status, 'open', 'a transfer still runs on it')
  transfer.abort(new Error('transfer done'))
  await until(() => bToA.status === 'closed')
  assert.equal(bToA.status, 'closed')
})

test('three attempts on one stream, roles swapped on the last', async () => {
  const a = side('A', '/ip4/11.0.0.11/tcp/41001', n => n === 3)
  const b = side('B', '/ip4/11.0.0.12/tcp/41002', n => n === 3)
  const { bToA } = relayedPair(a, b)
  await b.service.upgrade(bToA)
  await until(() => a.outcomes.length > 0)
  assert.deepEqual(b.dials.map(d => d.role), ['responder', 'responder', 'initiator'])
  assert.deepEqual(a.dials.map(d => d.role), ['initiator', 'initiator', 'responder'])
  assert.equal(bToA.opened.get(DCUTR_PROTOCOL), 1)
  assert.deepEqual([b.outcomes[0].success, b.outcomes[0].attempt], [true, 3])
})

test('every attempt fails: HolePunchFailedError after exactly three, a failed event, the relayed connection stays', async () => {
  const a = side('A', '/ip4/11.0.0.11/tcp/41001', () => false)
  const b = side('B', '/ip4/11.0.0.12/tcp/41002', () => false)
  const { bToA } = relayedPair(a, b)
  await assert.rejects(b.service.upgrade(bToA), { name: 'HolePunchFailedError' })
  await until(() => a.outcomes.length > 0)
  assert.equal(b.dials.length, 3)
  assert.equal(a.dials.length, 3)
  assert.deepEqual([b.outcomes[0].success, b.outcomes[0].attempt, a.outcomes[0].success], [false, 3, false])
  assert.equal(bToA.status, 'open')
})

test('a remote with public addresses is dialed directly first, no stream opened', async () => {
  const a = side('A', '/ip4/11.0.0.11/tcp/41001', () => true)
  const b = side('B', '/ip4/11.0.0.12/tcp/41002', () => true, {}, [multiaddr('/ip4/11.0.0.11/tcp/4001'), multiaddr('/ip4/10.0.0.2/tcp/4001'), multiaddr(RELAY)])
  const { bToA } = relayedPair(a, b)
  await b.service.upgrade(bToA)
  assert.deepEqual(b.dials, [{ addrs: ['/ip4/11.0.0.11/tcp/4001/p2p/A'], role: 'initiator' }])
  assert.equal(bToA.opened.get(DCUTR_PROTOCOL), undefined)
  assert.deepEqual([b.outcomes[0].success, b.outcomes[0].attempt], [true, 0])
})

test('without a public address of our own there is nothing to punch with: no stream, a typed error', async () => {
  const a = side('A', '/ip4/11.0.0.11/tcp/41001', () => true)
  const b = side('B', '/ip4/10.0.0.2/tcp/41002', () => true)
  const { bToA } = relayedPair(a, b)
  await assert.rejects(b.service.upgrade(bToA), { name: 'HolePunchFailedError' })
  assert.equal(bToA.opened.get(DCUTR_PROTOCOL), undefined)
})

/**
 * B against a hand-written A that behaves badly, on a fake clock (node:test mock timers) with
 * the default budgets: `elapse` is how long A's silence lasts before B's verdict, in ms.
 */
async function bAgainst (t: TestContext, respond: (stream: Stream, reader: StreamReader) => Promise<void>, elapse?: number): Promise<Error> {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  try {
    let received = false
    const a = side('A', undefined, () => true)
    a.registrar.unhandle(DCUTR_PROTOCOL)
    a.registrar.handle(DCUTR_PROTOCOL, async (stream) => { received = true; await respond(stream, new StreamReader(stream)) })
    const b = side('B', '/ip4/11.0.0.12/tcp/41002', () => true, { streamTimeout: undefined })
    const { bToA } = relayedPair(a, b)
    let failure: Error | undefined
    void b.service.upgrade(bToA).then(() => { failure = new Error('expected a failure') }, (e: Error) => { failure = e })
    await until(() => received)
    if (elapse !== undefined) {
      t.mock.timers.tick(elapse - 1)
      await settle()
      assert.equal(failure, undefined, `still waiting ${elapse - 1} ms in`)
      t.mock.timers.tick(1)
    }
    await until(() => failure !== undefined)
    assert.ok(failure !== undefined, 'B gave a verdict without time passing')
    assert.equal(b.dials.length, 0, 'no dial after a broken exchange')
    assert.equal(b.outcomes[0]?.success, false)
    return failure
  } finally {
    stopFakeClock(t)
  }
}

/**
 * Fires what is left on the fake clock before putting the real one back: an idle deadline
 * queue keeps its timer, and a fake timer dropped by reset() would never fire for the next test.
 */
function stopFakeClock (t: TestContext): void {
  t.mock.timers.runAll()
  t.mock.timers.reset()
}

/** Lets every pending promise chain and I/O callback run (real setImmediate: only setTimeout is faked). */
async function settle (): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise(resolve => setImmediate(resolve))
}

test('failure table, B\'s side (fake clock): no CONNECT times out at exactly 60 s; SYNC instead of CONNECT, no addresses, oversized, unparsable fail at once', async (t) => {
  assert.equal((await bAgainst(t, async () => { await new Promise(() => {}) }, 60_000)).name, 'TimeoutError')
  assert.equal((await bAgainst(t, async (s, r) => { await r.readLP({ maxLength: 4096 }); await s.write(encodeLP(encodeHolePunch({ type: 'SYNC', observedAddrs: [] }))) })).name, 'HolePunchProtocolError')
  assert.equal((await bAgainst(t, async (s, r) => { await r.readLP({ maxLength: 4096 }); await s.write(encodeLP(encodeHolePunch({ type: 'CONNECT', observedAddrs: [] }))) })).name, 'HolePunchProtocolError')
  assert.equal((await bAgainst(t, async (s, r) => { await r.readLP({ maxLength: 4096 }); await s.write(encodeLP(encodeHolePunch({ type: 'CONNECT', observedAddrs: [multiaddr('/ip4/10.0.0.2/tcp/1').bytes] }))) })).name, 'HolePunchProtocolError')
  assert.equal((await bAgainst(t, async (s, r) => { await r.readLP({ maxLength: 4096 }); await s.write(encodeLP(new Uint8Array(5000))) })).name, 'MessageTooLargeError')
  assert.equal((await bAgainst(t, async (s, r) => { await r.readLP({ maxLength: 4096 }); await s.write(encodeLP(Uint8Array.of(0x08, 0x07))) })).name, 'InvalidMessageError')
})

/** A against B played by hand on a stream: CONNECT, A's CONNECT back; returns the stream. */
async function connectToA (a: Side, b: Side): Promise<{ stream: Stream, reader: StreamReader }> {
  const { aToB } = relayedPair(a, b)
  const stream = await aToB.other.newStream(DCUTR_PROTOCOL)
  const reader = new StreamReader(stream)
  await stream.write(encodeLP(encodeHolePunch({ type: 'CONNECT', observedAddrs: [multiaddr('/ip4/11.0.0.12/tcp/41002').bytes] })))
  const answer = decodeHolePunch((await reader.readLP({ maxLength: 4096 }))!)
  assert.equal(answer.type, 'CONNECT')
  assert.deepEqual(answer.observedAddrs.map(x => multiaddr(x).toString()), ['/ip4/11.0.0.11/tcp/41001'])
  return { stream, reader }
}

test('failure table, A\'s side (fake clock): CONNECT but never SYNC ends at exactly 60 s without a dial', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  t.after(() => { stopFakeClock(t) })
  const a = side('A', '/ip4/11.0.0.11/tcp/41001', () => true, { streamTimeout: undefined })
  const b = side('B', '/ip4/11.0.0.12/tcp/41002', () => true)
  const { reader } = await connectToA(a, b)
  t.mock.timers.tick(59_999)
  await settle()
  assert.equal(a.outcomes.length, 0, 'A still waits for SYNC 1 ms before its budget ends')
  t.mock.timers.tick(1)
  await until(() => a.outcomes.length > 0)
  await assert.rejects(reader.readLP({ maxLength: 4096 }))
  assert.equal(a.dials.length, 0)
  assert.equal(a.outcomes[0].success, false)
})

test('failure table (fake clock): a punch dial that never connects is abandoned at exactly the 5 s dial budget', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  t.after(() => { stopFakeClock(t) })
  const a = side('A', '/ip4/11.0.0.11/tcp/41001', () => 'hang', { streamTimeout: undefined })
  const b = side('B', '/ip4/11.0.0.12/tcp/41002', () => true)
  const { stream } = await connectToA(a, b)
  await stream.write(encodeLP(encodeHolePunch({ type: 'SYNC', observedAddrs: [] })))
  await until(() => a.dials.length === 1)
  t.mock.timers.tick(4_999)
  await settle()
  assert.equal(a.dials[0].abortedWith, undefined, 'the dial still runs 1 ms before its budget ends')
  t.mock.timers.tick(1)
  await until(() => a.dials[0].abortedWith !== undefined)
  assert.equal((a.dials[0].abortedWith as Error | undefined)?.name, 'TimeoutError')
  await stream.close()
})

test('A refuses DCUtR over a direct connection', async () => {
  const a = side('A', '/ip4/11.0.0.11/tcp/41001', () => true)
  const b = side('B', '/ip4/11.0.0.12/tcp/41002', () => true)
  const direct = new FakeConnection(fakePeerId('A'), multiaddr('/ip4/11.0.0.11/tcp/4001'), 'inbound', a.registrar)
  direct.other = new FakeConnection(fakePeerId('B'), multiaddr('/ip4/11.0.0.12/tcp/4001'), 'outbound', b.registrar)
  direct.other.other = direct
  const stream = await direct.newStream(DCUTR_PROTOCOL)
  // the reset may come before or after our write lands
  await stream.write(encodeLP(encodeHolePunch({ type: 'CONNECT', observedAddrs: [multiaddr('/ip4/11.0.0.12/tcp/41002').bytes] }))).catch(() => {})
  await assert.rejects(new StreamReader(stream).readLP({ maxLength: 4096 }), { name: 'StreamResetError' })
  assert.equal(a.dials.length, 0)
})

test('A counts attempts per relayed connection, so a B that opens a stream per attempt (go) still gets the last-attempt swap', async () => {
  const a = side('A', '/ip4/11.0.0.11/tcp/41001', n => n === 3)
  const b = side('B', '/ip4/11.0.0.12/tcp/41002', () => true)
  const { aToB } = relayedPair(a, b)
  for (let attempt = 1; attempt <= 3; attempt++) {
    const stream = await aToB.other.newStream(DCUTR_PROTOCOL)
    const reader = new StreamReader(stream)
    await stream.write(encodeLP(encodeHolePunch({ type: 'CONNECT', observedAddrs: [multiaddr('/ip4/11.0.0.12/tcp/41002').bytes] })))
    assert.equal(decodeHolePunch((await reader.readLP({ maxLength: 4096 }))!).type, 'CONNECT')
    await stream.write(encodeLP(encodeHolePunch({ type: 'SYNC', observedAddrs: [] })))
    await until(() => a.dials.length === attempt)
    await stream.closeWrite()
  }
  await until(() => a.outcomes.length > 0)
  assert.deepEqual(a.dials.map(d => d.role), ['initiator', 'initiator', 'responder'])
  assert.deepEqual([a.outcomes.length, a.outcomes[0].success, a.outcomes[0].attempt], [1, true, 3])
})
