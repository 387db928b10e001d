/**
 * Hostile and unusual input at a QUIC listener, over real UDP: random and truncated datagrams,
 * unknown versions (Version Negotiation), forged Initials from many source ports (bounded
 * state, then Retry), short-header packets for unknown connections (stateless reset), a dial
 * that must go through Retry, and a peer that stops acknowledging (idle timeout, writes stop).
 * Unit-level: flow-control and stream-count violations and oversized CRYPTO data are typed
 * protocol errors carrying the RFC 9000 codes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { QuicTransport } from '../../../src/transport/quic/index.ts'
import type { QuicOptions } from '../../../src/transport/quic/index.ts'
import type { RawConnection } from '../../../src/interface/transport.ts'
import { initialProtectors } from '../../../src/transport/quic/crypto/index.ts'
import { writeLongHeader, QUIC_V1 } from '../../../src/transport/quic/packet.ts'
import { writeCrypto } from '../../../src/transport/quic/frames.ts'
import { PacketSpace } from '../../../src/transport/quic/packet-space.ts'
import { StreamTable } from '../../../src/transport/quic/stream-table.ts'
import { DEFAULT_QUIC_CONFIG } from '../../../src/transport/quic/config.ts'
import { decodeTransportParameters, encodeTransportParameters } from '../../../src/transport/quic/transport-parameters.ts'
import { seededBytes, rng } from '../../support/random.ts'
import { LossyForwarder } from './fixtures/lossy-forwarder.ts'

async function listener (options: QuicOptions = {}) {
  const transport = new QuicTransport(options, { privateKey: await generateKeyPair('Ed25519') })
  const inbound: RawConnection[] = []
  const l = transport.createListener({
    onConnection: c => {
      inbound.push(c)
      c.native!.streamMuxer.createStreamMuxer(c, { direction: 'inbound', onIncomingStream: s => { void (async () => { for await (const x of s) await s.write(x.slice()); await s.closeWrite() })().catch(() => {}) } })
    }
  })
  await l.listen(multiaddr('/ip4/127.0.0.1/udp/0/quic-v1'))
  const port = Number(l.getAddrs()[0].getComponents()[1].value)
  return { transport, listener: l, port, addr: l.getAddrs()[0], inbound }
}

async function udpSocket (): Promise<Socket> {
  const s = createSocket('udp4')
  await new Promise<void>(resolve => { s.bind(0, '127.0.0.1', resolve) })
  return s
}

/** Sends `packet` and resolves with the first answer within `ms`, or undefined. */
async function sendAndListen (socket: Socket, port: number, packet: Uint8Array, ms = 500): Promise<Buffer | undefined> {
  return await new Promise(resolve => {
    const timer = setTimeout(() => { socket.off('message', onMessage); resolve(undefined) }, ms)
    const onMessage = (msg: Buffer): void => { clearTimeout(timer); socket.off('message', onMessage); resolve(msg) }
    socket.on('message', onMessage)
    socket.send(packet, port, '127.0.0.1')
  })
}

/** A real client Initial: valid packet protection, a CRYPTO frame of junk instead of a ClientHello. */
function forgedInitial (dcid: Uint8Array, scid: Uint8Array, seed: number): Uint8Array {
  const payload = new Uint8Array(1162)
  writeCrypto(payload, 0, 0, seededBytes(300, seed))
  const keys = initialProtectors(QUIC_V1, dcid, 'client')
  const header = new Uint8Array(64)
  const pnEnd = writeLongHeader(header, 0, 'initial', dcid, scid, undefined, 0, 1, payload.length + 16)
  const h = header.subarray(0, pnEnd)
  const ct = keys.write.seal(0, h, payload)
  const mask = keys.write.headerProtectionMask(ct.subarray(3, 19))
  h[0] ^= mask[0] & 0x0f
  h[pnEnd - 1] ^= mask[1]
  return Buffer.concat([h, ct])
}

