import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { InvalidMessageError, LimitExceededError, MessageTooLargeError, StreamResetError } from '../../src/util/errors.ts'
import { mplex } from '../../src/muxer/mplex/index.ts'
import type { MplexOptions } from '../../src/muxer/mplex/index.ts'
import { concatBytes } from '../../src/util/bytes.ts'
import { encodeVarint } from '../../src/util/varint.ts'
import { createPair, readAll, settle, stateAfterSettling, testData, writeAll } from './helpers.ts'
import { RawPeer, mplexFrame } from './raw-peer.ts'

const NEW_STREAM = 0
const MESSAGE_RECEIVER = 1
const MESSAGE_INITIATOR = 2
const CLOSE_RECEIVER = 3
const CLOSE_INITIATOR = 4
const RESET_RECEIVER = 5
const RESET_INITIATOR = 6

const factory = (options: MplexOptions = {}) => mplex(options)()

describe('mplex framing', () => {
  test('the same id names different streams for each opener', async () => {
    const peer = new RawPeer(factory(), 'inbound')
    // Our first outbound stream (we are the listener) gets id 0; the remote opens its own 0.
    const ours = await peer.muxer.newStream()
    const opened = await peer.expectMplex(f => f.flag === NEW_STREAM)
    assert.equal(opened.id, 0)
    peer.sendMplex(0, NEW_STREAM, new TextEncoder().encode('0'))
    const theirs = await peer.inbox.next()
    peer.sendMplex(0, MESSAGE_INITIATOR, Uint8Array.of(1)) // to the stream they opened
    peer.sendMplex(0, MESSAGE_RECEIVER, Uint8Array.of(2)) // to the stream we opened
    assert.deepEqual(await theirs.read(), Uint8Array.of(1))
    assert.deepEqual(await ours.read(), Uint8Array.of(2))
    await ours.write(Uint8Array.of(3))
    await theirs.write(Uint8Array.of(4))
    const a = await peer.expectMplex(f => f.flag !== NEW_STREAM)
    const b = await peer.expectMplex(f => f.flag !== NEW_STREAM)
    assert.deepEqual([a.flag, a.data[0]], [MESSAGE_INITIATOR, 3])
    assert.deepEqual([b.flag, b.data[0]], [MESSAGE_RECEIVER, 4])
    peer.sendMplex(0, CLOSE_INITIATOR)
    assert.equal(await theirs.read(), null)
    peer.sendMplex(0, RESET_RECEIVER)
    await assert.rejects(ours.read(), StreamResetError)
    await theirs.closeWrite()
    assert.equal((await peer.expectMplex(() => true)).flag, CLOSE_RECEIVER)
    ours.abort(new Error('already reset')) // no-op
    const s2 = await peer.muxer.newStream()
    s2.abort(new Error('x'))
    const frames = [await peer.expectMplex(() => true), await peer.expectMplex(() => true)]
    assert.deepEqual(frames.map(f => [f.id, f.flag]), [[2, NEW_STREAM], [2, RESET_INITIATOR]])
    peer.muxer.abort(new Error('done'))
  })

  test('data larger than the message size is split; headers split across chunks parse', async () => {
    const peer = new RawPeer(factory({ maxMessageSize: 1000 }), 'outbound')
    const s = await peer.muxer.newStream()
    void writeAll(s, testData(2500), 2500)
    const sizes: number[] = []
    let total = 0
    while (total < 2500) {
      const f = await peer.expectMplex(f => f.flag === MESSAGE_INITIATOR)
      sizes.push(f.data.length)
      total += f.data.length
    }
    assert.deepEqual(sizes, [1000, 1000, 500])
    // A 300-byte message (two-byte length varint) delivered one byte at a time.
    const frame = mplexFrame(1, MESSAGE_RECEIVER, testData(300, 2))
    for (const b of frame) peer.send(Uint8Array.of(b))
    peer.sendMplex(1, CLOSE_RECEIVER)
    assert.ok(Buffer.from(await readAll(s)).equals(testData(300, 2)))
    peer.muxer.abort(new Error('done'))
  })

  test('excess inbound streams are reset', async () => {
    const peer = new RawPeer(factory({ maxInboundStreams: 1 }))
    peer.sendMplex(1, NEW_STREAM)
    peer.sendMplex(3, NEW_STREAM)
    const reset = await peer.expectMplex(f => f.id === 3)
    assert.equal(reset.flag, RESET_RECEIVER)
    assert.equal(peer.muxer.streams.length, 1)
    peer.muxer.abort(new Error('done'))
  })
})

