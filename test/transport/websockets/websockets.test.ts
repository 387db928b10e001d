import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer as createNetServer } from 'node:net'
import type { Socket } from 'node:net'
import { createServer as createHttpServer } from 'node:http'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { webSockets, WebSocketsTransport } from '../../../src/transport/websockets/index.ts'
import { parseWebSocketAddr, toWebSocketUrl } from '../../../src/transport/websockets/addrs.ts'
import type { WebSocketTarget } from '../../../src/transport/websockets/addrs.ts'
import { transportConformance, listen, readExactly } from '../conformance.ts'

transportConformance({
  name: 'websockets',
  createTransport: (options) => webSockets(options)(),
  listenAddr: '/ip4/127.0.0.1/tcp/0/ws',
  listenAddrIPv6: '/ip6/::1/tcp/0/ws',
  listenAddrWildcard: '/ip4/0.0.0.0/tcp/0/ws',
  halfClose: false
})

const ma = (s: string): Multiaddr => multiaddr(s)
const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

test('parseWebSocketAddr understands every address shape of the spec', () => {
  const cases: Array<[string, Partial<WebSocketTarget> | undefined]> = [
    ['/ip4/192.0.2.0/tcp/1234/ws', { host: '192.0.2.0', port: 1234, secure: false, suffix: '/ws', path: '/', explicitPort: true }],
    ['/ip4/192.0.2.0/tcp/1234/tls/ws', { port: 1234, secure: true, suffix: '/tls/ws' }],
    ['/ip4/192.0.2.0/ws', { port: 80, secure: false, explicitPort: false }],
    ['/ip4/192.0.2.0/tls/ws', { port: 443, secure: true, explicitPort: false }],
    ['/ip4/192.0.2.0/wss', { port: 443, secure: true, suffix: '/wss' }],
    ['/dns/example.com/wss', { host: 'example.com', family: 0, port: 443, secure: true }],
    ['/dns/example.com/wss/http-path/path%2Fto%2Fendpoint', { path: '/path/to/endpoint', secure: true }],
    ['/ip4/1.2.3.4/tcp/443/tls/sni/example.com/ws', { host: '1.2.3.4', serverName: 'example.com', suffix: '/tls/sni/example.com/ws' }],
    ['/ip6/::1/tcp/4001/ws/p2p/' + PEER, { host: '::1', family: 6, peerId: PEER }],
    ['/dns4/example.com/tcp/80/ws', { host: 'example.com', family: 0 }],
    ['/ip4/1.2.3.4/tcp/4001', undefined],
    ['/ip4/1.2.3.4/tcp/4001/tls', undefined],
    ['/ip4/1.2.3.4/tcp/4001/ws/p2p-circuit', undefined],
    ['/ip4/1.2.3.4/udp/4001/quic-v1', undefined],
    ['/ip4/1.2.3.4/tcp/4001/ws/p2p/' + PEER + '/p2p-circuit', undefined],
    ['/memory/abc', undefined]
  ]
  for (const [text, expected] of cases) {
    const parsed = parseWebSocketAddr(ma(text))
    if (expected === undefined) {
      assert.equal(parsed, undefined, text)
    } else {
      assert.ok(parsed !== undefined, text)
      for (const [key, value] of Object.entries(expected)) assert.equal(parsed[key as keyof WebSocketTarget], value, `${text}: ${key}`)
    }
  }
})

test('toWebSocketUrl builds the ws:// and wss:// URLs', () => {
  const url = (s: string, hostFromServerName?: boolean): string => toWebSocketUrl(parseWebSocketAddr(ma(s))!, { hostFromServerName })
  assert.equal(url('/ip4/127.0.0.1/tcp/1234/ws'), 'ws://127.0.0.1:1234/')
  assert.equal(url('/ip6/::1/tcp/1234/ws'), 'ws://[::1]:1234/')
  assert.equal(url('/dns4/example.com/tcp/443/wss'), 'wss://example.com/')
  assert.equal(url('/dns4/example.com/tcp/80/ws'), 'ws://example.com/')
  assert.equal(url('/dns/example.com/wss/http-path/a%2Fb%20c'), 'wss://example.com/a/b%20c')
  assert.equal(url('/ip4/1.2.3.4/tcp/4443/tls/sni/example.com/ws'), 'wss://1.2.3.4:4443/')
  assert.equal(url('/ip4/1.2.3.4/tcp/4443/tls/sni/example.com/ws', true), 'wss://example.com:4443/')
})

