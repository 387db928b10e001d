/**
 * The browser runtime of the WebSockets transport (websockets/runtime.browser.ts), run here against the
 * WHATWG WebSocket that Node 22+ ships as a global, and our Node listener.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer as createNetServer } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { WebSocketServer } from 'ws'
import { WebSocketsTransport, DEFAULT_CLOSE_TIMEOUT, DEFAULT_DIAL_TIMEOUT, DEFAULT_MAX_MESSAGE_SIZE } from '../../../src/transport/websockets/index.ts'
import type { WebSocketsOptions } from '../../../src/transport/websockets/index.ts'
import { parseWebSocketAddr } from '../../../src/transport/websockets/addrs.ts'
import { canListen, createWebSocketListener, dialWebSocket } from '../../../src/transport/websockets/runtime.browser.ts'
import type { RawConnection } from '../../../src/interface/transport.ts'
import { logger } from '../../../src/util/logger.ts'
import { listen, readAll, readExactly, writeAll } from '../conformance.ts'
import { isNodeOnlySpecifier, reachableFrom } from '../../support/import-graph.ts'

async function browserDial (addr: Multiaddr, options: { signal?: AbortSignal, dialTimeout?: number, writeHighWaterMark?: number } = {}): Promise<RawConnection> {
  return await dialWebSocket({
    target: parseWebSocketAddr(addr)!,
    addr,
    signal: options.signal,
    dialTimeout: options.dialTimeout ?? DEFAULT_DIAL_TIMEOUT,
    maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
    readHighWaterMark: 256 * 1024,
    writeHighWaterMark: options.writeHighWaterMark ?? 256 * 1024,
    closeTimeout: DEFAULT_CLOSE_TIMEOUT,
    log: logger('websockets-web-test')
  })
}

async function withListener (options: WebSocketsOptions, fn: (ctx: Awaited<ReturnType<typeof listen>>) => Promise<void>): Promise<void> {
  const ctx = await listen(new WebSocketsTransport(options), '/ip4/127.0.0.1/tcp/0/ws')
  try {
    await fn(ctx)
  } finally {
    await ctx.listener.close()
  }
}

function pattern (length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed
  for (let i = 0; i < length; i++) { x = (x * 1103515245 + 12345) >>> 0; out[i] = x >>> 24 }
  return out
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

test('the browser runtime cannot listen', () => {
  assert.equal(canListen, false)
  assert.throws(() => createWebSocketListener({ onConnection () {} }, {} as never), { code: 'ERR_INVALID_PARAMETERS' })
})

test('a browser dial carries bytes both ways byte-exact', async () => {
  await withListener({}, async ({ addr, accepted }) => {
    const client = await browserDial(multiaddr(`${addr.toString()}/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN`))
    const server = await accepted.next()
    assert.equal(client.direction, 'outbound')
    assert.equal(client.remoteAddr.toString(), addr.toString())
    const up = pattern(4 * 1024 * 1024, 1)
    const down = pattern(4 * 1024 * 1024, 2)
    const [, , gotUp, gotDown] = await Promise.all([
      writeAll(client, up, 65_536),
      writeAll(server, down, 16_384),
      readExactly(server, up.length),
      readExactly(client, down.length)
    ])
    assert.equal(sha256(gotUp), sha256(up))
    assert.equal(sha256(gotDown), sha256(down))
    await client.close()
    assert.equal(await server.read(), null)
    await Promise.all([client.closed, server.closed])
    assert.equal(client.status, 'closed')
    assert.equal(server.status, 'closed')
  })
})

test('a browser closeWrite ends the connection after the data; a remote Close ends ours', async () => {
  await withListener({}, async ({ addr, accepted }) => {
    const client = await browserDial(addr)
    const server = await accepted.next()
    await client.write(new TextEncoder().encode('request'))
    await client.closeWrite()
    assert.equal(new TextDecoder().decode(await readAll(server)), 'request')
    await Promise.all([client.closed, server.closed])
    assert.equal(client.error, undefined)

    const second = await browserDial(addr)
    const secondServer = await accepted.next()
    await secondServer.write(Uint8Array.of(9))
    await secondServer.close()
    assert.deepEqual([...await readAll(second)], [9])
    await second.closed
    assert.equal(second.status, 'closed')
    assert.throws(() => second.send(Uint8Array.of(1)))
  })
})

test('a browser abort is a reset for the remote, and a remote abort is one for the browser', async () => {
  await withListener({}, async ({ addr, accepted }) => {
    const client = await browserDial(addr)
    const server = await accepted.next()
    const pending = server.read()
    client.abort(new Error('local failure'))
    assert.equal(client.status, 'aborted')
    await assert.rejects(pending, { code: 'ERR_STREAM_RESET' })

    const second = await browserDial(addr)
    const secondServer = await accepted.next()
    const pending2 = second.read()
    secondServer.abort(new Error('remote failure'))
    await assert.rejects(pending2, { code: 'ERR_STREAM_RESET' })
    await second.closed
    assert.equal(second.status, 'reset')
  })
})

test('a browser sender sees backpressure when the remote stops reading, and drains', async () => {
  await withListener({ readHighWaterMark: 64 * 1024 }, async ({ addr, accepted }) => {
    const client = await browserDial(addr, { writeHighWaterMark: 64 * 1024 })
    const server = await accepted.next()
    const chunk = new Uint8Array(64 * 1024)
    let sent = 0
    // The browser API only reports bytes it has not handed to the network; keep sending until
    // the kernel buffers are full and bufferedAmount climbs.
    while (client.send(chunk)) {
      sent += chunk.length
      assert.ok(sent < 512 * 1024 * 1024, 'backpressure never arrived')
      if (sent % (4 * 1024 * 1024) === 0) await new Promise(resolve => setTimeout(resolve, 1))
    }
    sent += chunk.length
    const reading = readExactly(server, sent)
    await client.drain({ signal: AbortSignal.timeout(10_000) })
    assert.equal((await reading).length, sent)
    await Promise.all([client.close(), server.closed])
  })
})

test('a text message from the server fails the browser connection with InvalidMessageError', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise(resolve => wss.once('listening', resolve))
  wss.on('connection', (ws) => { ws.send(new Uint8Array([1])); ws.send('text') })
  try {
    const port = (wss.address() as { port: number }).port
    const client = await browserDial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws`))
    assert.deepEqual(await client.read(), Uint8Array.of(1))
    await assert.rejects(client.read(), { code: 'ERR_INVALID_MESSAGE' })
  } finally {
    for (const ws of wss.clients) ws.terminate()
    await new Promise(resolve => wss.close(resolve))
  }
})

test('browser dials fail with typed errors: refused, aborted, timed out', async () => {
  const ctx = await listen(new WebSocketsTransport(), '/ip4/127.0.0.1/tcp/0/ws')
  const addr = ctx.addr
  await assert.rejects(browserDial(addr, { signal: AbortSignal.abort() }), { code: 'ABORT_ERR' })
  const controller = new AbortController()
  const dialing = browserDial(addr, { signal: controller.signal })
  controller.abort()
  await assert.rejects(dialing, { code: 'ABORT_ERR' })
  await ctx.listener.close()
  await assert.rejects(browserDial(addr), { code: 'ERR_CONNECTION_FAILED' })
  const silent = createNetServer((socket) => { socket.resume() })
  await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
  try {
    const port = (silent.address() as { port: number }).port
    await assert.rejects(browserDial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws`), { dialTimeout: 150 }), { code: 'ERR_TIMEOUT' })
  } finally {
    await new Promise(resolve => silent.close(resolve))
  }
})

test('src/transport/websockets/index.ts reaches no Node built-in and no ws when imports resolve for browsers', () => {
  const { files, bare } = reachableFrom('src/transport/websockets/index.ts', 'default')
  assert.ok([...files].some(f => f.endsWith('websockets/runtime.browser.ts')))
  assert.deepEqual([...files].filter(f => f.endsWith('.node.ts')), [])
  assert.deepEqual([...bare].filter(isNodeOnlySpecifier), [])
})
