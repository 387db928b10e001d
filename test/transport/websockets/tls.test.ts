/**
 * Secure WebSockets (`/tls/ws`, `/wss`, `/tls/sni/<name>/ws`): listening with a configured
 * certificate and dialing with certificate verification. The certificate is made for the test
 * with openssl (skipped where openssl is missing).
 */
import { before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { WebSocketsTransport } from '../../../src/transport/websockets/index.ts'
import { listen, readExactly } from '../conformance.ts'

let cert = ''
let key = ''
let skipReason: string | undefined
let dir: string | undefined

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ws-tls-'))
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' })
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8')
    key = readFileSync(join(dir, 'key.pem'), 'utf8')
  } catch (err) {
    skipReason = `openssl is not available: ${(err as Error).message}`
  }
})

after(() => { if (dir !== undefined) rmSync(dir, { recursive: true, force: true }) })

for (const suffix of ['/tls/ws', '/wss'] as const) {
  test(`listen on ${suffix} and dial it with the certificate's CA trusted`, async (t) => {
    if (skipReason !== undefined) { t.skip(skipReason); return }
    const server = new WebSocketsTransport({ tls: { cert, key } })
    const { listener, addr, accepted } = await listen(server, `/ip4/127.0.0.1/tcp/0${suffix}`)
    try {
      assert.ok(addr.toString().endsWith(suffix), addr.toString())
      const client = new WebSocketsTransport({ dialTls: { ca: cert } })
      const conn = await client.dial(addr)
      const inbound = await accepted.next()
      assert.ok(inbound.remoteAddr.toString().endsWith(suffix))
      const payload = new Uint8Array(1024 * 1024).map((_, i) => (i * 7) & 0xff)
      const [, got] = await Promise.all([conn.write(payload), readExactly(inbound, payload.length)])
      assert.deepEqual(got, payload)
      await Promise.all([conn.close(), inbound.closed])
      assert.equal(inbound.error, undefined)
    } finally {
      await listener.close()
    }
  })
}

test('a certificate nobody vouches for fails the dial (verification is on)', async (t) => {
  if (skipReason !== undefined) { t.skip(skipReason); return }
  const server = new WebSocketsTransport({ tls: { cert, key } })
  const { listener, addr, accepted } = await listen(server, '/ip4/127.0.0.1/tcp/0/tls/ws')
  try {
    await assert.rejects(new WebSocketsTransport().dial(addr), { code: 'ERR_CONNECTION_FAILED', message: /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/ })
    assert.equal(accepted.connections.length, 0)
  } finally {
    await listener.close()
  }
})

test('the server name comes from /tls/sni/<name> and must match the certificate', async (t) => {
  if (skipReason !== undefined) { t.skip(skipReason); return }
  const server = new WebSocketsTransport({ tls: { cert, key } })
  const { listener, addr, accepted } = await listen(server, '/ip4/127.0.0.1/tcp/0/tls/ws')
  try {
    const port = addr.getComponents()[1].value
    const client = new WebSocketsTransport({ dialTls: { ca: cert } })
    const conn = await client.dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/tls/sni/localhost/ws`))
    const inbound = await accepted.next()
    await Promise.all([conn.close(), inbound.closed])
    await assert.rejects(client.dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/tls/sni/example.com/ws`)), { code: 'ERR_CONNECTION_FAILED', message: /ALTNAME|altnames|example\.com/i })
    // A DNS address is verified against its own name.
    const byName = await client.dial(multiaddr(`/dns4/localhost/tcp/${port}/wss`))
    const inbound2 = await accepted.next()
    await Promise.all([byName.close(), inbound2.closed])
  } finally {
    await listener.close()
  }
})

test('a plain WebSocket client cannot talk to a TLS listener, and the listener survives it', async (t) => {
  if (skipReason !== undefined) { t.skip(skipReason); return }
  const server = new WebSocketsTransport({ tls: { cert, key }, handshakeTimeout: 500 })
  const { listener, addr, accepted } = await listen(server, '/ip4/127.0.0.1/tcp/0/tls/ws')
  try {
    const port = addr.getComponents()[1].value
    await assert.rejects(new WebSocketsTransport({ dialTimeout: 3000 }).dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws`)), (err: Error & { code?: string }) => err.code === 'ERR_CONNECTION_FAILED' || err.code === 'ERR_TIMEOUT')
    const conn = await new WebSocketsTransport({ dialTls: { ca: cert } }).dial(addr)
    const inbound = await accepted.next()
    await Promise.all([conn.close(), inbound.closed])
  } finally {
    await listener.close()
  }
})

test('abort over TLS is seen by the remote as a reset', async (t) => {
  if (skipReason !== undefined) { t.skip(skipReason); return }
  const server = new WebSocketsTransport({ tls: { cert, key } })
  const { listener, addr, accepted } = await listen(server, '/ip4/127.0.0.1/tcp/0/tls/ws')
  try {
    for (const aborter of ['dialer', 'listener'] as const) {
      const conn = await new WebSocketsTransport({ dialTls: { ca: cert } }).dial(addr)
      const inbound = await accepted.next()
      const [a, b] = aborter === 'dialer' ? [conn, inbound] : [inbound, conn]
      await a.write(Uint8Array.of(1))
      assert.deepEqual(await b.read(), Uint8Array.of(1))
      const pending = b.read()
      a.abort(new Error('local failure'))
      await assert.rejects(pending, { code: 'ERR_STREAM_RESET' })
      await Promise.all([a.closed, b.closed])
      assert.equal(b.status, 'reset')
    }
  } finally {
    await listener.close()
  }
})