describe('mplex slow readers', () => {
  test('a reader that stays behind past slowReaderTimeout gets its stream reset', async () => {
    const { client, server } = createPair(factory(), factory({ maxStreamBufferSize: 64 * 1024, slowReaderTimeout: 30 }))
    const s = await client.muxer.newStream()
    const writing = writeAll(s, testData(1024 * 1024), 16 * 1024)
    const r = await server.inbox.next()
    await assert.rejects(writing, StreamResetError)
    await assert.rejects(r.read(), LimitExceededError)
    // Other streams keep working.
    const other = await client.muxer.newStream()
    await other.write(Uint8Array.of(7))
    assert.deepEqual(await (await server.inbox.next()).read(), Uint8Array.of(7))
    client.muxer.abort(new Error('done'))
  })

  test('a reader that catches up in time loses nothing; the connection paused meanwhile', async () => {
    const { client, server } = createPair(factory(), factory({ maxStreamBufferSize: 64 * 1024, slowReaderTimeout: 10_000 }))
    const s = await client.muxer.newStream()
    const data = testData(1024 * 1024)
    const writing = writeAll(s, data, 16 * 1024)
    const r = await server.inbox.next()
    await settle(30)
    assert.equal(await stateAfterSettling(writing), 'pending')
    assert.ok(r.readableLength <= 64 * 1024 + 64 * 1024, `buffered ${r.readableLength}`)
    assert.ok(Buffer.from(await readAll(r)).equals(data))
    await writing
    client.muxer.abort(new Error('done'))
  })
})

describe('mplex malformed input', () => {
  const cases: Array<[string, Uint8Array, new (...args: never[]) => Error]> = [
    ['a message over the size limit', concatBytes([encodeVarint(1 * 8 + MESSAGE_INITIATOR), encodeVarint(1024 * 1024 + 1)]), MessageTooLargeError],
    ['flag 7', mplexFrame(1, 7), InvalidMessageError],
    ['a non-minimal varint', Uint8Array.of(0x80, 0x00, 0x00), InvalidMessageError],
    ['a 10-byte varint', new Uint8Array(10).fill(0xff), InvalidMessageError],
    ['NewStream for a live stream', concatBytes([mplexFrame(1, NEW_STREAM), mplexFrame(1, NEW_STREAM)]), InvalidMessageError]
  ]
  for (const [name, bytes, errorClass] of cases) {
    test(`${name} ends the connection with ${errorClass.name}`, async () => {
      const peer = new RawPeer(factory())
      peer.sendMplex(11, NEW_STREAM)
      const s = await peer.inbox.next()
      peer.send(bytes)
      const err = await peer.onClose
      assert.ok(err instanceof errorClass, `${name}: ${String(err)}`)
      await assert.rejects(s.read(), StreamResetError)
      await peer.drainToEnd()
      await peer.muxer.closed
    })
  }

  test('random bytes never crash or hang the muxer', async () => {
    for (let i = 0; i < 200; i++) {
      const peer = new RawPeer(factory({ maxMessageSize: 4096 }))
      peer.send(testData(1 + (i * 53) % 400, i + 100))
      await peer.conn.closeWrite().catch(() => {})
      const err = await peer.onClose
      assert.ok(err === undefined || 'code' in err, String(err))
      await peer.muxer.closed
      await peer.drainToEnd().catch(() => {})
    }
  })
})

