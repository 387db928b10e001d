import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { AbortOptions } from '../../src/interface/common.ts'
import { AbstractStream } from '../../src/util/abstract-stream.ts'
import { ConnectionClosedError, InvalidMessageError, StreamResetError, TimeoutError } from '../../src/util/errors.ts'
import { yamux, YamuxMuxer, YamuxStream } from '../../src/muxer/yamux/index.ts'
import type { YamuxOptions } from '../../src/muxer/yamux/index.ts'
import { createPair, createSide, readAll, settle, stateAfterSettling, testData, writeAll } from './helpers.ts'
import { RawPeer, yamuxFrame } from './raw-peer.ts'

const DATA = 0
const WINDOW_UPDATE = 1
const PING = 2
const GO_AWAY = 3
const SYN = 1
const ACK = 2
const FIN = 4
const RST = 8

const factory = (options: YamuxOptions = {}) => yamux({ keepAliveInterval: 0, ...options })()

/** A pipe whose bytes take `delayMs` to arrive: gives the muxers a real round-trip time. */
class SlowPipeEnd extends AbstractStream {
  peer!: SlowPipeEnd
  readonly delayMs: number
  constructor (delayMs: number) { super(); this.delayMs = delayMs }
  protected sendChunk (chunk: Uint8Array): boolean {
    setTimeout(() => { this.peer.deliver(chunk) }, this.delayMs)
    return true
  }

  deliver (chunk: Uint8Array): void { this.pushData(chunk) }
  deliverEnd (): void { this.pushEnd() }
  protected sendCloseWrite (_o?: AbortOptions): void { setTimeout(() => { this.peer.deliverEnd() }, this.delayMs) }
  protected sendReset (): void { this.peer.pushResetFromPeer() }
  pushResetFromPeer (): void { this.pushReset(new StreamResetError()) }
}

function slowPair (delayMs: number): [SlowPipeEnd, SlowPipeEnd] {
  const a = new SlowPipeEnd(delayMs)
  const b = new SlowPipeEnd(delayMs)
  a.peer = b
  b.peer = a
  return [a, b]
}

