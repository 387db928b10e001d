/**
 * The stream-muxer conformance suite: every StreamMuxerFactory must pass it. Call
 * `muxerConformanceTests(name, makeFactory, options)` from a *.test.ts file; `makeFactory`
 * receives the limits a test needs and returns a factory honouring them.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { StreamMuxerFactory } from '../../src/interface/muxer.ts'
import type { Stream } from '../../src/interface/stream.ts'
import { LimitExceededError, StreamClosedError, StreamResetError } from '../../src/util/errors.ts'
import { createPair, echo, readAll, settle, stateAfterSettling, testData, writeAll } from './helpers.ts'

export interface ConformanceLimits {
  maxInboundStreams?: number
  maxOutboundStreams?: number
  /** Bound of a graceful close (ms). */
  closeTimeout?: number
}

export interface ConformanceOptions {
  /** Most unread bytes a non-reading receiver may end up holding (flow control / buffer cap). */
  maxUnreadBytes: number
}

const T = { timeout: 60_000 }

export function muxerConformanceTests (name: string, makeFactory: (limits?: ConformanceLimits) => StreamMuxerFactory, options: ConformanceOptions): void {
  describe(`${name} muxer conformance`, () => {
    test('opens streams in both directions and carries data', T, async () => {
      const { client, server } = createPair(makeFactory())
      const out = await client.muxer.newStream()
      await out.write(new TextEncoder().encode('hello server'))
      const inS = await server.inbox.next()
      assert.equal(inS.direction, 'inbound')
      assert.equal(out.direction, 'outbound')
      assert.equal(new TextDecoder().decode((await inS.read())!), 'hello server')

      const back = await server.muxer.newStream()
      await back.write(new TextEncoder().encode('hello client'))
      const inC = await client.inbox.next()
      assert.equal(new TextDecoder().decode((await inC.read())!), 'hello client')
      assert.equal(client.muxer.streams.length, 2)
      assert.equal(server.muxer.streams.length, 2)
      inS.closeWrite().catch(() => {})
      inC.closeWrite().catch(() => {})
      back.closeWrite().catch(() => {})
      await client.muxer.close()
      await server.muxer.closed
    })

    test('echoes 10 MiB on one stream byte for byte', T, async () => {
      const { client, server } = createPair(makeFactory(), makeFactory(), { serverHandler: echo })
      const data = testData(10 * 1024 * 1024)
      const s = await client.muxer.newStream()
      const [, got] = await Promise.all([writeAll(s, data, 100_000), readAll(s)])
      assert.equal(got.length, data.length)
      assert.ok(Buffer.from(got).equals(data))
      await s.closed
      assert.equal(s.status, 'closed')
      await client.muxer.close()
      await server.muxer.closed
    })

    test('echoes 100 concurrent streams of 64 KiB', T, async () => {
      const { client, server } = createPair(makeFactory(), makeFactory(), { serverHandler: echo })
      await Promise.all(Array.from({ length: 100 }, async (_, i) => {
        const data = testData(64 * 1024, i + 1)
        const s = await client.muxer.newStream()
        const [, got] = await Promise.all([writeAll(s, data, 10_000), readAll(s)])
        assert.ok(Buffer.from(got).equals(data), `stream ${i} differs`)
      }))
      await client.muxer.close()
      await server.muxer.closed
      assert.equal(client.muxer.streams.length, 0)
      assert.equal(server.muxer.streams.length, 0)
    })

    test('half-close: the opener finishes writing first, the other side keeps writing', T, async () => {
      const { client, server } = createPair(makeFactory())
      const s = await client.muxer.newStream()
      await s.write(Uint8Array.of(1, 2, 3))
      await s.closeWrite()
      assert.throws(() => s.send(Uint8Array.of(9)), StreamClosedError)
      const r = await server.inbox.next()
      assert.deepEqual(await readAll(r), Uint8Array.of(1, 2, 3))
      assert.equal(r.readStatus, 'closed')
      assert.equal(r.writeStatus, 'open')
      await r.write(Uint8Array.of(4, 5))
      await r.write(Uint8Array.of(6))
      await r.closeWrite()
      assert.deepEqual(await readAll(s), Uint8Array.of(4, 5, 6))
      await Promise.all([s.closed, r.closed])
      assert.equal(s.status, 'closed')
      assert.equal(r.status, 'closed')
      await client.muxer.close()
    })

    test('half-close: the receiver finishes writing first, the opener keeps writing', T, async () => {
      const { client, server } = createPair(makeFactory())
      const s = await client.muxer.newStream()
      await s.write(Uint8Array.of(0))
      const r = await server.inbox.next()
      await r.write(Uint8Array.of(7, 8))
      await r.closeWrite()
      assert.deepEqual(await readAll(s), Uint8Array.of(7, 8))
      for (let i = 1; i < 4; i++) await s.write(Uint8Array.of(i))
      await s.closeWrite()
      assert.deepEqual(await readAll(r), Uint8Array.of(0, 1, 2, 3))
      await Promise.all([s.closed, r.closed])
      await client.muxer.close()
    })

    test('a reset reaches the remote as StreamResetError, both ways', T, async () => {
      const { client, server } = createPair(makeFactory())
      const s = await client.muxer.newStream()
      await s.write(Uint8Array.of(1))
      const r = await server.inbox.next()
      await r.read()
      const pending = r.read()
      s.abort(new Error('local reason'))
      await assert.rejects(pending, StreamResetError)
      assert.equal(r.status, 'reset')
      assert.equal(s.status, 'aborted')
      await assert.rejects(r.write(Uint8Array.of(1)), StreamResetError)

      const s2 = await server.muxer.newStream()
      await s2.write(Uint8Array.of(2))
      const r2 = await client.inbox.next()
      s2.abort(new Error('bye'))
      // Data sent before the reset may or may not be seen; the reset must be.
      await assert.rejects(async () => { while (await r2.read() !== null); }, StreamResetError)
      assert.equal(client.muxer.streams.length, 0)
      assert.equal(server.muxer.streams.length, 0)
      await client.muxer.close()
    })

    test('aborting the muxer resets every stream on both sides', T, async () => {
      const { client, server } = createPair(makeFactory())
      const streams = await Promise.all([client.muxer.newStream(), client.muxer.newStream(), client.muxer.newStream()])
      for (const s of streams) await s.write(Uint8Array.of(1))
      const remote = [await server.inbox.next(), await server.inbox.next(), await server.inbox.next()]
      const pendingLocal = streams.map(async s => { await s.read() })
      const pendingRemote = remote.map(async s => { await s.read(); await s.read() })
      const reason = new Error('abort test')
      client.muxer.abort(reason)
      for (const p of pendingLocal) await assert.rejects(p, StreamResetError)
      for (const p of pendingRemote) await assert.rejects(p, StreamResetError)
      assert.equal(await client.onClose, reason)
      assert.ok(await server.onClose instanceof Error)
      await Promise.all([client.muxer.closed, server.muxer.closed])
      assert.equal(client.onCloseCalls, 1)
      assert.equal(server.onCloseCalls, 1)
      assert.throws(() => client.muxer.newStream())
    })

    test('close() is graceful: data written before it is delivered', T, async () => {
      const { client, server } = createPair(makeFactory())
      const payloads = [testData(1024 * 1024, 11), testData(300_000, 12), testData(1, 13)]
      const streams = await Promise.all(payloads.map(async () => await client.muxer.newStream()))
      // Fire the writes without waiting: close() must flush them.
      const writes = streams.map(async (s, i) => { await writeAll(s, payloads[i], 50_000, false) })
      const received = payloads.map(async () => {
        const r = await server.inbox.next()
        const got = await readAll(r)
        await r.closeWrite()
        return got
      })
      await Promise.all(writes)
      await client.muxer.close()
      const got = await Promise.all(received)
      for (let i = 0; i < payloads.length; i++) assert.ok(Buffer.from(got[i]).equals(payloads[i]), `stream ${i}`)
      assert.equal(await client.onClose, undefined)
      assert.equal(await server.onClose, undefined)
      assert.equal(client.muxer.streams.length, 0)
      assert.equal(server.muxer.streams.length, 0)
      assert.equal(client.onCloseCalls, 1)
    })

    test('close() while the remote has not read yet still delivers everything', T, async () => {
      const { client, server } = createPair(makeFactory())
      const data = testData(600 * 1024, 5)
      const s = await client.muxer.newStream()
      const written = writeAll(s, data, 64 * 1024, false)
      const closing = written.then(async () => { await client.muxer.close() })
      const r = await server.inbox.next()
      await settle()
      const got = await readAll(r)
      await r.closeWrite()
      await closing
      assert.ok(Buffer.from(got).equals(data))
    })

    test('the underlying connection ending resets open streams', T, async () => {
      const { client, server } = createPair(makeFactory())
      const s = await client.muxer.newStream()
      await s.write(Uint8Array.of(1))
      const r = await server.inbox.next()
      await r.read()
      const pendingServer = r.read()
      const pendingClient = s.read()
      client.conn.abort(new Error('cable cut'))
      await assert.rejects(pendingServer, StreamResetError)
      await assert.rejects(pendingClient, StreamResetError)
      assert.ok(await client.onClose instanceof Error)
      assert.ok(await server.onClose instanceof Error)
      assert.equal(client.muxer.streams.length, 0)
      assert.equal(server.muxer.streams.length, 0)
    })

    test('a clean end of the connection keeps bytes the remote finished sending', T, async () => {
      const { client, server } = createPair(makeFactory())
      const s = await client.muxer.newStream()
      await s.write(Uint8Array.of(1, 2, 3))
      await s.closeWrite()
      const r = await server.inbox.next()
      const open = await client.muxer.newStream()
      await open.write(Uint8Array.of(0))
      const openRemote = await server.inbox.next()
      await settle()
      // The client's side of the connection ends (EOF), as a remote process exiting would.
      await client.conn.closeWrite()
      assert.deepEqual(await readAll(r), Uint8Array.of(1, 2, 3))
      await assert.rejects(async () => { while (await openRemote.read() !== null); }, StreamResetError)
      await server.muxer.closed
    })

    test('stream limits: excess inbound streams are reset, outbound limit throws', T, async () => {
      const { client, server } = createPair(makeFactory({ maxOutboundStreams: 3 }), makeFactory({ maxInboundStreams: 2 }))
      const a = await client.muxer.newStream()
      const b = await client.muxer.newStream()
      const c = await client.muxer.newStream()
      await assert.rejects(async () => await client.muxer.newStream(), LimitExceededError)
      await a.write(Uint8Array.of(1))
      await b.write(Uint8Array.of(1))
      await assert.rejects(async () => { await c.write(Uint8Array.of(1)); await c.read() }, StreamResetError)
      assert.equal(server.inbox.count, 2)
      // Freeing one slot on each side allows a new stream again.
      a.abort(new Error('free'))
      await settle()
      const d = await client.muxer.newStream()
      await d.write(Uint8Array.of(4))
      await server.inbox.next(); await server.inbox.next()
      const dr = await server.inbox.next()
      assert.deepEqual(await dr.read(), Uint8Array.of(4))
      client.muxer.abort(new Error('done'))
    })

    test('backpressure: a receiver that does not read makes the writer wait, without unbounded buffering', T, async () => {
      const { client, server } = createPair(makeFactory())
      const s = await client.muxer.newStream()
      let written = 0
      let writerDone = false
      const data = testData(32 * 1024 * 1024, 3)
      const writer = (async () => {
        for (let i = 0; i < data.length; i += 64 * 1024) {
          await s.write(data.subarray(i, i + 64 * 1024))
          written += 64 * 1024
        }
        await s.closeWrite()
        writerDone = true
      })()
      const r = await server.inbox.next()
      await settle(50)
      assert.equal(writerDone, false)
      assert.ok(written < data.length / 2, `writer got ${written} bytes out with nobody reading`)
      assert.ok(r.readableLength <= options.maxUnreadBytes, `receiver buffered ${r.readableLength} bytes`)
      const stalledAt = written
      await settle(20)
      assert.equal(written, stalledAt, 'the writer kept going')
      const got = await readAll(r)
      await writer
      assert.ok(Buffer.from(got).equals(data))
      await r.closeWrite()
      await client.muxer.close()
    })

    test('nothing is lost when a writer closes right after writing', T, async () => {
      const { client, server } = createPair(makeFactory())
      for (const size of [1, 1000, 256 * 1024 + 1, 3 * 1024 * 1024]) {
        const s = await client.muxer.newStream()
        const data = testData(size, size)
        s.send(data) // may report backpressure; close() must flush what was queued
        const closing = s.close()
        const r = await server.inbox.next()
        const got = await readAll(r)
        await closing
        assert.ok(Buffer.from(got).equals(data), `size ${size}`)
        await r.close()
        await Promise.all([s.closed, r.closed])
        assert.equal(s.status, 'closed')
      }
      assert.equal(client.muxer.streams.length, 0)
      await client.muxer.close()
    })

    test('close() is bounded when the remote never finishes its side', T, async () => {
      const { client, server } = createPair(makeFactory({ closeTimeout: 100 }))
      const s = await client.muxer.newStream()
      await s.write(Uint8Array.of(1))
      const r = await server.inbox.next()
      const start = performance.now()
      await client.muxer.close()
      assert.ok(performance.now() - start < 2000)
      // Our side was flushed and half-closed before the connection went away.
      assert.deepEqual(await readAll(r), Uint8Array.of(1))
      await assert.rejects(s.read(), StreamResetError)
      await server.muxer.closed
    })

    test('streams, timers and listeners are released after close', T, async () => {
      const { client, server } = createPair(makeFactory(), makeFactory(), { serverHandler: echo })
      const streams: Stream[] = []
      for (let i = 0; i < 10; i++) {
        const s = await client.muxer.newStream()
        await s.write(Uint8Array.of(i))
        streams.push(s)
      }
      // close() waits for the echo servers to finish their side, so the echoes stay readable.
      await client.muxer.close()
      for (let i = 0; i < streams.length; i++) assert.deepEqual(await readAll(streams[i]), Uint8Array.of(i))
      await Promise.all([client.muxer.closed, server.muxer.closed, ...streams.map(async s => await s.closed)])
      assert.equal(client.muxer.streams.length, 0)
      assert.equal(server.muxer.streams.length, 0)
      assert.equal(client.conn.status === 'closed' || client.conn.status === 'aborted' || client.conn.status === 'reset', true)
      await assert.rejects(async () => await client.muxer.newStream())
      await client.muxer.close()
      assert.equal(client.onCloseCalls, 1)
      assert.equal(server.onCloseCalls, 1)
    })
  })
}
