/**
 * Hostile input to the `/http/1.1` server over a real libp2p stream: request smuggling
 * attempts, oversized heads, too many fields, a slow-loris head, a body larger than declared,
 * broken chunked bodies and oversized bodies. Each gets its typed status and a closed stream,
 * and none reaches the handler; the same node keeps serving honest requests afterwards. And
 * our client against hostile responses.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../../src/index.ts'
import { http, type HttpServiceOptions } from '../../../src/protocols/http/index.ts'
import type { Connection } from '../../../src/interface/connection.ts'
import { duplexPair } from '../../../src/util/duplex-pair.ts'
import { HttpStreamReader } from '../../../src/protocols/http/reader.ts'
import { requestOverStream } from '../../../src/protocols/http/client.ts'
import { HttpAmbiguousLengthError, HttpHeadersTooLargeError, HttpMalformedError, HttpTimeoutError } from '../../../src/protocols/http/errors.ts'

const enc = new TextEncoder()

async function setup (options: HttpServiceOptions = {}) {
  const server = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, services: { http: http(options) } })
  const client = await createLibp2p({ services: { http: http() } })
  const handled: string[] = []
  server.services.http.handle('/', async (req) => {
    handled.push(`${req.method} ${new URL(req.url).pathname}`)
    return new Response(`ok ${(await req.arrayBuffer()).byteLength}`)
  })
  const connection = await client.dial(server.getMultiaddrs()[0])
  return { server, client, connection, handled, async stop () { await client.stop(); await server.stop() } }
}

/** Writes `raw` on a fresh stream (half-closing unless `keepOpen`) and returns all that comes back. */
async function exchange (connection: Connection, raw: string | Uint8Array, keepOpen = false): Promise<string> {
  const stream = await connection.newStream('/http/1.1')
  await stream.write(typeof raw === 'string' ? enc.encode(raw) : raw)
  if (!keepOpen) await stream.closeWrite()
  let out = ''
  try {
    for (let c = await stream.read(); c !== null; c = await stream.read()) out += new TextDecoder().decode(c)
  } catch (err) {
    out += `<${(err as Error).name}>`
  }
  return out
}

const statusOf = (response: string): number => Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1] ?? 0)

test('request smuggling attempts are refused before any handler runs', async (t) => {
  const { connection, handled, stop } = await setup()
  t.after(stop)
  const attempts = [
    // CL.TE and TE.CL: the classic desync pair
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n',
    // duplicate and list-valued Content-Length
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\nhello',
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 5\r\n\r\nhello',
    // obfuscated Transfer-Encoding
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: x\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\rX: y\r\n\r\n0\r\n\r\n',
    // two Host fields
    'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'
  ]
  for (const attempt of attempts) {
    const response = await exchange(connection, attempt)
    assert.equal(statusOf(response), 400, `${JSON.stringify(attempt)} -> ${response}`)
    assert.match(response, /\r\nconnection: close\r\n/i)
  }
  assert.deepEqual(handled, [])
})

