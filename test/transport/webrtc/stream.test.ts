/**
 * The WebRTC stream layer (specs webrtc/README.md) over an in-memory pair of peer connections:
 * the frame codec, data in both directions, half-close with FIN / FIN_ACK (and its timeout),
 * STOP_SENDING, RESET_STREAM, backpressure through the channel's buffered amount, and hostile
 * bytes (garbage, oversized frames) that reset only the stream they arrived on.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { peerIdFromString } from '../../../src/peer/peer-id.ts'
import { multiaddr } from '@multiformats/multiaddr'
import { WebRTCConnection } from '../../../src/transport/webrtc/muxer.ts'
import type { WebRTCConnectionOptions } from '../../../src/transport/webrtc/muxer.ts'
import { Flag, FrameDecoder, MAX_FRAME_LENGTH, MAX_PAYLOAD_LENGTH, encodeDataFrame, encodeFlagFrame } from '../../../src/transport/webrtc/message.ts'
import type { FlagValue } from '../../../src/transport/webrtc/message.ts'
import type { Stream } from '../../../src/interface/stream.ts'
import type { MemoryAccount } from '../../../src/interface/muxer.ts'
import { BudgetAccount } from '../../support/budget-account.ts'
import { seededBytes } from '../../support/random.ts'
import { FakePeerConnection } from './fake-peer-connection.ts'
import type { FakeChannel } from './fake-peer-connection.ts'

const PEER = peerIdFromString('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA')

function connectionPair (options: WebRTCConnectionOptions = {}, memory?: MemoryAccount) {
  const [pa, pb] = FakePeerConnection.pair()
  const incoming: Stream[] = []
  const waiters: Array<(s: Stream) => void> = []
  const a = new WebRTCConnection({ pc: pa, remotePeer: PEER, remoteAddr: multiaddr('/ip4/10.0.0.2/udp/1/webrtc-direct'), direction: 'outbound', encryption: '/noise', options })
  const b = new WebRTCConnection({ pc: pb, remotePeer: PEER, remoteAddr: multiaddr('/ip4/10.0.0.1/udp/1/webrtc-direct'), direction: 'inbound', encryption: '/noise', options })
  const ma = a.createStreamMuxer(a, { direction: 'outbound', onIncomingStream: s => { s.abort(new Error('unexpected')) } })
  const mb = b.createStreamMuxer(b, {
    direction: 'inbound',
    memory,
    onIncomingStream: s => {
      const w = waiters.shift()
      if (w !== undefined) w(s); else incoming.push(s)
    }
  })
  const nextIncoming = async (): Promise<Stream> => incoming.shift() ?? await new Promise(resolve => waiters.push(resolve))
  return { a, b, ma, mb, pa, pb, nextIncoming }
}

async function readAll (s: Stream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let n = 0
  for await (const c of s) { chunks.push(c.slice()); n += c.length }
  const out = new Uint8Array(n)
  let o = 0
  for (const c of chunks) { out.set(c, o); o += c.length }
  return out
}

function decodeAll (frames: Uint8Array[]): Array<{ data?: number, flag?: FlagValue }> {
  const out: Array<{ data?: number, flag?: FlagValue }> = []
  const d = new FrameDecoder({ onData: p => out.push({ data: p.length }), onFlag: f => out.push({ flag: f }) })
  for (const f of frames) d.push(f)
  return out
}

test('frame codec: data and flag frames round-trip, split and packed messages decode', () => {
  const payload = seededBytes(1000, 3)
  const frame = encodeDataFrame(payload)
  assert.equal(frame.length, 2 + 1 + 2 + 1000)
  let got: Uint8Array | undefined
  const flags: number[] = []
  const d = new FrameDecoder({ onData: p => { got = p.slice() }, onFlag: f => flags.push(f) })
  d.push(frame)
  assert.deepEqual(got, payload)
  // One frame split over three messages, then two frames packed into one message.
  got = undefined
  d.push(frame.subarray(0, 1)); d.push(frame.subarray(1, 500))
  assert.equal(got, undefined)
  assert.equal(d.bufferedLength, 500)
  d.push(frame.subarray(500))
  assert.deepEqual(got, payload)
  const packed = new Uint8Array(6)
  packed.set(encodeFlagFrame(Flag.FIN), 0); packed.set(encodeFlagFrame(Flag.FIN_ACK), 3)
  d.push(packed)
  assert.deepEqual(flags, [Flag.FIN, Flag.FIN_ACK])
  // The largest payload we send fits the 16 KiB frame limit.
  assert.ok(encodeDataFrame(new Uint8Array(MAX_PAYLOAD_LENGTH)).length <= MAX_FRAME_LENGTH)
})

test('frame codec: hostile bytes give typed errors', () => {
  const d = () => new FrameDecoder({ onData: () => {}, onFlag: () => {} })
  // A prefix announcing more than 16 KiB is refused before any byte of the body is buffered.
  assert.throws(() => { d().push(Uint8Array.of(0x81, 0x80, 0x01)) }, { name: 'WebRTCFrameTooLargeError', code: 'ERR_WEBRTC_FRAME_TOO_LARGE' })
  assert.throws(() => { d().push(Uint8Array.of(0xff, 0xff, 0xff, 0xff)) }, { name: 'WebRTCMessageError' })
  assert.throws(() => { d().push(Uint8Array.of(2, 0x08, 9)) }, { name: 'WebRTCMessageError', message: /unknown flag/ })
  assert.throws(() => { d().push(Uint8Array.of(3, 0x1a, 1, 0)) }, { name: 'WebRTCMessageError', message: /field tag/ })
  assert.throws(() => { d().push(Uint8Array.of(3, 0x12, 5, 0)) }, { name: 'WebRTCMessageError', message: /truncated/ })
  // A random garbage burst never throws anything but the two typed errors.
  for (let seed = 1; seed < 200; seed++) {
    try { d().push(seededBytes(64, seed)) } catch (err) {
      assert.ok(['WebRTCMessageError', 'WebRTCFrameTooLargeError'].includes((err as Error).name), (err as Error).name)
    }
  }
})

test('data both ways, large writes split into <= 16 KiB frames, half-close with FIN / FIN_ACK', async () => {
  const { ma, nextIncoming, pa } = connectionPair()
  const s = await ma.newStream()
  const data = seededBytes(300_000, 7)
  const echoed = (async () => {
    const r = await nextIncoming()
    const got = await readAll(r)
    await r.write(got)
    await r.closeWrite()
    return got
  })()
  await s.write(data)
  await s.closeWrite()
  assert.equal(s.writeStatus, 'closed')
  const back = await readAll(s)
  assert.deepEqual(await echoed, data)
  assert.deepEqual(back, data)
  await s.closed
  assert.equal(s.status, 'closed')
  const wire = decodeAll((pa.channels[0]).sent)
  assert.ok(pa.channels[0].sent.every(m => m.length <= MAX_FRAME_LENGTH))
  assert.equal(wire.filter(w => w.flag === Flag.FIN).length, 1)
  assert.equal(wire.filter(w => w.flag === Flag.FIN_ACK).length, 1)
  assert.equal(wire.reduce((n, w) => n + (w.data ?? 0), 0), data.length)
  // Both channels are closed once both directions finished.
  assert.equal(pa.channels[0].closed, true)
})

test('closeWrite resolves after finAckTimeout when the remote never acknowledges', async () => {
  const { ma, nextIncoming, pb } = connectionPair({ finAckTimeout: 50 })
  const s = await ma.newStream()
  await s.write(Uint8Array.of(1))
  await nextIncoming()
  // The remote's channel swallows everything: no FIN_ACK ever comes back.
  const remoteChannel = pb.channels[0]
  remoteChannel.events = { onOpen () {}, onMessage () {}, onBufferedAmountLow () {}, onClose () {} }
  const started = Date.now()
  await s.closeWrite()
  assert.ok(Date.now() - started >= 40)
  assert.equal(s.writeStatus, 'closed')
})

test('closeRead sends STOP_SENDING: the remote writer stops, without a RESET_STREAM', async () => {
  const { ma, nextIncoming, pb } = connectionPair()
  const s = await ma.newStream()
  await s.write(Uint8Array.of(1))
  const r = await nextIncoming()
  r.closeRead()
  await assert.rejects(async () => { for (let i = 0; i < 100; i++) { await s.write(Uint8Array.of(2)); await new Promise(resolve => setImmediate(resolve)) } }, { name: 'StreamClosedError' })
  const wire = decodeAll(pb.channels[0].sent)
  assert.deepEqual(wire.map(w => w.flag).filter(f => f !== undefined), [Flag.STOP_SENDING])
  assert.equal(decodeAll((s as unknown as { channel: FakeChannel }).channel.sent).some(w => w.flag === Flag.RESET_STREAM), false)
  // Our read side still works: the remote can send and finish.
  await r.write(Uint8Array.of(9))
  await r.closeWrite()
  assert.deepEqual(await readAll(s), Uint8Array.of(9))
})

test('abort sends RESET_STREAM: the remote reads and writes fail with StreamResetError', async () => {
  const { ma, nextIncoming } = connectionPair()
  const s = await ma.newStream()
  await s.write(Uint8Array.of(1))
  const r = await nextIncoming()
  await r.read()
  const pendingRead = r.read()
  s.abort(new Error('local reason'))
  await assert.rejects(pendingRead, { name: 'StreamResetError' })
  await assert.rejects(r.write(Uint8Array.of(1)), { name: 'StreamResetError' })
  assert.equal(r.status, 'reset')
  assert.equal(s.status, 'aborted')
})

test('backpressure: write waits while the channel buffers more than maxBufferedAmount', async () => {
  const { ma, nextIncoming } = connectionPair({ maxBufferedAmount: 64 * 1024 })
  const s = await ma.newStream()
  await s.write(Uint8Array.of(0))
  const r = await nextIncoming()
  await r.read()
  const channel = (s as unknown as { channel: FakeChannel }).channel
  channel.pause()
  assert.equal(s.send(new Uint8Array(40 * 1024)), true)
  assert.equal(s.send(new Uint8Array(40 * 1024)), false)
  let drained = false
  const d = s.drain().then(() => { drained = true })
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(drained, false)
  assert.ok(channel.bufferedAmount <= 80 * 1024 + 1024, `${channel.bufferedAmount}`)
  channel.resume()
  await d
  assert.equal(drained, true)
  let n = 0
  while (n < 80 * 1024) n += (await r.read())!.length
  assert.equal(n, 80 * 1024)
})

test('hostile: garbage and an oversized frame reset their stream only; the connection keeps serving', async () => {
  const { ma, nextIncoming } = connectionPair()
  const s1 = await ma.newStream()
  await s1.write(Uint8Array.of(1))
  const r1 = await nextIncoming()
  await r1.read()
  const r1Channel = (r1 as unknown as { channel: FakeChannel }).channel
  r1Channel.inject(Uint8Array.of(0x83, 0x80, 0x01))
  assert.equal(r1.status, 'aborted')
  assert.equal(r1.error?.name, 'WebRTCFrameTooLargeError')
  const s2 = await ma.newStream()
  await s2.write(Uint8Array.of(2))
  const r2 = await nextIncoming()
  const r2Channel = (r2 as unknown as { channel: FakeChannel }).channel
  r2Channel.inject(Uint8Array.of(4, 0x2a, 0, 0, 0))
  assert.equal(r2.error?.name, 'WebRTCMessageError')
  // A third stream still carries data.
  const s3 = await ma.newStream()
  await s3.write(Uint8Array.of(3))
  await s3.closeWrite()
  const r3 = await nextIncoming()
  assert.deepEqual(await readAll(r3), Uint8Array.of(3))
})

test('unread data beyond maxReadBuffer resets the stream (bounded memory)', async () => {
  const { ma, nextIncoming } = connectionPair({ maxReadBuffer: 64 * 1024 })
  const s = await ma.newStream()
  await s.write(Uint8Array.of(1))
  const r = await nextIncoming()
  // Nobody reads r; the writer ignores backpressure.
  for (let i = 0; i < 10; i++) s.send(new Uint8Array(16 * 1024))
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(r.error?.name, 'LimitExceededError')
  assert.equal(r.readableLength, 0)
})

async function sendUnread (s: Stream, bytes: number): Promise<void> {
  for (let sent = 0; sent < bytes; sent += 64 * 1024) s.send(new Uint8Array(64 * 1024))
  await new Promise(resolve => setImmediate(resolve))
}

test('unread data past the free MiB is reserved from the connection, given back as it is read and when the stream ends', async () => {
  const memory = new BudgetAccount(64 * 1024 * 1024)
  const { ma, nextIncoming } = connectionPair({}, memory)
  const s = await ma.newStream()
  await s.write(Uint8Array.of(1))
  const r = await nextIncoming()
  await sendUnread(s, 12 * 1024 * 1024)
  assert.equal(r.error, undefined)
  assert.ok(r.readableLength > 12 * 1024 * 1024)
  // 12 MiB + 1 byte unread: 1 MiB free, 12 MiB reserved in whole chunks.
  assert.equal(memory.reserved, 12 * 1024 * 1024)
  const iterator = r[Symbol.asyncIterator]()
  let read = 0
  while (read < 8 * 1024 * 1024) read += (await iterator.next()).value.length
  assert.ok(memory.reserved <= 6 * 1024 * 1024, `${memory.reserved} still reserved after reading 8 MiB`)
  r.abort(new Error('done'))
  await r.closed
  assert.equal(memory.reserved, 0)
  assert.equal(memory.peak, 12 * 1024 * 1024)
})

test('a stream whose unread data the resource manager refuses is reset (LimitExceededError)', async () => {
  const memory = new BudgetAccount(3 * 1024 * 1024)
  const { ma, nextIncoming } = connectionPair({}, memory)
  const s = await ma.newStream()
  await s.write(Uint8Array.of(1))
  const r = await nextIncoming()
  await sendUnread(s, 6 * 1024 * 1024)
  assert.equal(r.error?.name, 'LimitExceededError')
  assert.match(r.error?.message ?? '', /resource manager refused/)
  await r.closed
  assert.equal(memory.reserved, 0)
})

test('closing the connection resets open streams and closes the peer connection', async () => {
  const { a, ma, nextIncoming, pa, pb } = connectionPair()
  const s = await ma.newStream()
  await s.write(Uint8Array.of(1))
  const r = await nextIncoming()
  a.abort(new Error('bye'))
  await a.closed
  await s.closed
  await r.closed
  assert.equal(pa.closed, true)
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(pb.closed, true)
  assert.equal(ma.streams.length, 0)
  await assert.rejects(Promise.resolve().then(async () => await ma.newStream()), { name: 'StreamClosedError' })
})
