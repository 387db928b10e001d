/**
 * Wire-compatibility checks against js-libp2p's muxers (@chainsafe/libp2p-yamux,
 * @libp2p/mplex) in the same process over a real loopback TCP connection. Our side wraps the
 * socket in a minimal ByteStream; their side uses @libp2p/tcp's socket adapter. Each test runs
 * with our muxer in both roles (dialer and listener).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect } from 'node:net'
import type { Socket } from 'node:net'
import { logger as jsLogger } from '@libp2p/logger'
import type { Stream as JsStream, StreamMuxer as JsStreamMuxer, StreamMuxerFactory as JsStreamMuxerFactory } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { toMultiaddrConnection } from '../../../node_modules/@libp2p/tcp/dist/src/socket-to-conn.js'
import type { AbortOptions } from '../../../src/interface/common.ts'
import type { StreamMuxer, StreamMuxerFactory } from '../../../src/interface/muxer.ts'
import type { Stream } from '../../../src/interface/stream.ts'
import { AbstractStream } from '../../../src/util/abstract-stream.ts'
import { concatBytes } from '../../../src/util/bytes.ts'
import { StreamResetError } from '../../../src/util/errors.ts'
import { Inbox, echo, readAll, testData, writeAll } from '../../muxer/helpers.ts'

/** A node:net socket as our ByteStream, just enough for these tests. */
export class SocketStream extends AbstractStream {
  readonly #socket: Socket
  constructor (socket: Socket) {
    super()
    this.#socket = socket
    socket.on('data', (buf: Buffer) => {
      this.pushData(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength))
      if (this.readableLength > 1024 * 1024) socket.pause()
    })
    socket.on('end', () => { this.pushEnd() })
    socket.on('error', (err) => { this.pushReset(new StreamResetError('socket error', { cause: err })) })
    socket.on('close', () => { this.pushReset(new StreamResetError('socket closed')) })
    socket.on('drain', () => { this.notifyDrain() })
  }

  protected sendChunk (chunk: Uint8Array): boolean { return this.#socket.write(chunk) }
  protected async sendCloseWrite (_options?: AbortOptions): Promise<void> {
    await new Promise<void>(resolve => { this.#socket.end(resolve) })
  }

  protected sendReset (): void { this.#socket.destroy() }
  protected override onConsumed (): void {
    if (this.readableLength < 256 * 1024 && this.#socket.isPaused()) this.#socket.resume()
  }
}

export async function socketPair (): Promise<{ dialer: Socket, listener: Socket, close(): void }> {
  const server = createServer({ allowHalfOpen: true })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const accepted = new Promise<Socket>(resolve => server.once('connection', resolve))
  const dialer = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  await new Promise<void>(resolve => dialer.once('connect', resolve))
  const listener = await accepted
  server.close()
  return { dialer, listener, close: () => { dialer.destroy(); listener.destroy() } }
}

/** A js stream whose reading started the moment it arrived (js-libp2p streams expect their
 * consumer to attach at once; a late iterator can miss the remote's end-of-stream). */
interface JsIncoming {
  stream: JsStream
  data: Promise<Uint8Array>
}

interface Peers {
  ours: StreamMuxer
  oursInbox: Inbox
  theirs: JsStreamMuxer
  nextTheirs(): Promise<JsIncoming>
  close(): void
}

export async function connectPeers (ourFactory: StreamMuxerFactory, jsFactory: JsStreamMuxerFactory, weDial: boolean, ourHandler?: (s: Stream) => void, jsHandler?: (s: JsStream) => void): Promise<Peers> {
  const sockets = await socketPair()
  const ourSocket = weDial ? sockets.dialer : sockets.listener
  const theirSocket = weDial ? sockets.listener : sockets.dialer
  const oursInbox = new Inbox()
  const ours = ourFactory.createStreamMuxer(new SocketStream(ourSocket), {
    direction: weDial ? 'outbound' : 'inbound',
    onIncomingStream: ourHandler ?? oursInbox.push
  })
  const maConn = toMultiaddrConnection({
    socket: theirSocket,
    direction: weDial ? 'inbound' : 'outbound',
    log: jsLogger('js-tcp'),
    remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/1'),
    inactivityTimeout: 0
  })
  const theirs = jsFactory.createStreamMuxer(maConn)
  const theirsInbox: JsIncoming[] = []
  const waiters: Array<(s: JsIncoming) => void> = []
  theirs.addEventListener('stream', (evt) => {
    const s = evt.detail
    if (jsHandler !== undefined) { jsHandler(s); return }
    const incoming = { stream: s, data: jsReadAll(s) }
    incoming.data.catch(() => {})
    const w = waiters.shift()
    if (w !== undefined) w(incoming)
    else theirsInbox.push(incoming)
  })
  return {
    ours,
    oursInbox,
    theirs,
    nextTheirs: async () => theirsInbox.shift() ?? await new Promise<JsIncoming>(resolve => waiters.push(resolve)),
    close: () => { ours.abort(new Error('test over')); theirs.abort(new Error('test over')); sockets.close() }
  }
}

/** js-side echo: copies everything back, respecting backpressure, then closes its write side. */
function jsEcho (s: JsStream): void {
  void (async () => {
    try {
      for await (const chunk of s) {
        if (!s.send(chunk)) await s.onDrain()
      }
      await s.close()
    } catch {}
  })()
}

export async function jsReadAll (s: JsStream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of s) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
    // Plain Uint8Array views (js hands out Buffers), so deepEqual compares bytes only.
    chunks.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  }
  return concatBytes(chunks)
}

async function jsWriteAll (s: JsStream, data: Uint8Array, chunkSize: number): Promise<void> {
  for (let i = 0; i < data.length; i += chunkSize) {
    if (!s.send(data.subarray(i, Math.min(i + chunkSize, data.length)))) await s.onDrain()
  }
  await s.close()
}

const T = { timeout: 60_000 }

export function jsInteropTests (name: string, ourFactory: () => StreamMuxerFactory, jsFactory: () => JsStreamMuxerFactory): void {
  for (const weDial of [true, false]) {
    describe(`${name} against js-libp2p (we ${weDial ? 'dial' : 'listen'})`, () => {
      test('our streams to a js echo: several streams, one of 10 MiB', T, async () => {
        const peers = await connectPeers(ourFactory(), jsFactory(), weDial, undefined, jsEcho)
        try {
          const sizes = [1, 1000, 100_000, 10 * 1024 * 1024, 300_000]
          await Promise.all(sizes.map(async (size, i) => {
            const s = await peers.ours.newStream()
            const data = testData(size, i + 1)
            // 1 MiB writes make frames as large as our sender allows.
            const [, got] = await Promise.all([writeAll(s, data, 1024 * 1024), readAll(s)])
            assert.equal(got.length, data.length, `stream of ${size}`)
            assert.ok(Buffer.from(got).equals(data), `stream of ${size}`)
          }))
        } finally {
          peers.close()
        }
      })

      test('js streams to our echo: several streams, one of 10 MiB', T, async () => {
        const peers = await connectPeers(ourFactory(), jsFactory(), weDial, echo)
        try {
          const sizes = [5, 70_000, 10 * 1024 * 1024, 2]
          await Promise.all(sizes.map(async (size, i) => {
            const s = await peers.theirs.createStream()
            const data = testData(size, i + 50)
            const [, got] = await Promise.all([jsWriteAll(s, data, 64 * 1024), jsReadAll(s)])
            assert.equal(got.length, data.length, `stream of ${size}`)
            assert.ok(Buffer.from(got).equals(data), `stream of ${size}`)
          }))
        } finally {
          peers.close()
        }
      })

      test('half-close works in both directions independently', T, async () => {
        const peers = await connectPeers(ourFactory(), jsFactory(), weDial)
        try {
          // We finish writing first; they keep writing.
          const s = await peers.ours.newStream()
          await s.write(Uint8Array.of(1, 2))
          await s.closeWrite()
          const { stream: r, data } = await peers.nextTheirs()
          assert.deepEqual(await data, Uint8Array.of(1, 2))
          r.send(Uint8Array.of(3))
          r.send(Uint8Array.of(4))
          await r.close()
          assert.deepEqual(await readAll(s), Uint8Array.of(3, 4))

          // They finish writing first; we keep writing.
          const t = await peers.theirs.createStream()
          const tData = jsReadAll(t)
          t.send(Uint8Array.of(5))
          await t.close()
          const u = await peers.oursInbox.next()
          assert.deepEqual(await readAll(u), Uint8Array.of(5))
          await u.write(Uint8Array.of(6, 7))
          await u.closeWrite()
          assert.deepEqual(await tData, Uint8Array.of(6, 7))
          await u.closed
          assert.equal(u.status, 'closed')
        } finally {
          peers.close()
        }
      })

      test('resets reach the other implementation', T, async () => {
        const peers = await connectPeers(ourFactory(), jsFactory(), weDial)
        try {
          const s = await peers.ours.newStream()
          await s.write(Uint8Array.of(1))
          const { stream: r } = await peers.nextTheirs()
          const closed = new Promise<Event>(resolve => r.addEventListener('close', resolve, { once: true }))
          s.abort(new Error('we reset'))
          await closed
          assert.equal(r.status, 'reset')

          const t = await peers.theirs.createStream()
          t.send(Uint8Array.of(2))
          const u = await peers.oursInbox.next()
          assert.deepEqual(await u.read(), Uint8Array.of(2))
          const pending = u.read()
          t.abort(new Error('they reset'))
          await assert.rejects(pending, StreamResetError)
        } finally {
          peers.close()
        }
      })

      test('our graceful close delivers data written just before it', T, async () => {
        const peers = await connectPeers(ourFactory(), jsFactory(), weDial)
        const data = testData(2 * 1024 * 1024, 9)
        const s = await peers.ours.newStream()
        const writing = writeAll(s, data, 64 * 1024)
        const { stream: r, data: received } = await peers.nextTheirs()
        const reading = received.then(async (got) => { await r.close(); return got })
        await writing
        await peers.ours.close()
        assert.ok(Buffer.from(await reading).equals(data))
        peers.close()
      })
    })
  }
}
