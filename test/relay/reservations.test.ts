/**
 * The client's reservation keeping on a fake clock (node:test mock timers for setTimeout and
 * Date), against a scripted relay over in-memory streams: refresh before expiry with no gap in
 * the address while refreshes fail, loss at exactly the expiry when they keep failing, remake
 * when the relay reconnects, far-future expiries that do not overflow into a refresh loop, and
 * answers that must be refused (expiry in the past, forged or expired voucher).
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '../../src/crypto/index.ts'
import type { PrivateKey } from '../../src/interface/keys.ts'
import type { Libp2pEvents, RelayReservationEvent } from '../../src/interface/events.ts'
import type { Connection } from '../../src/interface/connection.ts'
import type { Stream } from '../../src/interface/stream.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { duplexPair } from '../../src/util/duplex-pair.ts'
import { TypedEventEmitter } from '../../src/util/events.ts'
import { logger } from '../../src/util/logger.ts'
import { nextTurn, MAX_TIMER_DELAY } from '../../src/util/timers.ts'
import { readLP, writeLP } from '../../src/util/stream-reader.ts'
import { decodeHopMessage, encodeHopMessage, HopType, RelayStatus } from '../../src/relay/messages.ts'
import { sealVoucher } from '../../src/relay/voucher.ts'
import { ReservationManager } from '../../src/relay/reservations.ts'

type Mode = 'ok' | 'refuse' | 'past' | 'forged' | 'expired-voucher' | 'far-future'

const TTL_SECONDS = 3600

async function setup (): Promise<{
  manager: ReservationManager
  events: TypedEventEmitter<Libp2pEvents>
  seen: RelayReservationEvent[]
  requests: { count: number }
  mode: { value: Mode }
  relayAddr: ReturnType<typeof multiaddr>
  relayPeer: ReturnType<typeof peerIdFromPrivateKey>
}> {
  const relayKey = await generateKeyPair('Ed25519')
  const otherKey: PrivateKey = await generateKeyPair('Ed25519')
  const relayPeer = peerIdFromPrivateKey(relayKey)
  const self = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const relayAddr = multiaddr(`/ip4/198.51.100.1/tcp/4001/p2p/${relayPeer.toString()}`)
  const mode = { value: 'ok' as Mode }
  const requests = { count: 0 }

  // The scripted relay: answers one RESERVE per stream as `mode` says.
  const serve = async (stream: Stream): Promise<void> => {
    const request = decodeHopMessage(await readLP(stream, { maxLength: 4096 }))
    assert.equal(request.type, HopType.RESERVE)
    requests.count++
    const nowSeconds = Math.floor(Date.now() / 1000)
    if (mode.value === 'refuse') {
      await writeLP(stream, encodeHopMessage({ type: HopType.STATUS, status: RelayStatus.RESERVATION_REFUSED }))
      return
    }
    const expire = BigInt(mode.value === 'past' ? nowSeconds - 1 : mode.value === 'far-future' ? nowSeconds + 100 * 365 * 86400 : nowSeconds + TTL_SECONDS)
    const voucher = await sealVoucher(mode.value === 'forged' ? otherKey : relayKey, {
      relay: relayPeer.bytes,
      peer: self.bytes,
      expiration: mode.value === 'expired-voucher' ? BigInt(nowSeconds) : expire
    })
    await writeLP(stream, encodeHopMessage({ type: HopType.STATUS, status: RelayStatus.OK, reservation: { expire, addrs: [relayAddr.bytes], voucher }, limit: { duration: 120, data: 131072n } }))
  }
  const connection = {
    remotePeer: relayPeer,
    remoteAddr: relayAddr,
    status: 'open',
    async newStream () {
      const [ours, theirs] = duplexPair()
      void serve(theirs as unknown as Stream).catch(() => {})
      return ours as unknown as Stream
    }
  } as unknown as Connection
  const events = new TypedEventEmitter<Libp2pEvents>()
  const seen: RelayReservationEvent[] = []
  events.addEventListener('relay:reservation', (evt) => { seen.push(evt.detail) })
  const manager = new ReservationManager({
    peerId: self,
    events,
    logger,
    connectionManager: { openConnection: async () => connection, getConnections: () => [connection], closeConnections: async () => {} },
    peerStore: { merge: async () => ({}) } as never
  }, () => {}, { retryInitial: 1000, retryMax: 10_000 })
  return { manager, events, seen, requests, mode, relayAddr, relayPeer }
}

/** Lets the scripted exchange (promises and I/O turns, no timers) run to its end. */
async function settle (): Promise<void> {
  for (let i = 0; i < 30; i++) await nextTurn()
}

/** Moves the fake clock forward in steps no timer can jump over, settling after each. */
async function advance (ms: number, step = 1000): Promise<void> {
  let left = ms
  while (left > 0) {
    const n = Math.min(step, left)
    mock.timers.tick(n)
    left -= n
    await settle()
  }
}

