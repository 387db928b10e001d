import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect } from 'node:net'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { multiaddr } from '@multiformats/multiaddr'
import { tcp, TcpTransport } from '../../../src/transport/tcp/index.ts'
import { TimeoutError } from '../../../src/util/errors.ts'
import { transportConformance, listen, readAll } from '../conformance.ts'

transportConformance({
  name: 'tcp',
  createTransport: (options) => tcp(options)(),
  listenAddr: '/ip4/127.0.0.1/tcp/0',
  listenAddrIPv6: '/ip6/::1/tcp/0',
  listenAddrWildcard: '/ip4/0.0.0.0/tcp/0'
})

const ma = (s: string): ReturnType<typeof multiaddr> => multiaddr(s)

test('dialFilter keeps plain TCP addresses only', () => {
  const transport = new TcpTransport()
  const accepted = [
    '/ip4/1.2.3.4/tcp/4001',
    '/ip6/::1/tcp/4001',
    '/dns4/example.com/tcp/4001',
    '/dns6/example.com/tcp/4001',
    '/dns/example.com/tcp/4001',
    '/ip4/1.2.3.4/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
  ]
  const rejected = [
    '/ip4/1.2.3.4/tcp/4001/ws',
    '/ip4/1.2.3.4/tcp/4001/wss',
    '/ip4/1.2.3.4/tcp/4001/tls/ws',
    '/ip4/1.2.3.4/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit',
    '/ip4/1.2.3.4/udp/4001/quic-v1',
    '/ip4/1.2.3.4/tcp/0',
    '/p2p-circuit',
    '/memory/abc'
  ]
  assert.deepEqual(transport.dialFilter([...accepted, ...rejected].map(ma)).map(String), accepted)
})

test('listenFilter keeps IP + TCP addresses only', () => {
  const transport = new TcpTransport()
  const accepted = ['/ip4/0.0.0.0/tcp/0', '/ip6/::/tcp/4001', '/ip4/127.0.0.1/tcp/1234']
  const rejected = ['/ip4/0.0.0.0/tcp/0/ws', '/dns4/localhost/tcp/0', '/ip4/0.0.0.0/udp/0/quic-v1', '/p2p-circuit']
  assert.deepEqual(transport.listenFilter([...accepted, ...rejected].map(ma)).map(String), accepted)
})

test('dialing or listening on a non-TCP address throws InvalidMultiaddrError', async () => {
  const transport = new TcpTransport()
  await assert.rejects(transport.dial(ma('/ip4/127.0.0.1/tcp/1/ws')), { code: 'ERR_INVALID_MULTIADDR' })
  const listener = transport.createListener({ onConnection () {} })
  await assert.rejects(listener.listen(ma('/ip4/127.0.0.1/udp/0/quic-v1')), { code: 'ERR_INVALID_MULTIADDR' })
})

test('dial by DNS name', async () => {
  const transport = new TcpTransport()
  const { listener, addr, accepted } = await listen(transport, '/ip4/127.0.0.1/tcp/0')
  try {
    const port = addr.getComponents()[1].value
    const client = await transport.dial(ma(`/dns4/localhost/tcp/${port}`))
    const server = await accepted.next()
    assert.equal(client.remoteAddr.toString(), `/ip4/127.0.0.1/tcp/${port}`)
    await Promise.all([client.close(), server.close()])
  } finally {
    await listener.close()
  }
})

/**
 * A loopback port that never answers a SYN: a listener with backlog 0 that never accepts holds
 * one connection in its accept queue; once that one is queued, Linux drops further SYNs without
 * a reply (tcp_abort_on_overflow is 0 by default), which is what a silent remote looks like.
 * Node's net.Server always accepts, so the listener is a small Python program (python3 is one
 * of the system packages the tests install).
 */
async function silentLoopbackPort (): Promise<{ port: number, close: () => void }> {
  const program = "import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()"
  const child = spawn('python3', ['-c', program], { stdio: ['pipe', 'pipe', 'inherit'] })
  const port = Number(await new Promise<string>((resolve, reject) => {
    child.once('error', reject)
    child.stdout.once('data', (data: Buffer) => { resolve(data.toString().trim()) })
  }))
  const filler = connect(port, '127.0.0.1')
  await once(filler, 'connect')
  return { port, close: () => { filler.destroy(); child.kill() } }
}

test('a dial that gets no answer fails with TimeoutError after dialTimeout', async () => {
  const silent = await silentLoopbackPort()
  try {
    const transport = new TcpTransport({ dialTimeout: 100, dialPort: false })
    const started = Date.now()
    await assert.rejects(transport.dial(ma(`/ip4/127.0.0.1/tcp/${silent.port}`)), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_TIMEOUT', err.message)
      return true
    })
    assert.ok(Date.now() - started < 5000)
  } finally {
    silent.close()
  }
})

