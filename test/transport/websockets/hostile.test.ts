/**
 * Hostile input against the WebSockets listener: malformed HTTP, plain HTTP, bad upgrade
 * requests, silent sockets, text messages, oversized messages and random frame bytes. Each must
 * end in a typed error or a rejection with the socket closed, never a crash or a hang, and the
 * listener must keep serving honest clients afterwards.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { WebSocket } from 'ws'
import type { Multiaddr } from '@multiformats/multiaddr'
import { WebSocketsTransport } from '../../../src/transport/websockets/index.ts'
import type { WebSocketsOptions } from '../../../src/transport/websockets/index.ts'
import { listen } from '../conformance.ts'

const WAIT_MS = 10_000
const UPGRADE_REQUEST = 'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'

function portOf (addr: Multiaddr): number {
  return Number(addr.getComponents().find(c => c.name === 'tcp')?.value)
}

/** Sends `bytes` on a plain TCP socket and collects the answer until the server closes it. */
async function rawExchange (port: number, bytes: string | Uint8Array): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`the server did not close the socket; got ${JSON.stringify(answer)}`)) }, WAIT_MS)
    socket.on('data', (d: Buffer) => { answer += d.toString('latin1') })
    socket.on('error', () => {})
    socket.on('close', () => { clearTimeout(timer); resolve(answer) })
    if (bytes.length > 0) socket.write(bytes)
  })
}

async function withListener (options: WebSocketsOptions, fn: (ctx: Awaited<ReturnType<typeof listen>> & { transport: WebSocketsTransport, port: number }) => Promise<void>): Promise<void> {
  const transport = new WebSocketsTransport(options)
  const ctx = await listen(transport, '/ip4/127.0.0.1/tcp/0/ws')
  try {
    await fn({ ...ctx, transport, port: portOf(ctx.addr) })
    // Whatever happened before, an honest client still gets through.
    const client = await transport.dial(ctx.addr)
    const server = await ctx.accepted.next()
    await client.write(Uint8Array.of(42))
    assert.deepEqual(await server.read(), Uint8Array.of(42))
    await Promise.all([client.close(), server.close()])
  } finally {
    await ctx.listener.close()
  }
}

/** Opens a ws client and waits for it to be open. */
async function openWs (port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false })
  ws.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('close', (code) => { reject(new Error(`closed with ${code}`)) })
  })
  return ws
}

function closeCodeOf (ws: WebSocket): Promise<number> {
  return new Promise(resolve => { ws.once('close', (code: number) => { resolve(code) }) })
}