test('a body larger than its Content-Length is refused, not read as a second request', async (t) => {
  const { connection, handled, stop } = await setup()
  t.after(stop)
  const response = await exchange(connection, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /admin HTTP/1.1\r\nHost: x\r\n\r\n')
  assert.equal(statusOf(response), 400, response)
  assert.match(response, /after the end of the declared body/)
  assert.deepEqual(handled, ['POST /'])
  assert.ok(!handled.includes('GET /admin'))
})

test('oversized heads, too many fields and oversized bodies get 431 / 413', async (t) => {
  const { connection, handled, stop } = await setup({ limits: { maxHeaderBytes: 4096, maxHeaders: 20, maxBodyBytes: 1000 } })
  t.after(stop)
  const big = await exchange(connection, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`)
  assert.equal(statusOf(big), 431, big)
  // a head that never ends is cut at the limit, without waiting for the rest
  const endless = await exchange(connection, `GET / HTTP/1.1\r\nX: ${'b'.repeat(8000)}`, true)
  assert.equal(statusOf(endless), 431, endless)
  const many = await exchange(connection, 'GET / HTTP/1.1\r\n' + Array.from({ length: 21 }, (_, i) => `X-${i}: v\r\n`).join('') + '\r\n')
  assert.equal(statusOf(many), 431, many)
  const declared = await exchange(connection, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n')
  assert.equal(statusOf(declared), 413, declared)
  assert.deepEqual(handled, [])
  // a chunked body is counted as it arrives: the handler sees its body fail, the client a 413
  const chunked = await exchange(connection, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n' + 'z'.repeat(1000) + '\r\n1\r\nz\r\n0\r\n\r\n')
  assert.equal(statusOf(chunked), 413, chunked)
})

test('broken chunked bodies never reach the handler as data', async (t) => {
  const { connection, stop } = await setup()
  t.after(stop)
  for (const body of ['5\r\nhello\r\nzz\r\n', '-5\r\nhello\r\n0\r\n\r\n', '5\r\nhelloXX\r\n0\r\n\r\n', '5 \r\nhello\r\n0\r\n\r\n', '5\nhello\r\n0\r\n\r\n', '5\r\nhel']) {
    const response = await exchange(connection, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' + body)
    assert.equal(statusOf(response), 400, `${JSON.stringify(body)} -> ${response}`)
  }
})

test('slow-loris: a head that trickles in is cut off at the deadline with 408', async (t) => {
  const { connection, handled, stop } = await setup({ headersTimeout: 300 })
  t.after(stop)
  const stream = await connection.newStream('/http/1.1')
  const started = performance.now()
  await stream.write(enc.encode('GET / HTTP/1.1\r\nHost: x\r\n'))
  // keep trickling one field byte at a time; the deadline covers the whole head, not each byte
  const trickle = (async () => {
    for (let i = 0; i < 100 && stream.writeStatus === 'open'; i++) {
      try { await stream.write(enc.encode('X')) } catch { return }
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  })()
  let response = ''
  try {
    for (let c = await stream.read(); c !== null; c = await stream.read()) response += new TextDecoder().decode(c)
  } catch {}
  const elapsed = performance.now() - started
  stream.abort(new Error('done'))
  await trickle
  assert.equal(statusOf(response), 408, response)
  assert.ok(elapsed < 3000, `cut off after ${elapsed} ms`)
  assert.deepEqual(handled, [])
})

test('after all that the server still serves honest requests', async (t) => {
  const { client, server, connection, stop } = await setup({ limits: { maxHeaderBytes: 2048 } })
  t.after(stop)
  await exchange(connection, `GET / HTTP/1.1\r\nX: ${'c'.repeat(4000)}\r\n\r\n`)
  await exchange(connection, 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na')
  const res = await client.services.http.fetch(server.peerId, { method: 'POST', body: 'abc' })
  assert.equal(await res.text(), 'ok 3')
  // an empty Host (a target without an authority, RFC 9112 3.2: go-libp2p's client) is fine
  assert.match(await exchange(connection, 'GET / HTTP/1.1\r\nHost: \r\n\r\n'), /^HTTP\/1\.1 200 /)
  assert.equal(connection.status, 'open')
})

/** Our client against a server that answers `raw` (after reading the request head). */
async function clientAgainst (raw: string | Uint8Array): Promise<Response> {
  const [clientEnd, serverEnd] = duplexPair()
  void (async () => {
    const reader = new HttpStreamReader(serverEnd)
    await reader.readRequestHead()
    await serverEnd.write(typeof raw === 'string' ? enc.encode(raw) : raw)
    await serverEnd.closeWrite()
  })()
  return await requestOverStream(clientEnd, new Request('http://peer/x'), { timeout: 2000 })
}

test('the client refuses hostile responses with typed errors', async () => {
  const longer = await clientAgainst('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabcdef')
  await assert.rejects(longer.arrayBuffer(), (err: Error) => err.name === 'HttpBodyTooLargeError' || (err.cause as Error | undefined)?.name === 'HttpBodyTooLargeError')
  const shorter = await clientAgainst('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc')
  await assert.rejects(shorter.arrayBuffer())
  await assert.rejects(clientAgainst('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n'), HttpAmbiguousLengthError)
  await assert.rejects(clientAgainst('HTTP/1.1 200 OK\nX: y\r\n\r\n'), HttpMalformedError)
  await assert.rejects(clientAgainst(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`), HttpHeadersTooLargeError)
  await assert.rejects(clientAgainst('HTTP/1.1 100 Continue\r\n\r\n'.repeat(10) + 'HTTP/1.1 200 OK\r\n\r\n'), HttpMalformedError)
  // informational responses before the real one are skipped
  const afterContinue = await clientAgainst('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
  assert.equal(await afterContinue.text(), 'ok')
  // a server that never answers costs the client its timeout
  const [silent] = duplexPair()
  await assert.rejects(requestOverStream(silent, new Request('http://peer/x'), { timeout: 200 }), HttpTimeoutError)
})