test('a slow reader pauses the socket and the sender sees backpressure', async () => {
  const transport = new TcpTransport({ readHighWaterMark: 64 * 1024 })
  const { listener, addr, accepted } = await listen(transport, '/ip4/127.0.0.1/tcp/0')
  try {
    const client = await transport.dial(addr)
    const server = await accepted.next()
    const chunk = new Uint8Array(64 * 1024)
    let sent = 0
    // Without reading on the server, the kernel buffers and our 64 KiB read buffer fill up and
    // send() must eventually report backpressure; the bound proves buffering is finite.
    while (client.send(chunk)) {
      sent += chunk.length
      assert.ok(sent < 256 * 1024 * 1024, 'backpressure never arrived')
    }
    sent += chunk.length
    // The receiver buffered a bounded amount while the socket was paused.
    const buffered = await new Promise<number>(resolve => { setImmediate(() => { resolve(server.readableLength) }) })
    assert.ok(buffered <= 64 * 1024 + 256 * 1024, `buffered ${buffered} bytes`)
    const reading = readAll(server)
    await client.drain()
    await client.closeWrite()
    const got = await reading
    assert.equal(got.length, sent)
    await server.close()
  } finally {
    await listener.close()
  }
})

test('a remote that closes without FIN after our half-close still gives us its data', async () => {
  // A plain node:net server that answers and closes: the FIN must arrive as end-of-stream.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('data', () => {})
    socket.on('end', () => { socket.end('bye') })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  try {
    const port = (server.address() as { port: number }).port
    const conn = await new TcpTransport().dial(ma(`/ip4/127.0.0.1/tcp/${port}`))
    await conn.write(Uint8Array.of(1))
    await conn.closeWrite()
    assert.equal(new TextDecoder().decode(await readAll(conn)), 'bye')
    await conn.closed
    assert.equal(conn.status, 'closed')
  } finally {
    await new Promise(resolve => server.close(resolve))
  }
})

test('a remote that destroys the socket resets our connection', async () => {
  const server = createServer((socket) => { socket.once('data', () => { socket.resetAndDestroy() }) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  try {
    const port = (server.address() as { port: number }).port
    const conn = await new TcpTransport().dial(ma(`/ip4/127.0.0.1/tcp/${port}`))
    conn.send(Uint8Array.of(1))
    await assert.rejects(conn.read(), { code: 'ERR_STREAM_RESET' })
    await conn.closed
    assert.equal(conn.status, 'reset')
  } finally {
    await new Promise(resolve => server.close(resolve))
  }
})

test('a typed reason on the dial signal (e.g. a TimeoutError from a combined signal) is kept', async () => {
  const transport = new TcpTransport()
  const { listener, addr } = await listen(transport, '/ip4/127.0.0.1/tcp/0')
  try {
    const controller = new AbortController()
    const dialing = transport.dial(addr, { signal: controller.signal })
    controller.abort(new TimeoutError('overall dial budget spent'))
    await assert.rejects(dialing, { code: 'ERR_TIMEOUT', message: 'overall dial budget spent' })
  } finally {
    await listener.close()
  }
})

test('closeRead discards incoming bytes without stalling the remote writer', async () => {
  const transport = new TcpTransport({ readHighWaterMark: 16 * 1024 })
  const { listener, addr, accepted } = await listen(transport, '/ip4/127.0.0.1/tcp/0')
  try {
    const client = await transport.dial(addr)
    const server = await accepted.next()
    server.closeRead()
    // 8 MiB is far beyond every buffer on the way: it only completes if the receiver keeps reading.
    const payload = new Uint8Array(8 * 1024 * 1024)
    for (let o = 0; o < payload.length; o += 65536) await client.write(payload.subarray(o, o + 65536))
    await client.closeWrite()
    await server.closeWrite()
    assert.equal(await client.read(), null)
    await Promise.all([client.closed, server.closed])
  } finally {
    await listener.close()
  }
})

test('sendOwned delivers the bytes and frees each large owned chunk once written, and only those', async () => {
  const transport = new TcpTransport()
  const { listener, addr, accepted } = await listen(transport, '/ip4/127.0.0.1/tcp/0')
  try {
    const client = await transport.dial(addr)
    const server = await accepted.next()
    assert.equal(typeof client.sendOwned, 'function')
    const owned = Array.from({ length: 32 }, (_, i) => new Uint8Array(64 * 1024).fill(i))
    const small = new Uint8Array(100).fill(200)
    const shared = new Uint8Array(128 * 1024).fill(201)
    const view = shared.subarray(0, 64 * 1024)
    const expected = Buffer.concat([...owned, small, view])
    const received = readAll(server)
    for (const chunk of owned) if (!client.sendOwned!(chunk)) await client.drain()
    client.sendOwned!(small)
    client.sendOwned!(view)
    const notOwned = new Uint8Array(64 * 1024).fill(202)
    client.send(notOwned)
    await client.closeWrite()
    assert.deepEqual(await received, Buffer.concat([expected, notOwned]))
    // written and freed: every large owned chunk's memory is gone (detached) ...
    for (const chunk of owned) assert.equal(chunk.byteLength, 0)
    // ... but neither a small one (not worth it), nor a view of a larger buffer, nor a send()
    assert.equal(small.byteLength, 100)
    assert.equal(view.byteLength, 64 * 1024)
    assert.equal(shared[100_000], 201)
    assert.equal(notOwned.byteLength, 64 * 1024)
    await server.closeWrite()
    await Promise.all([client.closed, server.closed])
  } finally {
    await listener.close()
  }
})
