/**
 * The relay's parts on a fake clock (node:test mock timers): a circuit's duration limit fires
 * at exactly its value, a far-future one (past setTimeout's 2^31-1 ms) does not fire early;
 * the reservation table's caps (overall, per IP) and expiry.
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { duplexPair } from '../../src/util/duplex-pair.ts'
import { Circuit } from '../../src/relay/circuit.ts'
import { ReservationTable } from '../../src/relay/reservation-table.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { MAX_TIMER_DELAY, unrefLongTimeout } from '../../src/util/timers.ts'

function pairs (): { initiator: ReturnType<typeof duplexPair>[0], target: ReturnType<typeof duplexPair>[0], circuitEnds: [ReturnType<typeof duplexPair>[0], ReturnType<typeof duplexPair>[0]] } {
  const [initiator, relayA] = duplexPair()
  const [relayB, target] = duplexPair()
  return { initiator, target, circuitEnds: [relayA, relayB] }
}

test('the duration limit resets both halves at exactly its value, not a millisecond before', async (ctx) => {
  mock.timers.enable({ apis: ['setTimeout'] })
  ctx.after(() => { mock.timers.reset() })
  const { initiator, target, circuitEnds } = pairs()
  const circuit = new Circuit(circuitEnds[0], circuitEnds[1], { durationMs: 120_000 })
  mock.timers.tick(119_999)
  await Promise.resolve()
  assert.equal(initiator.status, 'open')
  assert.equal(target.status, 'open')
  mock.timers.tick(1)
  await circuit.closed
  await assert.rejects(initiator.read(), { name: 'StreamResetError' })
  await assert.rejects(target.read(), { name: 'StreamResetError' })
})

test('a far-future limit (past 2^31-1 ms) does not overflow into an immediate reset', async (ctx) => {
  mock.timers.enable({ apis: ['setTimeout'] })
  ctx.after(() => { mock.timers.reset() })
  const { initiator, circuitEnds } = pairs()
  const duration = 2 ** 32 * 1000 // the largest uint32 seconds a relay can send, in ms
  const circuit = new Circuit(circuitEnds[0], circuitEnds[1], { durationMs: duration })
  mock.timers.tick(1)
  mock.timers.tick(MAX_TIMER_DELAY)
  await Promise.resolve()
  assert.equal(initiator.status, 'open')
  circuit.reset(new Error('test over'))

  let fired = 0
  const timer = unrefLongTimeout(() => { fired++ }, 3 * MAX_TIMER_DELAY + 5)
  // One step at a time: the mock clock starts timers set during a tick from the tick's end.
  for (let i = 0; i < 3; i++) mock.timers.tick(MAX_TIMER_DELAY)
  mock.timers.tick(4)
  assert.equal(fired, 0)
  mock.timers.tick(1)
  assert.equal(fired, 1)
  timer.cancel()
  const never = unrefLongTimeout(() => { fired++ }, Infinity)
  mock.timers.tick(10 * MAX_TIMER_DELAY)
  never.cancel()
  assert.equal(fired, 1)
})

test('the reservation table: overall and per-IP caps, a refresh keeps one entry, expiry frees the slot', async () => {
  const peers = await Promise.all([1, 2, 3, 4].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
  const table = new ReservationTable({ maxReservations: 3, maxReservationsPerIp: 2 })
  assert.equal(table.reserve(peers[0], '10.0.0.1', 1000, 0), 'created')
  assert.equal(table.reserve(peers[1], '10.0.0.1', 1000, 0), 'created')
  assert.equal(table.reserve(peers[2], '10.0.0.1', 1000, 0), 'too-many-for-ip')
  assert.equal(table.reserve(peers[0], '10.0.0.1', 2000, 0), 'refreshed')
  assert.equal(table.size, 2)
  assert.equal(table.reserve(peers[2], '10.0.0.2', 1000, 0), 'created')
  assert.equal(table.reserve(peers[3], '10.0.0.3', 1000, 0), 'too-many')
  // At t=1000 the 1000-expiry entries are gone (expiry is exclusive), the refreshed one lives.
  assert.equal(table.get(peers[1], 1000), undefined)
  assert.ok(table.get(peers[0], 1000) !== undefined)
  assert.equal(table.reserve(peers[3], '10.0.0.3', 3000, 1000), 'created')
  // peer 0 moving to a full IP is refused; to a free one it moves its count
  assert.equal(table.reserve(peers[1], '10.0.0.1', 3000, 1000), 'created')
  assert.equal(table.reserve(peers[2], '10.0.0.1', 3000, 1000), 'too-many')
  table.sweep(5000)
  assert.equal(table.size, 0)
})