test('dialFilter keeps WebSocket addresses only', () => {
  const transport = new WebSocketsTransport()
  const accepted = [
    '/ip4/1.2.3.4/tcp/4001/ws',
    '/ip6/::1/tcp/4001/ws',
    '/dns4/example.com/tcp/443/wss',
    '/dns/example.com/tls/ws',
    '/ip4/1.2.3.4/tcp/443/tls/sni/example.com/ws',
    '/ip4/1.2.3.4/tcp/4001/ws/p2p/' + PEER
  ]
  const rejected = [
    '/ip4/1.2.3.4/tcp/4001',
    '/ip4/1.2.3.4/tcp/0/ws',
    '/ip4/1.2.3.4/tcp/4001/ws/p2p/' + PEER + '/p2p-circuit/p2p/' + PEER,
    '/ip4/1.2.3.4/udp/4001/quic-v1',
    '/p2p-circuit'
  ]
  assert.deepEqual(transport.dialFilter([...accepted, ...rejected].map(ma)).map(String), accepted)
})

test('listenFilter keeps IP + TCP + ws, and secure addresses only with a certificate', () => {
  const plain = new WebSocketsTransport()
  const withTls = new WebSocketsTransport({ tls: { cert: 'cert', key: 'key' } })
  const addrs = ['/ip4/0.0.0.0/tcp/0/ws', '/ip6/::/tcp/4001/ws', '/ip4/127.0.0.1/tcp/0/tls/ws', '/ip4/127.0.0.1/tcp/0/wss',
    '/dns4/localhost/tcp/0/ws', '/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/ws', '/ip4/0.0.0.0/tcp/0/ws/p2p/' + PEER, '/ip4/0.0.0.0/tcp/0/tls/sni/a.b/ws']
  assert.deepEqual(plain.listenFilter(addrs.map(ma)).map(String), addrs.slice(0, 2))
  assert.deepEqual(withTls.listenFilter(addrs.map(ma)).map(String), addrs.slice(0, 4))
})

test('dialing or listening on a non-WebSocket address throws InvalidMultiaddrError', async () => {
  const transport = new WebSocketsTransport()
  await assert.rejects(transport.dial(ma('/ip4/127.0.0.1/tcp/1')), { code: 'ERR_INVALID_MULTIADDR' })
  const listener = transport.createListener({ onConnection () {} })
  await assert.rejects(listener.listen(ma('/ip4/127.0.0.1/tcp/0')), { code: 'ERR_INVALID_MULTIADDR' })
  // A secure listen address needs a certificate.
  await assert.rejects(listener.listen(ma('/ip4/127.0.0.1/tcp/0/tls/ws')), { code: 'ERR_INVALID_MULTIADDR', message: /no TLS certificate/ })
})

test('connections carry /ws addresses and a DNS name can be dialed', async () => {
  const transport = new WebSocketsTransport()
  const { listener, addr, accepted } = await listen(transport, '/ip4/127.0.0.1/tcp/0/ws')
  try {
    assert.match(addr.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws$/)
    const port = addr.getComponents()[1].value
    const client = await transport.dial(ma(`/dns4/localhost/tcp/${port}/ws/p2p/${PEER}`))
    const server = await accepted.next()
    assert.equal(client.remoteAddr.toString(), `/ip4/127.0.0.1/tcp/${port}/ws`)
    assert.equal(server.localAddr?.toString(), `/ip4/127.0.0.1/tcp/${port}/ws`)
    assert.equal(server.remoteAddr.toString(), client.localAddr?.toString())
    await Promise.all([client.close(), server.close()])
  } finally {
    await listener.close()
  }
})