test('malformed HTTP gets 400 and the socket is closed', async () => {
  await withListener({}, async ({ port, accepted }) => {
    assert.match(await rawExchange(port, 'GARBAGE GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400 /)
    assert.match(await rawExchange(port, new Uint8Array(4096).fill(0xff)), /^HTTP\/1\.1 400 /)
    // Headers beyond the 8 KiB limit.
    assert.match(await rawExchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 4\d\d /)
    assert.equal(accepted.connections.length, 0)
  })
})

test('a plain HTTP request gets 426 Upgrade Required', async () => {
  await withListener({}, async ({ port, accepted }) => {
    assert.match(await rawExchange(port, 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'), /^HTTP\/1\.1 426 /)
    assert.equal(accepted.connections.length, 0)
  })
})

test('an invalid upgrade request is rejected with 400', async () => {
  await withListener({}, async ({ port, accepted }) => {
    const noKey = 'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n'
    assert.match(await rawExchange(port, noKey), /^HTTP\/1\.1 400 /)
    const badVersion = UPGRADE_REQUEST.replace('Version: 13', 'Version: 99')
    assert.match(await rawExchange(port, badVersion), /^HTTP\/1\.1 400 /)
    const post = UPGRADE_REQUEST.replace('GET', 'POST')
    assert.match(await rawExchange(port, post), /^HTTP\/1\.1 [45]\d\d /)
    assert.equal(accepted.connections.length, 0)
  })
})

test('a socket that never completes its upgrade is dropped after handshakeTimeout', async () => {
  await withListener({ handshakeTimeout: 200 }, async ({ port, accepted }) => {
    const started = Date.now()
    // Silent, then a request that stops half-way through its headers.
    await rawExchange(port, '')
    await rawExchange(port, 'GET / HTTP/1.1\r\nHost: local')
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`)
    assert.equal(accepted.connections.length, 0)
  })
})

test('a text message fails the connection with InvalidMessageError and close code 1003', async () => {
  await withListener({}, async ({ port, accepted }) => {
    const ws = await openWs(port)
    const server = await accepted.next()
    const closing = closeCodeOf(ws)
    ws.send(new Uint8Array([1, 2]))
    assert.deepEqual(await server.read(), Uint8Array.of(1, 2))
    ws.send('hello')
    await assert.rejects(server.read(), { code: 'ERR_INVALID_MESSAGE' })
    assert.equal(await closing, 1003)
    await server.closed
    assert.equal(server.status, 'reset')
  })
})

test('a message above maxMessageSize fails the connection with MessageTooLargeError and close code 1009', async () => {
  await withListener({ maxMessageSize: 64 * 1024 }, async ({ port, accepted }) => {
    const ws = await openWs(port)
    const server = await accepted.next()
    const closing = closeCodeOf(ws)
    ws.send(new Uint8Array(64 * 1024))
    assert.equal((await server.read())?.length, 64 * 1024)
    ws.send(new Uint8Array(64 * 1024 + 1))
    await assert.rejects(server.read(), { code: 'ERR_MESSAGE_TOO_LARGE' })
    assert.equal(await closing, 1009)
  })
})

test('our dialer fails with a typed error when the listener rejects its message size', async () => {
  const small = new WebSocketsTransport({ maxMessageSize: 1024 })
  const { listener, addr, accepted } = await listen(small, '/ip4/127.0.0.1/tcp/0/ws')
  try {
    // Our own sender cuts messages at 256 KiB, so only a listener with a tiny limit sees this.
    const client = await new WebSocketsTransport().dial(addr)
    const server = await accepted.next()
    client.send(new Uint8Array(2048))
    await assert.rejects(server.read(), { code: 'ERR_MESSAGE_TOO_LARGE' })
    await assert.rejects(client.read(), { code: 'ERR_STREAM_RESET' })
  } finally {
    await listener.close()
  }
})

test('random bytes after a valid upgrade end in a typed error, never a crash', async () => {
  await withListener({ maxMessageSize: 64 * 1024 }, async ({ port, accepted }) => {
    for (let seed = 1; seed <= 20; seed++) {
      const socket = connect(port, '127.0.0.1')
      socket.on('error', () => {})
      const gone = new Promise(resolve => socket.once('close', resolve))
      await new Promise<void>((resolve, reject) => {
        let head = ''
        socket.on('data', function onData (d: Buffer) {
          head += d.toString('latin1')
          if (head.includes('\r\n\r\n')) {
            socket.removeListener('data', onData)
            assert.match(head, /^HTTP\/1\.1 101 /)
            resolve()
          }
        })
        socket.once('close', () => { reject(new Error('closed before the upgrade')) })
        socket.write(UPGRADE_REQUEST)
      })
      const server = await accepted.next()
      socket.resume()
      // Random frame bytes (mostly: bad opcodes, reserved bits, unmasked frames, huge lengths),
      // then the socket ends so an incomplete frame cannot wait forever.
      let x = seed * 0x9E3779B9 >>> 0
      const garbage = new Uint8Array(256).map(() => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x & 0xff })
      socket.end(garbage)
      const outcome = await server.read({ signal: AbortSignal.timeout(WAIT_MS) }).then(
        async (chunk) => chunk === null ? 'eof' : await server.read().then(() => 'data', (err: Error & { code?: string }) => err.code),
        (err: Error & { code?: string }) => err.code)
      assert.ok(['ERR_INVALID_MESSAGE', 'ERR_MESSAGE_TOO_LARGE', 'ERR_STREAM_RESET'].includes(String(outcome)), `seed ${seed}: ${String(outcome)}`)
      await server.closed
      await gone
    }
  })
})

test('inbound connections beyond maxConnections get 503', async () => {
  await withListener({ maxConnections: 1 }, async ({ port, transport, addr, accepted }) => {
    const first = await transport.dial(addr)
    const firstServer = await accepted.next()
    assert.match(await rawExchange(port, UPGRADE_REQUEST), /^HTTP\/1\.1 503 /)
    await assert.rejects(transport.dial(addr), { code: 'ERR_CONNECTION_FAILED', message: /503/ })
    await Promise.all([first.close(), firstServer.closed])
  })
})