describe('yamux flow control', () => {
  test('the receive window grows when the reader keeps up with a long pipe', async () => {
    const [a, b] = slowPair(10)
    const client = createSide(factory(), a as never, 'outbound')
    const server = createSide(factory(), b as never, 'inbound')
    const rtt = await (client.muxer as YamuxMuxer).ping()
    assert.ok(rtt >= 15, `rtt ${rtt}`)
    await (server.muxer as YamuxMuxer).ping()
    const s = await client.muxer.newStream()
    const data = testData(8 * 1024 * 1024)
    const writing = writeAll(s, data, 256 * 1024)
    const r = await server.inbox.next() as YamuxStream
    const got = await readAll(r)
    await writing
    assert.ok(Buffer.from(got).equals(data))
    assert.ok(r.recvWindow > 256 * 1024, `window stayed at ${r.recvWindow}`)
    assert.ok(r.recvWindow <= 16 * 1024 * 1024)
    client.muxer.abort(new Error('done'))
  })

  test('the window stays put for a reader that is slower than the pipe', async () => {
    const { client, server } = createPair(factory())
    await (server.muxer as YamuxMuxer).ping()
    const s = await client.muxer.newStream()
    const data = testData(1024 * 1024)
    const writing = writeAll(s, data, 64 * 1024)
    const r = await server.inbox.next() as YamuxStream
    const chunks: Uint8Array[] = []
    for (;;) {
      const rtt = (server.muxer as YamuxMuxer).rtt
      await new Promise(resolve => setTimeout(resolve, Math.max(5, rtt * 4)))
      const c = await r.read()
      if (c === null) break
      chunks.push(c)
    }
    await writing
    assert.equal(r.recvWindow, 256 * 1024)
    client.muxer.abort(new Error('done'))
  })

  test('never sends more than the remote window and splits frames at maxMessageSize', async () => {
    const peer = new RawPeer(factory({ maxMessageSize: 100_000 }), 'outbound')
    const s = await peer.muxer.newStream()
    const syn = await peer.expectYamux(f => f.type === WINDOW_UPDATE && (f.flags & SYN) !== 0)
    assert.equal(syn.streamId, 1)
    const writing = writeAll(s, testData(600 * 1024), 600 * 1024)
    let received = 0
    while (received < 256 * 1024) {
      const f = await peer.expectYamux(f => f.type === DATA)
      assert.ok(f.length <= 100_000)
      received += f.length
    }
    assert.equal(received, 256 * 1024)
    assert.equal(await stateAfterSettling(writing), 'pending')
    peer.sendYamux(WINDOW_UPDATE, ACK, 1, 600 * 1024 - received)
    while (received < 600 * 1024) received += (await peer.expectYamux(f => f.type === DATA)).length
    await writing
    const fin = await peer.expectYamux(f => f.streamId === 1)
    assert.equal(fin.flags & FIN, FIN)
    peer.muxer.abort(new Error('done'))
  })

  test('data beyond the receive window is a protocol error: GoAway(1) and teardown', async () => {
    const peer = new RawPeer(factory())
    peer.sendYamux(WINDOW_UPDATE, SYN, 1, 0)
    const stream = await peer.inbox.next()
    // Nobody reads, so no window is granted back.
    peer.send(yamuxFrame(DATA, 0, 1, 200 * 1024, new Uint8Array(200 * 1024)))
    peer.send(yamuxFrame(DATA, 0, 1, 100 * 1024, new Uint8Array(100 * 1024)))
    const err = await peer.onClose
    assert.ok(err instanceof InvalidMessageError, String(err))
    const goAway = await peer.expectYamux(f => f.type === GO_AWAY)
    assert.equal(goAway.length, 1)
    await peer.drainToEnd()
    await assert.rejects(stream.read(), StreamResetError)
  })

  test('a reader that does not read holds at most one window; reading resumes the writer', async () => {
    const { client, server } = createPair(factory())
    const s = await client.muxer.newStream()
    const writing = writeAll(s, testData(2 * 1024 * 1024), 32 * 1024)
    const r = await server.inbox.next()
    await settle(30)
    assert.equal(r.readableLength, 256 * 1024)
    assert.equal(await stateAfterSettling(writing), 'pending')
    assert.equal((await readAll(r)).length, 2 * 1024 * 1024)
    await writing
    client.muxer.abort(new Error('done'))
  })
})