test('a refresh that fails keeps the address until the reservation really ends; a later one extends it', async (ctx) => {
  const t = await setup()
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_800_000_000_000 })
  ctx.after(() => { t.manager.stop(); mock.timers.reset() })
  t.manager.start()
  await t.manager.add(t.relayAddr)
  assert.deepEqual(t.seen.map(e => e.status), ['reserved'])
  const firstExpiry = t.seen[0].expires
  assert.equal(firstExpiry, 1_800_000_000_000 + TTL_SECONDS * 1000)
  assert.equal(t.manager.circuitAddrsOf(t.relayAddr)[0].toString(), `${t.relayAddr.toString()}/p2p-circuit`)

  // Nothing happens until 5 min before the expiry.
  t.mode.value = 'refuse'
  await advance(TTL_SECONDS * 1000 - 300_000 - 1000, 600_000)
  assert.equal(t.requests.count, 1)
  await advance(1000)
  assert.equal(t.requests.count, 2, 'the refresh ran 5 min before the expiry')
  // Refused refreshes are retried, and the still-valid reservation keeps the address.
  await advance(3000)
  assert.ok(t.requests.count >= 3)
  assert.equal(t.manager.circuitAddrsOf(t.relayAddr).length, 1)
  assert.deepEqual(t.seen.map(e => e.status), ['reserved'])
  t.mode.value = 'ok'
  await advance(10_000)
  assert.deepEqual(t.seen.map(e => e.status), ['reserved', 'refreshed'])
  assert.ok(t.seen[1].expires > firstExpiry)
  assert.equal(t.manager.circuitAddrsOf(t.relayAddr).length, 1)
})

test('refreshes that keep failing lose the reservation at exactly its expiry', async (ctx) => {
  const t = await setup()
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_800_000_000_000 })
  ctx.after(() => { t.manager.stop(); mock.timers.reset() })
  t.manager.start()
  await t.manager.add(t.relayAddr)
  const expires = t.seen[0].expires
  t.mode.value = 'refuse'
  await advance(expires - Date.now() - 1, 600_000)
  assert.equal(t.manager.circuitAddrsOf(t.relayAddr).length, 1, 'still advertised 1 ms before the end')
  assert.deepEqual(t.seen.map(e => e.status), ['reserved'])
  await advance(1)
  assert.deepEqual(t.seen.map(e => e.status), ['reserved', 'lost'])
  assert.equal(t.manager.circuitAddrsOf(t.relayAddr).length, 0)
})

test('a disconnect from the relay loses the reservation; its reconnection remakes it at once', async (ctx) => {
  const t = await setup()
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_800_000_000_000 })
  ctx.after(() => { t.manager.stop(); mock.timers.reset() })
  t.manager.start()
  await t.manager.add(t.relayAddr)
  t.events.safeDispatch('peer:disconnect', t.relayPeer)
  assert.deepEqual(t.seen.map(e => e.status), ['reserved', 'lost'])
  assert.equal(t.manager.circuitAddrsOf(t.relayAddr).length, 0)
  t.events.safeDispatch('peer:connect', t.relayPeer)
  await advance(0)
  mock.timers.tick(0)
  await settle()
  assert.deepEqual(t.seen.map(e => e.status), ['reserved', 'lost', 'reserved'])
  assert.equal(t.manager.circuitAddrsOf(t.relayAddr).length, 1)
})

test('a far-future expiry does not overflow the refresh timer into a loop', async (ctx) => {
  const t = await setup()
  // Real timers, watched: Node fires a setTimeout over 2^31-1 ms after 1 ms instead.
  const delays: number[] = []
  const original = globalThis.setTimeout
  mock.method(globalThis, 'setTimeout', (fn: () => void, ms?: number) => {
    delays.push(ms ?? 0)
    return original(fn, ms)
  })
  ctx.after(() => { t.manager.stop(); mock.restoreAll() })
  t.mode.value = 'far-future'
  t.manager.start()
  await t.manager.add(t.relayAddr)
  assert.deepEqual(t.seen.map(e => e.status), ['reserved'])
  assert.ok(delays.length > 0)
  assert.ok(delays.every(d => d <= MAX_TIMER_DELAY), `timer delays ${delays.join(', ')}`)
  await settle()
  assert.equal(t.requests.count, 1, 'no refresh ran')
})

test('answers to refuse: an expiry in the past, a forged voucher, an expired voucher', async (ctx) => {
  for (const mode of ['past', 'forged', 'expired-voucher'] as const) {
    const t = await setup()
    t.mode.value = mode
    t.manager.start()
    await t.manager.add(t.relayAddr)
    assert.equal(t.requests.count, 1, mode)
    assert.deepEqual(t.seen, [], mode)
    assert.equal(t.manager.circuitAddrsOf(t.relayAddr).length, 0, mode)
    t.manager.stop()
  }
  ctx.diagnostic('each refused answer left no reservation')
})