test('random, truncated and replayed datagrams are dropped; the listener keeps serving', async () => {
  const { transport, listener: l, port, addr } = await listener()
  const socket = await udpSocket()
  const random = rng(7)
  for (let i = 0; i < 300; i++) {
    const bytes = seededBytes(1 + Math.floor(random() * 1400), i)
    if (i % 3 === 0) bytes[0] |= 0xc0 // long header forms
    socket.send(bytes, port, '127.0.0.1')
  }
  // a valid Initial cut short, and the same one replayed
  const initial = forgedInitial(seededBytes(8, 1), seededBytes(8, 2), 3)
  for (let cut = 1; cut < initial.length; cut += 97) socket.send(initial.subarray(0, cut), port, '127.0.0.1')
  socket.send(initial, port, '127.0.0.1')
  socket.send(initial, port, '127.0.0.1')
  const client = new QuicTransport({}, { privateKey: await generateKeyPair('Ed25519') })
  const conn = await client.dial(addr)
  const muxer = conn.native!.streamMuxer.createStreamMuxer(conn, { direction: 'outbound', onIncomingStream: () => {} })
  const s = await muxer.newStream()
  await s.write(new Uint8Array([9]))
  assert.deepEqual([...(await s.read())!], [9])
  socket.close()
  await client.close()
  await l.close()
  await transport.close()
})

test('an unknown version gets Version Negotiation; a short header for no connection a smaller stateless reset', async () => {
  const { transport, listener: l, port } = await listener()
  const socket = await udpSocket()
  const probe = new Uint8Array(1200)
  probe.set([0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8, 1, 2, 3, 4, 5, 6, 7, 8, 4, 9, 9, 9, 9])
  const vn = await sendAndListen(socket, port, probe)
  assert.ok(vn !== undefined, 'no version negotiation')
  assert.equal(vn[0] & 0x80, 0x80)
  assert.equal(vn.readUInt32BE(1), 0)
  assert.deepEqual([...vn.subarray(6, 10)], [9, 9, 9, 9], 'our scid is its dcid')
  assert.equal(vn.readUInt32BE(vn.length - 4), QUIC_V1)
  const short = seededBytes(100, 5)
  short[0] = 0x40 | (short[0] & 0x3f)
  const reset = await sendAndListen(socket, port, short)
  assert.ok(reset !== undefined, 'no stateless reset')
  assert.ok(reset.length < short.length && reset.length >= 21)
  assert.equal(reset[0] & 0xc0, 0x40)
  socket.close()
  await l.close()
  await transport.close()
})

test('forged Initials from 200 source ports: state stays within the Retry threshold, the rest get Retry, real dials still work', async () => {
  const { transport, listener: l, port, addr } = await listener({ retryThreshold: 4 })
  const sockets = await Promise.all(Array.from({ length: 200 }, async () => await udpSocket()))
  const client = new QuicTransport({}, { privateKey: await generateKeyPair('Ed25519') })
  try {
    const answers = await Promise.all(sockets.map(async (s, i) => await sendAndListen(s, port, forgedInitial(seededBytes(8, 1000 + i), seededBytes(8, 2000 + i), i), 3000)))
    // Their CRYPTO data is junk: the first few fail their TLS handshake (a CONNECTION_CLOSE goes
    // back) and hold a slot for their closing period; past the threshold every sender gets a
    // stateless Retry, and the server keeps at most the threshold's worth of connections.
    assert.ok(transport.connectionCount <= 4, `${transport.connectionCount} connections kept`)
    const retries = answers.filter(a => a !== undefined && (a[0] & 0xf0) === 0xf0).length
    assert.ok(retries >= 150, `only ${retries} Retry packets`)
    const conn = await client.dial(addr)
    assert.ok(conn.native !== undefined)
  } finally {
    for (const s of sockets) s.close()
    await client.close()
    await l.close()
    await transport.close()
  }
})

async function udpSocketOn (address: string): Promise<Socket> {
  const s = createSocket('udp4')
  await new Promise<void>(resolve => { s.bind(0, address, resolve) })
  return s
}

const isRetry = (answer: Buffer | undefined): boolean => answer !== undefined && (answer[0] & 0xf0) === 0xf0

