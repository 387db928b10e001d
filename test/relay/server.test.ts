/**
 * The hop service between real ts-libp2p nodes (memory transport): reservations with
 * vouchers, refusals with their status codes, circuits spliced through stop streams with data
 * limits hit at exactly their byte value, circuits per peer, reservation caps, reservations
 * that end with the connection or with their expiry (on a fake clock).
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import type { Libp2p } from '../../src/index.ts'
import type { Stream } from '../../src/interface/stream.ts'
import { MemoryNetwork } from '../../src/transport/memory/index.ts'
import { circuitRelayServer } from '../../src/relay/server.ts'
import type { CircuitRelayServerOptions, CircuitRelayServer } from '../../src/relay/server.ts'
import { connectThroughRelay, reserve } from '../../src/relay/hop-client.ts'
import { answerStop, readStopConnect } from '../../src/relay/stop.ts'
import { decodeHopMessage, encodeHopMessage, HOP_PROTOCOL, HopType, RelayStatus, STOP_PROTOCOL } from '../../src/relay/messages.ts'
import { readLP, writeLP } from '../../src/util/stream-reader.ts'
import { createMemoryNode } from '../support/memory-node.ts'
import { concatBytes } from '../../src/util/bytes.ts'

interface Trio {
  relay: Libp2p<{ relay: CircuitRelayServer }>
  a: Libp2p
  b: Libp2p
  /** Streams B accepted through the relay (after answering `stopStatus`). */
  accepted: Stream[]
  stopStatus: { value: number }
  stop(): Promise<void>
}

async function trio (options: CircuitRelayServerOptions = {}): Promise<Trio> {
  const network = new MemoryNetwork()
  const relay = await createMemoryNode({ network, services: { relay: circuitRelayServer(options) } }) as unknown as Trio['relay']
  const a = await createMemoryNode({ network, services: {} })
  const b = await createMemoryNode({ network, services: {} })
  const accepted: Stream[] = []
  const stopStatus = { value: RelayStatus.OK as number }
  await b.handle(STOP_PROTOCOL, async (stream) => {
    const request = await readStopConnect(stream)
    assert.ok(request.initiator.equals(a.peerId))
    await answerStop(stream, stopStatus.value)
    if (stopStatus.value === RelayStatus.OK) accepted.push(stream)
    else await stream.close()
  })
  return { relay, a, b, accepted, stopStatus, stop: async () => { await Promise.all([a.stop(), b.stop(), relay.stop()]) } }
}

async function readAll (stream: Stream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of stream) chunks.push(chunk.slice())
  return concatBytes(chunks)
}

const statusOf = (status: number) => (err: Error & { status?: number }): boolean => err.name === 'RelayStatusError' && err.status === status

test('RESERVE: a voucher signed by the relay for us, the relay addresses with /p2p/<relay>, the default limits', async () => {
  const t = await trio()
  try {
    const grant = await reserve(await t.b.dial(t.relay.getMultiaddrs()), { self: t.b.peerId })
    assert.ok(grant.relay.equals(t.relay.peerId))
    assert.ok(grant.voucher !== undefined)
    assert.ok(grant.expires > Date.now() + 59 * 60 * 1000 && grant.expires <= Date.now() + 60 * 60 * 1000)
    assert.ok(grant.relayAddrs.length > 0)
    for (const addr of grant.relayAddrs) assert.ok(addr.toString().endsWith(`/p2p/${t.relay.peerId.toString()}`), addr.toString())
    assert.deepEqual(grant.limit, { duration: 120, data: 131072n })
    assert.equal(t.relay.services.relay.reservations.size, 1)
  } finally {
    await t.stop()
  }
})

test('CONNECT: NO_RESERVATION without one; with one the bytes flow both ways and half-closes pass through', async () => {
  const t = await trio()
  try {
    const toRelay = await t.a.dial(t.relay.getMultiaddrs())
    await assert.rejects(connectThroughRelay(toRelay, t.b.peerId), (err: Error & { status?: number }) => statusOf(RelayStatus.NO_RESERVATION)(err) && /NO_RESERVATION/.test(err.message))
    await reserve(await t.b.dial(t.relay.getMultiaddrs()), { self: t.b.peerId })
    const { stream, limit } = await connectThroughRelay(toRelay, t.b.peerId)
    assert.deepEqual(limit, { duration: 120, data: 131072n })
    await stream.write(new TextEncoder().encode('hello'))
    await stream.closeWrite()
    const remote = t.accepted[0]
    assert.equal(new TextDecoder().decode(await readAll(remote)), 'hello')
    await remote.write(new TextEncoder().encode('back'))
    await remote.closeWrite()
    assert.equal(new TextDecoder().decode(await readAll(stream)), 'back')
    await stream.closed
  } finally {
    await t.stop()
  }
})

test('the data limit lets exactly its bytes through per direction and resets both halves on the next byte', async () => {
  const t = await trio({ circuitLimit: { data: 16n } })
  try {
    await reserve(await t.b.dial(t.relay.getMultiaddrs()), { self: t.b.peerId })
    const toRelay = await t.a.dial(t.relay.getMultiaddrs())
    // Exactly 16 bytes each way: delivered, and the circuit ends cleanly.
    const exact = await connectThroughRelay(toRelay, t.b.peerId)
    await exact.stream.write(new Uint8Array(16).fill(1))
    await exact.stream.closeWrite()
    const remote = t.accepted[0]
    assert.equal((await readAll(remote)).length, 16)
    await remote.write(new Uint8Array(16).fill(2))
    await remote.closeWrite()
    assert.equal((await readAll(exact.stream)).length, 16)
    // 17 bytes: the relay resets both halves.
    const over = await connectThroughRelay(toRelay, t.b.peerId)
    await over.stream.write(new Uint8Array(17).fill(3))
    const remote2 = t.accepted[1]
    await assert.rejects(readAll(remote2), { name: 'StreamResetError' })
    await assert.rejects(readAll(over.stream), { name: 'StreamResetError' })
    assert.equal(t.relay.services.relay.circuits.size, 0)
  } finally {
    await t.stop()
  }
})

