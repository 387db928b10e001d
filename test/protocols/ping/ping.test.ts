import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PingService, pingOnce } from '../../../src/protocols/ping/ping.ts'
import { InvalidMessageError, TimeoutError } from '../../../src/util/errors.ts'
import { StreamReader } from '../../../src/util/stream-reader.ts'
import { FakeRegistrar, connectFakePeers, fakeConnectionManager, fakePeerId, logger } from '../../support/fake-connections.ts'
import { watchArmedTimers } from '../../util/armed-timers.ts'

function setup (options: ConstructorParameters<typeof PingService>[1] = {}) {
  const a = { peerId: fakePeerId('A'), registrar: new FakeRegistrar() }
  const b = { peerId: fakePeerId('B'), registrar: new FakeRegistrar() }
  const [ab, ba] = connectFakePeers(a, b)
  const pingA = new PingService({ registrar: a.registrar, connectionManager: fakeConnectionManager([ab]), logger }, options)
  const pingB = new PingService({ registrar: b.registrar, connectionManager: fakeConnectionManager([ba]), logger }, options)
  pingA.start()
  pingB.start()
  return { a, b, ab, ba, pingA, pingB }
}

test('ping measures a round trip and reuses one stream for repeated pings', async () => {
  const { ab, pingA, pingB } = setup()
  for (let i = 0; i < 5; i++) {
    const rtt = await pingA.ping(ab)
    assert.ok(rtt >= 0 && rtt < 5000, `rtt ${rtt}`)
  }
  assert.equal(ab.opened.get('/ipfs/ping/1.0.0'), 1)
  // concurrent pings on one connection queue on the same stream
  const rtts = await Promise.all([pingA.ping(ab), pingA.ping(ab), pingA.ping(ab)])
  assert.equal(rtts.length, 3)
  assert.equal(ab.opened.get('/ipfs/ping/1.0.0'), 1)
  pingA.stop()
  pingB.stop()
})

test('ping resolves a target through the connection manager', async () => {
  const { b, pingA, ab } = setup()
  const rtt = await pingA.ping(b.peerId)
  assert.equal(typeof rtt, 'number')
  assert.equal(ab.opened.get('/ipfs/ping/1.0.0'), 1)
  pingA.stop()
})

test('a reused stream that the remote closed is replaced transparently', async () => {
  const { ab, ba, pingA, pingB } = setup()
  await pingA.ping(ab)
  // the responder side closes its stream (e.g. its idle timeout)
  const inbound = ba.streams[0]
  inbound.abort(new Error('remote went idle'))
  await inbound.closed
  const rtt = await pingA.ping(ab)
  assert.equal(typeof rtt, 'number')
  assert.equal(ab.opened.get('/ipfs/ping/1.0.0'), 2)
  pingA.stop()
  pingB.stop()
})

test('with reuseStreamFor 0 every ping uses a fresh stream that is closed after', async () => {
  const { ab, pingA } = setup({ reuseStreamFor: 0 })
  await pingA.ping(ab)
  await pingA.ping(ab)
  assert.equal(ab.opened.get('/ipfs/ping/1.0.0'), 2)
  await Promise.all(ab.streams.map(async s => { await s.closed }))
  assert.ok(ab.streams.every(s => s.status === 'closed'))
})

test('the listener echoes and closes when the dialer sends once and half-closes (js style)', async () => {
  const { ab } = setup()
  const stream = await ab.newStream('/ipfs/ping/1.0.0')
  const payload = crypto.getRandomValues(new Uint8Array(32))
  stream.send(payload)
  await stream.closeWrite()
  const reader = new StreamReader(stream)
  assert.deepEqual(await reader.readExactly(32), payload)
  assert.equal(await stream.read(), null)
  await stream.closed
  assert.equal(stream.status, 'closed')
})

test('a wrong echo is a typed error', async () => {
  const { a, b, ab, pingA } = setup()
  b.registrar.unhandle('/ipfs/ping/1.0.0')
  b.registrar.handle('/ipfs/ping/1.0.0', async (stream) => {
    for (;;) {
      const chunk = await stream.read()
      if (chunk === null) break
      stream.send(chunk.map(x => x ^ 1))
    }
    await stream.closeWrite()
  })
  await assert.rejects(pingA.ping(ab), InvalidMessageError)
  void a
})

test('every payload is 32 fresh random bytes, across refills of the payload pool', async () => {
  const { b, ab, pingA } = setup()
  const seen = new Set<string>()
  b.registrar.unhandle('/ipfs/ping/1.0.0')
  b.registrar.handle('/ipfs/ping/1.0.0', async (stream) => {
    const reader = new StreamReader(stream)
    for (;;) {
      const payload = await reader.readExactly(32).catch(() => null)
      if (payload === null) break
      seen.add(Buffer.from(payload).toString('hex'))
      stream.send(payload.slice())
    }
    reader.release()
    await stream.closeWrite().catch(() => {})
  })
  // more pings than one pool holds (128)
  for (let i = 0; i < 300; i++) await pingA.ping(ab)
  assert.equal(seen.size, 300)
  pingA.stop()
})

test('a silent remote makes ping fail with a timeout, not hang', async () => {
  const { b, ab, pingA } = setup({ timeout: 100 })
  b.registrar.unhandle('/ipfs/ping/1.0.0')
  b.registrar.handle('/ipfs/ping/1.0.0', async () => {})
  await assert.rejects(pingA.ping(ab), TimeoutError)
})

test('the listener aborts an idle inbound stream', async () => {
  const { ab } = setup({ inboundIdleTimeout: 50 })
  const stream = await ab.newStream('/ipfs/ping/1.0.0')
  const reader = new StreamReader(stream)
  await pingOnce(stream, reader)
  await stream.closed
  assert.equal(stream.status, 'reset')
})

test('the listener registers with at most two inbound streams per connection', () => {
  const { b } = setup()
  assert.equal(b.registrar.handlers.get('/ipfs/ping/1.0.0')?.options.maxInboundStreams, 2)
})

test('a finished ping leaves no timeout timer behind', async () => {
  const TIMEOUT = 12_345
  const { ab, pingA, pingB } = setup({ timeout: TIMEOUT })
  const timers = watchArmedTimers(TIMEOUT)
  try {
    for (let i = 0; i < 5; i++) await pingA.ping(ab)
    await Promise.all([pingA.ping(ab), pingA.ping(ab)])
  } finally {
    timers.restore()
  }
  assert.equal(timers.armed.size, 0, `${timers.armed.size} ping timeout timers still armed`)
  pingA.stop()
  pingB.stop()
})