test('per-address limit: a flood of Initials from one IP gets Retry past the limit while the same number from many IPs is served', async () => {
  // The node-wide threshold is out of reach: only the per-address bound can answer Retry.
  const { transport, listener: l, port } = await listener({ retryThreshold: 1000, maxUnvalidatedPerAddress: 4 })
  const fromOne = await Promise.all(Array.from({ length: 60 }, async () => await udpSocketOn('127.0.0.1')))
  // Linux routes all of 127/8 to loopback: each socket below is a different source address.
  const fromMany = await Promise.all(Array.from({ length: 30 }, async (_, i) => await udpSocketOn(`127.0.0.${i + 2}`)))
  try {
    const oneAnswers = await Promise.all(fromOne.map(async (s, i) => await sendAndListen(s, port, forgedInitial(seededBytes(8, 3000 + i), seededBytes(8, 4000 + i), i), 3000)))
    // Junk CRYPTO data fails the handshake, so each accepted one holds its slot for its closing period.
    assert.ok(transport.connectionCount <= 4, `${transport.connectionCount} connections kept for one address`)
    assert.ok(oneAnswers.filter(isRetry).length >= 56, `only ${oneAnswers.filter(isRetry).length} Retry packets for one address`)
    const manyAnswers = await Promise.all(fromMany.map(async (s, i) => await sendAndListen(s, port, forgedInitial(seededBytes(8, 5000 + i), seededBytes(8, 6000 + i), 100 + i), 3000)))
    assert.equal(manyAnswers.filter(isRetry).length, 0, 'no address of the many got a Retry')
    assert.equal(manyAnswers.filter(a => a !== undefined).length, 30, 'every address of the many was answered')
    assert.ok(transport.connectionCount >= 30, `${transport.connectionCount} connections: the many were served`)
  } finally {
    for (const s of [...fromOne, ...fromMany]) s.close()
    await l.close()
    await transport.close()
  }
})

test('Retry: with the threshold at 0 every client proves its address first, and the dial completes', async () => {
  const { transport, listener: l, addr } = await listener({ retryThreshold: 0 })
  const client = new QuicTransport({}, { privateKey: await generateKeyPair('Ed25519') })
  const conn = await client.dial(addr)
  const muxer = conn.native!.streamMuxer.createStreamMuxer(conn, { direction: 'outbound', onIncomingStream: () => {} })
  const s = await muxer.newStream()
  await s.write(new Uint8Array([1, 2]))
  assert.deepEqual([...(await s.read())!], [1, 2])
  await client.close()
  await l.close()
  await transport.close()
})

test('a peer that stops acknowledging: writes stop at the high-water mark, the idle timeout ends the connection', { timeout: 60_000 }, async () => {
  const { transport, listener: l, port } = await listener()
  const forwarder = new LossyForwarder(port, { loss: 0, reorder: 0 })
  const fport = await forwarder.start()
  const client = new QuicTransport({ maxIdleTimeout: 1500, keepAlivePeriod: 0 }, { privateKey: await generateKeyPair('Ed25519') })
  const conn = await client.dial(multiaddr(`/ip4/127.0.0.1/udp/${fport}/quic-v1`))
  const muxer = conn.native!.streamMuxer.createStreamMuxer(conn, { direction: 'outbound', onIncomingStream: () => {} })
  const s = await muxer.newStream()
  forwarder.blackhole()
  const started = performance.now()
  const writes = (async () => { while (true) await s.write(new Uint8Array(65536)) })()
  await assert.rejects(writes, (err: Error) => /idle/i.test(err.message) || err.name === 'QuicIdleTimeoutError')
  await conn.closed
  assert.ok(performance.now() - started < 10_000)
  await forwarder.close()
  await client.close()
  await l.close()
  await transport.close()
})