test('circuits per peer: the next CONNECT gets RESOURCE_LIMIT_EXCEEDED until one closes', async () => {
  const t = await trio({ maxCircuitsPerPeer: 1 })
  try {
    await reserve(await t.b.dial(t.relay.getMultiaddrs()), { self: t.b.peerId })
    const toRelay = await t.a.dial(t.relay.getMultiaddrs())
    const first = await connectThroughRelay(toRelay, t.b.peerId)
    await assert.rejects(connectThroughRelay(toRelay, t.b.peerId), statusOf(RelayStatus.RESOURCE_LIMIT_EXCEEDED))
    const circuits = [...t.relay.services.relay.circuits]
    first.stream.abort(new Error('done'))
    await Promise.all(circuits.map(async c => { await c.closed }))
    await connectThroughRelay(toRelay, t.b.peerId)
  } finally {
    await t.stop()
  }
})

test('a target that refuses the stop stream makes the CONNECT fail with CONNECTION_FAILED', async () => {
  const t = await trio()
  try {
    t.stopStatus.value = RelayStatus.CONNECTION_FAILED
    await reserve(await t.b.dial(t.relay.getMultiaddrs()), { self: t.b.peerId })
    await assert.rejects(connectThroughRelay(await t.a.dial(t.relay.getMultiaddrs()), t.b.peerId), statusOf(RelayStatus.CONNECTION_FAILED))
    assert.equal(t.relay.services.relay.circuits.size, 0)
  } finally {
    await t.stop()
  }
})

test('reservation cap: RESERVATION_REFUSED for a new peer, a refresh for the holder', async () => {
  const t = await trio({ maxReservations: 1 })
  try {
    const toRelay = await t.b.dial(t.relay.getMultiaddrs())
    const first = await reserve(toRelay, { self: t.b.peerId })
    await assert.rejects(reserve(await t.a.dial(t.relay.getMultiaddrs()), { self: t.a.peerId }), statusOf(RelayStatus.RESERVATION_REFUSED))
    const again = await reserve(toRelay, { self: t.b.peerId })
    assert.ok(again.expires >= first.expires)
  } finally {
    await t.stop()
  }
})

test('a reservation ends with the last connection of its peer', async () => {
  const t = await trio()
  try {
    await reserve(await t.b.dial(t.relay.getMultiaddrs()), { self: t.b.peerId })
    const gone = new Promise<void>(resolve => {
      t.relay.addEventListener('peer:disconnect', (evt) => { if (evt.detail.equals(t.b.peerId)) resolve() })
    })
    await t.b.hangUp(t.relay.peerId)
    await gone
    assert.equal(t.relay.services.relay.reservations.size, 0)
    await assert.rejects(connectThroughRelay(await t.a.dial(t.relay.getMultiaddrs()), t.b.peerId), statusOf(RelayStatus.NO_RESERVATION))
  } finally {
    await t.stop()
  }
})

test('a reservation expires at its TTL (fake clock)', async (ctx) => {
  const t = await trio({ reservationTtl: 10 * 60 * 1000 })
  try {
    mock.timers.enable({ apis: ['Date'], now: Date.now() })
    ctx.after(() => { mock.timers.reset() })
    await reserve(await t.b.dial(t.relay.getMultiaddrs()), { self: t.b.peerId })
    const toRelay = await t.a.dial(t.relay.getMultiaddrs())
    mock.timers.tick(10 * 60 * 1000 - 1000)
    const live = await connectThroughRelay(toRelay, t.b.peerId)
    live.stream.abort(new Error('done'))
    mock.timers.tick(1000)
    await assert.rejects(connectThroughRelay(toRelay, t.b.peerId), statusOf(RelayStatus.NO_RESERVATION))
    assert.equal(t.relay.services.relay.reservations.size, 0)
  } finally {
    mock.timers.reset()
    await t.stop()
  }
})

test('malformed and unexpected hop requests get MALFORMED_MESSAGE and UNEXPECTED_MESSAGE', async () => {
  const t = await trio()
  try {
    const connection = await t.a.dial(t.relay.getMultiaddrs())
    const ask = async (frame: Uint8Array): Promise<number | undefined> => {
      const stream = await connection.newStream(HOP_PROTOCOL)
      await writeLP(stream, frame)
      const answer = decodeHopMessage(await readLP(stream, { maxLength: 4096 }))
      assert.equal(answer.type, HopType.STATUS)
      return answer.status
    }
    assert.equal(await ask(Uint8Array.of(0x12, 0x7f)), RelayStatus.MALFORMED_MESSAGE, 'truncated protobuf')
    assert.equal(await ask(encodeHopMessage({ type: HopType.STATUS, status: RelayStatus.OK })), RelayStatus.UNEXPECTED_MESSAGE, 'a STATUS sent to the relay')
    assert.equal(await ask(encodeHopMessage({ type: 9 })), RelayStatus.UNEXPECTED_MESSAGE, 'an unknown type')
    assert.equal(await ask(encodeHopMessage({ type: HopType.CONNECT })), RelayStatus.MALFORMED_MESSAGE, 'CONNECT without a peer')
    assert.equal(await ask(encodeHopMessage({ type: HopType.CONNECT, peer: { id: Uint8Array.of(1, 2, 3), addrs: [] } })), RelayStatus.MALFORMED_MESSAGE, 'CONNECT to an invalid peer id')
  } finally {
    await t.stop()
  }
})