describe('yamux stream lifecycle', () => {
  test('an inbound SYN may carry data; we ACK it and data flows both ways', async () => {
    const peer = new RawPeer(factory())
    peer.sendYamux(DATA, SYN, 1, 5, new TextEncoder().encode('hello'))
    const s = await peer.inbox.next()
    const ack = await peer.expectYamux(f => f.streamId === 1)
    assert.equal(ack.flags & ACK, ACK)
    assert.equal(new TextDecoder().decode((await s.read())!), 'hello')
    await s.write(Uint8Array.of(42))
    const data = await peer.expectYamux(f => f.type === DATA)
    assert.deepEqual(data.data, Uint8Array.of(42))
    peer.sendYamux(WINDOW_UPDATE, FIN, 1, 0)
    assert.equal(await s.read(), null)
    await s.closeWrite()
    const fin = await peer.expectYamux(f => f.streamId === 1)
    assert.equal(fin.flags & FIN, FIN)
    await s.closed
    assert.equal(peer.muxer.streams.length, 0)
  })

  test('newStream waits while 256 streams are unacknowledged', async () => {
    const peer = new RawPeer(factory(), 'outbound')
    for (let i = 0; i < 256; i++) await peer.muxer.newStream()
    const next = Promise.resolve(peer.muxer.newStream())
    assert.equal(await stateAfterSettling(next), 'pending')
    peer.sendYamux(WINDOW_UPDATE, ACK, 1, 0)
    const s = await next
    assert.equal((s as YamuxStream).streamId, 513)
    const aborted = new AbortController()
    const waiting = Promise.resolve(peer.muxer.newStream({ signal: aborted.signal }))
    aborted.abort(new Error('gave up'))
    await assert.rejects(waiting, /gave up/)
    peer.muxer.abort(new Error('done'))
  })

  test('a RST answering our SYN resets the stream', async () => {
    const peer = new RawPeer(factory(), 'outbound')
    const s = await peer.muxer.newStream()
    const reading = s.read()
    peer.sendYamux(WINDOW_UPDATE, RST, 1, 0)
    await assert.rejects(reading, StreamResetError)
    assert.equal(peer.muxer.streams.length, 0)
  })

  test('frames for unknown (already closed) streams are skipped, payload included', async () => {
    const peer = new RawPeer(factory())
    peer.send(yamuxFrame(DATA, 0, 7, 3, Uint8Array.of(1, 2, 3)))
    peer.sendYamux(WINDOW_UPDATE, 0, 9, 1000)
    peer.sendYamux(DATA, SYN, 1, 1, Uint8Array.of(5))
    const s = await peer.inbox.next()
    assert.deepEqual(await s.read(), Uint8Array.of(5))
    peer.muxer.abort(new Error('done'))
  })

  test('frames split at every byte boundary and many frames per chunk parse the same', async () => {
    const bytes = new Uint8Array([
      ...yamuxFrame(DATA, SYN, 1, 4, Uint8Array.of(1, 2, 3, 4)),
      ...yamuxFrame(DATA, SYN, 3, 2, Uint8Array.of(9, 9)),
      ...yamuxFrame(DATA, 0, 1, 3, Uint8Array.of(5, 6, 7)),
      ...yamuxFrame(WINDOW_UPDATE, FIN, 1, 0),
      ...yamuxFrame(DATA, FIN, 3, 1, Uint8Array.of(8))
    ])
    for (const split of ['bytes', 'whole']) {
      const peer = new RawPeer(factory())
      if (split === 'bytes') for (const b of bytes) peer.send(Uint8Array.of(b))
      else peer.send(bytes)
      const s1 = await peer.inbox.next()
      const s3 = await peer.inbox.next()
      assert.deepEqual(await readAll(s1), Uint8Array.of(1, 2, 3, 4, 5, 6, 7))
      assert.deepEqual(await readAll(s3), Uint8Array.of(9, 9, 8))
      peer.muxer.abort(new Error('done'))
    }
  })

  test('excess inbound streams get RST', async () => {
    const peer = new RawPeer(factory({ maxInboundStreams: 1 }))
    peer.sendYamux(WINDOW_UPDATE, SYN, 1, 0)
    peer.sendYamux(WINDOW_UPDATE, SYN, 3, 0)
    const rst = await peer.expectYamux(f => f.streamId === 3)
    assert.equal(rst.flags & RST, RST)
    assert.equal(peer.muxer.streams.length, 1)
    peer.muxer.abort(new Error('done'))
  })
})

describe('yamux ping and keep-alive', () => {
  test('ping() measures the round trip; we answer pings with the same value', async () => {
    const { client, server } = createPair(factory())
    const rtt = await (client.muxer as YamuxMuxer).ping()
    assert.ok(rtt > 0)
    const peer = new RawPeer(factory())
    peer.sendYamux(PING, SYN, 0, 0xdeadbeef)
    const pong = await peer.expectYamux(f => f.type === PING && (f.flags & ACK) !== 0)
    assert.equal(pong.length, 0xdeadbeef)
    client.muxer.abort(new Error('done'))
    peer.muxer.abort(new Error('done'))
    await server.muxer.closed
  })

  test('keep-alive pings periodically and an unanswered ping aborts the connection', async () => {
    const peer = new RawPeer(yamux({ keepAliveInterval: 20, pingTimeout: 50 })())
    const first = await peer.expectYamux(f => f.type === PING && (f.flags & SYN) !== 0)
    peer.sendYamux(PING, ACK, 0, first.length)
    const second = await peer.expectYamux(f => f.type === PING && (f.flags & SYN) !== 0)
    assert.notEqual(second.length, first.length)
    peer.sendYamux(PING, ACK, 0, second.length)
    // From now on the peer stays silent.
    const err = await peer.onClose
    assert.ok(err instanceof TimeoutError, String(err))
    await peer.muxer.closed
  })
})