test('unit: flow-control and stream-count violations, oversized CRYPTO data and bad transport parameters are typed errors with RFC 9000 codes', () => {
  const host = { wakeStream () {}, releaseStream () {}, onConsumed () {}, smoothedRtt: 1 }
  const makeTable = (): StreamTable => {
    const table = new StreamTable(host, { ...DEFAULT_QUIC_CONFIG, maxIncomingStreams: 2, streamWindow: 1000, connectionWindow: 1500 }, 'server', () => {})
    table.applyRemoteParameters(decodeTransportParameters(encodeTransportParameters({ initialSourceConnectionId: new Uint8Array(8) }), false))
    return table
  }
  const frame = (streamId: number, offset: number, length: number) => ({ type: 'stream' as const, streamId, offset, data: new Uint8Array(length), fin: false })
  // stream window (1000)
  assert.throws(() => { makeTable().onStreamFrame(frame(0, 900, 200)) }, { name: 'QuicProtocolError', transportCode: 0x03 })
  // the third client stream, beyond the 2 allowed
  assert.throws(() => { makeTable().onStreamFrame(frame(8, 0, 1)) }, { name: 'QuicProtocolError', transportCode: 0x04 })
  // a unidirectional stream: none allowed
  assert.throws(() => { makeTable().onStreamFrame(frame(2, 0, 1)) }, { transportCode: 0x04 })
  // a server-initiated stream the server never opened
  assert.throws(() => { makeTable().onStreamFrame(frame(1, 0, 1)) }, { transportCode: 0x05 })
  // connection window (1500) over two streams
  const table = makeTable()
  table.onStreamFrame(frame(4, 0, 900))
  assert.throws(() => { table.onStreamFrame(frame(0, 0, 700)) }, { transportCode: 0x03 })
  const space = new PacketSpace()
  assert.throws(() => { space.receiveCrypto(100_000, new Uint8Array(10), () => {}) }, { name: 'QuicProtocolError', transportCode: 0x0d })
})

/**
 * Timers created from now on that have neither fired nor been cleared (setTimeout is looked up
 * on globalThis at each call, so util/timers' unrefTimeout goes through the wrapper).
 */
function trackPendingTimers (): { pending: Set<unknown>, restore: () => void } {
  const originalSet = globalThis.setTimeout
  const originalClear = globalThis.clearTimeout
  const pending = new Set<unknown>()
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer: unknown = originalSet((...a: unknown[]) => { pending.delete(timer); fn(...a) }, ms, ...args)
    pending.add(timer)
    return timer
  }) as typeof setTimeout
  globalThis.clearTimeout = ((timer: Parameters<typeof clearTimeout>[0]) => {
    pending.delete(timer)
    originalClear(timer)
  }) as typeof clearTimeout
  return { pending, restore: () => { globalThis.setTimeout = originalSet; globalThis.clearTimeout = originalClear } }
}

/** Resolves once `pending` is empty; rejects with what is left after `ms`. */
async function drained (pending: Set<unknown>, ms: number): Promise<void> {
  const deadline = performance.now() + ms
  while (pending.size > 0) {
    if (performance.now() > deadline) throw new Error(`${pending.size} QUIC timer(s) still armed ${ms} ms after the connections ended`)
    await new Promise(resolve => { setImmediate(resolve) })
  }
}

test('teardown: after a clean close and after a vanished peer, no timer of the connections stays armed', { timeout: 60_000 }, async () => {
  const timers = trackPendingTimers()
  try {
    const { transport, listener: l, port, addr, inbound } = await listener({ maxIdleTimeout: 1500 })
    const client = new QuicTransport({ maxIdleTimeout: 1500 }, { privateKey: await generateKeyPair('Ed25519') })
    // a clean close: CONNECTION_CLOSE, then each side's closing/draining period
    const clean = await client.dial(addr)
    const muxer = clean.native!.streamMuxer.createStreamMuxer(clean, { direction: 'outbound', onIncomingStream: () => {} })
    const s = await muxer.newStream()
    await s.write(new Uint8Array([1]))
    await s.read()
    await clean.close()
    await Promise.all(inbound.map(async c => { await c.closed }))
    await drained(timers.pending, 5000)
    // a peer that vanishes: the forwarder goes silent, the listener's side ends on its idle timeout
    const forwarder = new LossyForwarder(port, { loss: 0, reorder: 0 })
    const fport = await forwarder.start()
    const gone = await client.dial(multiaddr(`/ip4/127.0.0.1/udp/${fport}/quic-v1`))
    const goneStream = await gone.native!.streamMuxer.createStreamMuxer(gone, { direction: 'outbound', onIncomingStream: () => {} }).newStream()
    await goneStream.write(new Uint8Array([2]))
    await goneStream.read() // the listener has the connection now
    forwarder.blackhole()
    await Promise.all([gone.closed, ...inbound.map(async c => { await c.closed })])
    assert.equal(inbound.length, 2)
    await drained(timers.pending, 5000)
    await forwarder.close()
    await client.close()
    await l.close()
    await transport.close()
  } finally {
    timers.restore()
  }
})