test('a dial to a server that never answers the upgrade fails with TimeoutError after dialTimeout', async () => {
  const sockets: Socket[] = []
  const server = createNetServer((socket) => { sockets.push(socket); socket.resume() })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  try {
    const port = (server.address() as { port: number }).port
    const transport = new WebSocketsTransport({ dialTimeout: 150 })
    const started = Date.now()
    await assert.rejects(transport.dial(ma(`/ip4/127.0.0.1/tcp/${port}/ws`)), { code: 'ERR_TIMEOUT' })
    assert.ok(Date.now() - started < 5000)
    // The half-open socket was dropped by the dialer.
    await Promise.all(sockets.map(async s => await new Promise(resolve => { if (s.destroyed) resolve(undefined); else s.once('close', resolve) })))
  } finally {
    for (const s of sockets) s.destroy()
    await new Promise(resolve => server.close(resolve))
  }
})

test('a server answering the upgrade with an HTTP error fails the dial with ConnectionFailedError', async () => {
  const server = createHttpServer((_req, res) => { res.writeHead(404); res.end() })
  server.on('upgrade', (_req, socket: Socket) => { socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n') })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  try {
    const port = (server.address() as { port: number }).port
    await assert.rejects(new WebSocketsTransport().dial(ma(`/ip4/127.0.0.1/tcp/${port}/ws`)), { code: 'ERR_CONNECTION_FAILED', message: /404/ })
  } finally {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  }
})

test('a slow reader pauses the socket and the sender sees backpressure', async () => {
  const transport = new WebSocketsTransport({ readHighWaterMark: 64 * 1024, writeHighWaterMark: 64 * 1024 })
  const { listener, addr, accepted } = await listen(transport, '/ip4/127.0.0.1/tcp/0/ws')
  try {
    const client = await transport.dial(addr)
    const server = await accepted.next()
    const chunk = new Uint8Array(16 * 1024)
    let sent = 0
    while (client.send(chunk)) {
      sent += chunk.length
      assert.ok(sent < 256 * 1024 * 1024, 'backpressure never arrived')
    }
    sent += chunk.length
    const buffered = await new Promise<number>(resolve => { setImmediate(() => { resolve(server.readableLength) }) })
    assert.ok(buffered <= 64 * 1024 + 1024 * 1024, `buffered ${buffered} bytes`)
    const reading = readExactly(server, sent)
    await client.drain()
    const got = await reading
    assert.equal(got.length, sent)
    await Promise.all([client.close(), server.closed])
  } finally {
    await listener.close()
  }
})

test('a send larger than the remote message limit goes out as several messages', async () => {
  const transport = new WebSocketsTransport({ maxMessageSize: 300 * 1024 })
  const { listener, addr, accepted } = await listen(transport, '/ip4/127.0.0.1/tcp/0/ws')
  try {
    const client = await transport.dial(addr)
    const server = await accepted.next()
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i & 0xff)
    await client.write(big)
    const got = await readExactly(server, big.length)
    assert.deepEqual(got, big)
    await Promise.all([client.close(), server.closed])
    assert.equal(server.error, undefined)
  } finally {
    await listener.close()
  }
})

test('a remote Close while we still write ends our write side (no half-close)', async () => {
  const transport = new WebSocketsTransport()
  const { listener, addr, accepted } = await listen(transport, '/ip4/127.0.0.1/tcp/0/ws')
  try {
    const client = await transport.dial(addr)
    const server = await accepted.next()
    await server.close()
    assert.equal(await client.read(), null)
    await client.closed
    assert.equal(client.status, 'closed')
    assert.equal(client.writeStatus, 'closed')
    assert.throws(() => client.send(Uint8Array.of(1)), { code: 'ERR_STREAM_CLOSED' })
  } finally {
    await listener.close()
  }
})

test('a sender that keeps writing after the remote closed gets StreamClosedError, never a wedged drain', async () => {
  const transport = new WebSocketsTransport({ writeHighWaterMark: 64 * 1024 })
  const { listener, addr, accepted } = await listen(transport, '/ip4/127.0.0.1/tcp/0/ws')
  try {
    const client = await transport.dial(addr)
    const server = await accepted.next()
    const chunk = new Uint8Array(32 * 1024)
    const writing = (async () => {
      for (let i = 0; i < 100_000; i++) await client.write(chunk, { signal: AbortSignal.timeout(10_000) })
    })()
    assert.ok((await server.read())!.length > 0)
    await server.close()
    await assert.rejects(writing, { code: 'ERR_STREAM_CLOSED' })
    await client.closed
  } finally {
    await listener.close()
  }
})
