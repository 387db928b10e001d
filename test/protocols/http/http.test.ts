/**
 * HTTP over libp2p between two real ts-libp2p nodes (TCP, Noise, Yamux): handlers by path,
 * the well-known document, fetch by peer id / multiaddr URI / protocol id, streaming bodies
 * both ways with backpressure, and keep-alive on one stream when the server allows it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../../src/index.ts'
import { http, HttpService, fromNodeListener, type HttpServiceOptions } from '../../../src/protocols/http/index.ts'
import { HttpStreamReader } from '../../../src/protocols/http/reader.ts'
import { responseFraming } from '../../../src/protocols/http/head.ts'

async function pair (serverOptions: HttpServiceOptions = {}) {
  const server = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, services: { http: http(serverOptions) } })
  const client = await createLibp2p({ services: { http: http() } })
  const addr = server.getMultiaddrs()[0]
  return { server, client, addr, async stop () { await client.stop(); await server.stop() } }
}

test('handlers by path, the well-known document, fetch by peer id, multiaddr URI and protocol id', async (t) => {
  const { server, client, addr, stop } = await pair()
  t.after(stop)
  const seen: string[] = []
  server.services.http.handle('/', () => new Response('root'))
  server.services.http.handle('/kad/', (req) => { seen.push(new URL(req.url).pathname); return new Response('kad') }, { protocol: '/ipfs/kad/1.0.0' })
  server.services.http.handle('/kad/special', (req, ctx) => new Response(`special for ${ctx.peer.toString()} ${req.headers.get('x-q')}`), { protocol: '/special/1' })
  await client.dial(addr)

  const root = await client.services.http.fetch(server.peerId, { path: '/nothing/here' })
  assert.equal(root.status, 200)
  assert.equal(await root.text(), 'root')
  const kad = await client.services.http.fetch(server.peerId, { path: '/kad/x?y=1' })
  assert.equal(await kad.text(), 'kad')
  assert.deepEqual(seen, ['/kad/x'])
  const special = await client.services.http.fetch(`multiaddr:${addr.toString()}/http-path/kad%2Fspecial`, { headers: { 'x-q': 'v' } })
  assert.equal(await special.text(), `special for ${client.peerId.toString()} v`)

  const wellKnown = await client.services.http.fetch(server.peerId, { path: '/.well-known/libp2p/protocols' })
  assert.equal(wellKnown.headers.get('content-type'), 'application/json')
  assert.deepEqual(await wellKnown.json(), { '/ipfs/kad/1.0.0': { path: '/kad/' }, '/special/1': { path: '/kad/special' } })
  assert.deepEqual(await client.services.http.getPeerProtocolMap(server.peerId), server.services.http.getProtocolMap())
  const byProtocol = await client.services.http.fetchProtocol(server.peerId, '/special/1', '', { headers: { 'x-q': 'p' } })
  assert.match(await byProtocol.text(), / p$/)
  await assert.rejects(client.services.http.fetchProtocol(server.peerId, '/absent/1'), { code: 'ERR_HTTP_PROTOCOL_NOT_FOUND' })

  server.services.http.unhandle('/')
  const missing = await client.services.http.fetch(server.peerId, { path: '/nothing' })
  assert.equal(missing.status, 404)
  await missing.body?.cancel()
  const head = await client.services.http.fetch(server.peerId, { path: '/kad/', method: 'HEAD' })
  assert.equal(head.status, 200)
  assert.equal(head.body, null)
})

test('request and response bodies stream both ways: a chunked 3 MiB upload echoed back', async (t) => {
  const { server, client, addr, stop } = await pair({ limits: { maxBodyBytes: 8 * 1024 * 1024 } })
  t.after(stop)
  server.services.http.handle('/echo', (req) => new Response(req.body, { headers: { 'x-method': req.method } }))
  await client.dial(addr)
  const size = 3 * 1024 * 1024
  let sent = 0
  const upload = new ReadableStream<Uint8Array>({
    pull (controller) {
      if (sent >= size) { controller.close(); return }
      const chunk = new Uint8Array(64 * 1024).map((_, i) => (sent + i) & 0xff)
      sent += chunk.length
      controller.enqueue(chunk)
    }
  })
  const res = await client.services.http.fetch(server.peerId, { path: '/echo', method: 'PUT', body: upload })
  assert.equal(res.headers.get('x-method'), 'PUT')
  assert.equal(res.headers.get('transfer-encoding'), 'chunked')
  const back = new Uint8Array(await res.arrayBuffer())
  assert.equal(back.length, size)
  for (let i = 0; i < size; i += 4099) assert.equal(back[i], i & 0xff)

  // a known-length body goes with Content-Length
  const fixed = await client.services.http.fetch(server.peerId, { path: '/echo', method: 'POST', body: 'hello' })
  assert.equal(await fixed.text(), 'hello')
})

test('backpressure: a client that stops reading stops the server\'s producer', async (t) => {
  const { server, client, addr, stop } = await pair()
  t.after(stop)
  let produced = 0
  const chunk = new Uint8Array(64 * 1024)
  server.services.http.handle('/big', () => new Response(new ReadableStream<Uint8Array>({
    pull (controller) {
      produced += chunk.length
      controller.enqueue(chunk)
      if (produced >= 256 * 1024 * 1024) controller.close()
    }
  }, { highWaterMark: 0 })))
  await client.dial(addr)
  const res = await client.services.http.fetch(server.peerId, { path: '/big' })
  const reader = res.body!.getReader()
  const first = await reader.read()
  assert.ok(first.value !== undefined && first.value.length > 0)
  // let the server run as far as flow control allows, then check it stopped far short
  const settled = async (): Promise<number> => {
    let last = -1
    while (last !== produced) {
      last = produced
      await new Promise(resolve => setImmediate(resolve))
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    return produced
  }
  const held = await settled()
  assert.ok(held < 32 * 1024 * 1024, `server produced ${held} bytes for a client that read one chunk`)
  await reader.cancel()
})

test('keep-alive: a server that allows it answers several requests on one stream', async (t) => {
  const { server, client, addr, stop } = await pair({ keepAlive: true })
  t.after(stop)
  let n = 0
  server.services.http.handle('/n', async (req) => new Response(`${++n}:${await req.text()}`))
  const connection = await client.dial(addr)
  const stream = await connection.newStream('/http/1.1')
  const reader = new HttpStreamReader(stream)
  const enc = new TextEncoder()
  const readOne = async (): Promise<{ text: string, connection: string | undefined }> => {
    const head = await reader.readResponseHead()
    const body = reader.bodyReader(responseFraming(head, 'POST'))
    let text = ''
    for (let c = await body.next(); c !== null; c = await body.next()) text += new TextDecoder().decode(c)
    return { text, connection: head.headers.find(([k]) => k.toLowerCase() === 'connection')?.[1] }
  }
  await stream.write(enc.encode('POST /n HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na'))
  assert.deepEqual(await readOne(), { text: '1:a', connection: undefined })
  await stream.write(enc.encode('POST /n HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n'))
  assert.deepEqual(await readOne(), { text: '2:b', connection: undefined })
  await stream.write(enc.encode('POST /n HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1\r\n\r\nc'))
  assert.deepEqual(await readOne(), { text: '3:c', connection: 'close' })
  assert.equal(await stream.read(), null)
})

test('the service is a plain class too: no node needed to route a Request', async () => {
  const service = new HttpService({ registrar: {} as never, connectionManager: {} as never, logger: () => Object.assign(() => {}, { enabled: false }) as never })
  service.handle('/a', () => new Response('a'), { protocol: '/a/1' })
  const res = await service.onRequest(new Request('http://x/a/b'), { peer: {} as never })
  assert.equal(await res.text(), 'a')
  assert.deepEqual(service.getProtocolMap(), { '/a/1': { path: '/a' } })
})

test('Node http-style handlers on libp2p streams: req as a Readable, res as a Writable with backpressure', async (t) => {
  const { server, client, addr, stop } = await pair()
  t.after(stop)
  server.services.http.handle('/node/echo', fromNodeListener((req, res) => {
    res.setHeader('x-node-method', req.method)
    res.setHeader('x-node-url', req.url)
    res.setHeader('set-cookie', ['a=1', 'b=2'])
    req.pipe(res)
  }))
  server.services.http.handle('/node/events', fromNodeListener((req, res) => {
    let size = 0
    req.on('data', (chunk: Buffer) => { size += chunk.length })
    req.on('end', () => {
      res.writeHead(201, 'Made', { 'content-type': 'text/plain' })
      res.end(`got ${size} from ${req.socket.remoteAddress?.includes('/tcp/') === true ? 'a tcp peer' : '?'}`)
    })
  }))
  let writes = 0
  let refused = 0
  server.services.http.handle('/node/big', fromNodeListener((_req, res) => {
    const chunk = Buffer.alloc(64 * 1024)
    const more = (): void => {
      while (writes < 512) {
        writes++
        if (!res.write(chunk)) { refused++; res.once('drain', more); return }
      }
      res.end()
    }
    more()
  }))
  await client.dial(addr)
  const echo = await client.services.http.fetch(server.peerId, { path: '/node/echo?q=1', method: 'POST', body: 'piped through' })
  assert.equal(await echo.text(), 'piped through')
  assert.equal(echo.headers.get('x-node-method'), 'POST')
  assert.equal(echo.headers.get('x-node-url'), '/node/echo?q=1')
  assert.deepEqual(echo.headers.getSetCookie(), ['a=1', 'b=2'])
  const events = await client.services.http.fetch(server.peerId, { path: '/node/events', method: 'PUT', body: new Uint8Array(100_000) })
  assert.equal(events.status, 201)
  assert.equal(events.statusText, 'Made')
  assert.equal(await events.text(), 'got 100000 from a tcp peer')
  // the writer is held back until the client reads: after one chunk it has not written all
  const big = await client.services.http.fetch(server.peerId, { path: '/node/big' })
  const reader = big.body!.getReader()
  await reader.read()
  assert.ok(writes < 512, `${writes} writes before the client read more`)
  let total = 0
  for (let r = await reader.read(); !r.done; r = await reader.read()) total += r.value.length
  assert.ok(total > 30 * 1024 * 1024)
  assert.equal(writes, 512)
  assert.ok(refused > 0, 'write() returned false at least once')
})