describe('yamux GoAway', () => {
  test('close() lets open streams finish, then sends GoAway(0) before the connection ends', async () => {
    const { client, server } = createPair(factory())
    const s = await client.muxer.newStream()
    await s.write(Uint8Array.of(1))
    const r = await server.inbox.next()
    const closing = server.muxer.close()
    await settle()
    // The open stream still works until both sides finish it.
    await s.write(Uint8Array.of(2))
    await s.closeWrite()
    assert.deepEqual(await readAll(r), Uint8Array.of(1, 2))
    assert.equal(await s.read(), null)
    await closing
    assert.equal(await server.onClose, undefined)
    assert.equal(await client.onClose, undefined)
  })

  test('after a remote GoAway(0) new streams are refused, open ones keep working', async () => {
    const peer = new RawPeer(factory())
    peer.sendYamux(WINDOW_UPDATE, SYN, 1, 0)
    const s = await peer.inbox.next()
    peer.sendYamux(GO_AWAY, 0, 0, 0)
    peer.sendYamux(DATA, 0, 1, 1, Uint8Array.of(3))
    assert.deepEqual(await s.read(), Uint8Array.of(3))
    assert.throws(() => peer.muxer.newStream(), ConnectionClosedError)
    await s.write(Uint8Array.of(4))
    assert.deepEqual((await peer.expectYamux(f => f.type === DATA)).data, Uint8Array.of(4))
    await peer.conn.closeWrite()
    assert.equal(await peer.onClose, undefined)
  })

  test('GoAway with an error code tears the session down', async () => {
    const peer = new RawPeer(factory())
    peer.sendYamux(WINDOW_UPDATE, SYN, 1, 0)
    const s = await peer.inbox.next()
    peer.sendYamux(GO_AWAY, 0, 0, 2)
    await assert.rejects(s.read(), StreamResetError)
    assert.ok(await peer.onClose instanceof ConnectionClosedError)
  })
})

describe('yamux malformed input', () => {
  const cases: Array<[string, Uint8Array]> = [
    ['bad version', Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0)],
    ['unknown type', yamuxFrame(7, 0, 1, 0)],
    ['SYN with our own id parity', yamuxFrame(WINDOW_UPDATE, SYN, 2, 0)],
    ['SYN for stream 0', yamuxFrame(WINDOW_UPDATE, SYN, 0, 0)],
    ['duplicate SYN', new Uint8Array([...yamuxFrame(WINDOW_UPDATE, SYN, 1, 0), ...yamuxFrame(WINDOW_UPDATE, SYN, 1, 0)])],
    ['huge frame for an unknown stream', yamuxFrame(DATA, 0, 5, 0xffffffff)]
  ]
  for (const [name, bytes] of cases) {
    test(`${name}: InvalidMessageError, GoAway(protocol error), connection closed`, async () => {
      const peer = new RawPeer(factory())
      peer.send(bytes)
      const err = await peer.onClose
      assert.ok(err instanceof InvalidMessageError, `${name}: ${String(err)}`)
      const goAway = await peer.expectYamux(f => f.type === GO_AWAY)
      assert.equal(goAway.length, 1)
      await peer.drainToEnd()
      await peer.muxer.closed
    })
  }

  test('a truncated header followed by EOF ends the session without hanging', async () => {
    const peer = new RawPeer(factory())
    peer.sendYamux(WINDOW_UPDATE, SYN, 1, 0)
    const s = await peer.inbox.next()
    peer.send(Uint8Array.of(0, 0, 0))
    await peer.conn.closeWrite()
    await assert.rejects(s.read(), StreamResetError)
    await peer.muxer.closed
    await peer.drainToEnd()
  })

  test('random bytes never crash or hang the muxer', async () => {
    let seed = 7
    for (let i = 0; i < 200; i++) {
      const peer = new RawPeer(factory())
      const junk = testData(1 + (i * 37) % 300, seed++)
      peer.send(junk)
      await peer.conn.closeWrite().catch(() => {})
      const err = await peer.onClose
      assert.ok(err === undefined || 'code' in err, String(err))
      await peer.muxer.closed
      await peer.drainToEnd().catch(() => {})
    }
  })
})
