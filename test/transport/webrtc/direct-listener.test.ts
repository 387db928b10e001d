/**
 * The WebRTC Direct listener at transport level, on loopback with node-datachannel: 50
 * connect/close cycles leave no native peer connection (nor memory) behind, and a STUN flood
 * with random ufrags (malformed ones, and well-formed v1 ones from many ports) is refused before
 * native code or bounded by the rate limit, while a real client still gets through.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { crc32 } from 'node:zlib'
import { randomBytes } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { noise } from '../../../src/security/noise/index.ts'
import { WebRTCDirectTransport } from '../../../src/transport/webrtc/webrtc-direct.ts'
import type { WebRTCDirectOptions } from '../../../src/transport/webrtc/webrtc-direct.ts'
import type { WebRTCDirectListener } from '../../../src/transport/webrtc/direct.node.ts'
import type { RawConnection } from '../../../src/interface/transport.ts'
import type { Stream } from '../../../src/interface/stream.ts'
import { loadNodeDatachannel } from '../../../src/transport/webrtc/native.node.ts'

// node-datachannel sometimes keeps a closed channel object alive and the process with it (see
// src/transport/webrtc/native.node.ts): release everything once this file's tests are done.
after(async () => { await loadNodeDatachannel().then(ndc => { ndc.cleanup() }, () => {}) })

async function transport (options: WebRTCDirectOptions = {}): Promise<WebRTCDirectTransport> {
  const privateKey = await generateKeyPair('Ed25519')
  return new WebRTCDirectTransport(options, { privateKey, connectionEncrypters: [noise()({ privateKey })] })
}

/** A listener whose connections echo every stream. */
async function echoListener (options: WebRTCDirectOptions = {}) {
  const t = await transport(options)
  const inbound: RawConnection[] = []
  const listener = t.createListener({
    onConnection: c => {
      inbound.push(c)
      c.native!.streamMuxer.createStreamMuxer(c, {
        direction: 'inbound',
        onIncomingStream: (s: Stream) => { void (async () => { for await (const x of s) await s.write(x.slice()); await s.closeWrite() })().catch(() => {}) }
      })
    }
  }) as WebRTCDirectListener
  await listener.listen(multiaddr('/ip4/127.0.0.1/udp/0/webrtc-direct'))
  return { listener, inbound, addr: listener.getAddrs()[0] }
}

async function echoOnce (conn: RawConnection): Promise<void> {
  const muxer = conn.native!.streamMuxer.createStreamMuxer(conn, { direction: 'outbound', onIncomingStream: s => { s.abort(new Error('unexpected')) } })
  const s = await muxer.newStream()
  await s.write(Uint8Array.of(1, 2, 3))
  await s.closeWrite()
  const got: number[] = []
  for await (const c of s) got.push(...c)
  assert.deepEqual(got, [1, 2, 3])
  await muxer.close()
}

async function until (what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

test('50 connect/echo/close cycles: native peer connections go back to zero, memory does not grow', async () => {
  const { listener, addr } = await echoListener()
  const dialer = await transport()
  const cycle = async (): Promise<void> => {
    const conn = await dialer.dial(addr)
    await echoOnce(conn)
    await conn.closed
  }
  for (let i = 0; i < 5; i++) await cycle()
  await until('the listener to release its peer connections', () => listener.stats.peerConnections === 0)
  globalThis.gc?.()
  const before = process.memoryUsage().rss
  for (let i = 0; i < 50; i++) await cycle()
  await until('the listener to release its peer connections', () => listener.stats.peerConnections === 0)
  globalThis.gc?.()
  const growth = process.memoryUsage().rss - before
  assert.equal(listener.stats.pendingHandshakes, 0)
  // 50 connections that were not freed would hold far more (each has SCTP and DTLS state).
  assert.ok(growth < 40 * 1024 * 1024, `rss grew by ${growth} bytes`)
  await listener.close()
})

/** A STUN Binding request with USERNAME `username` (RFC 5389), a dummy MESSAGE-INTEGRITY and a valid FINGERPRINT. */
function stunBindingRequest (username: string): Buffer {
  const user = Buffer.from(username)
  const pad = (n: number) => (4 - (n % 4)) % 4
  const attrs: Buffer[] = []
  const attr = (type: number, value: Buffer) => {
    const h = Buffer.alloc(4)
    h.writeUInt16BE(type, 0); h.writeUInt16BE(value.length, 2)
    attrs.push(h, value, Buffer.alloc(pad(value.length)))
  }
  attr(0x0006, user)
  attr(0x0024, Buffer.from([0x6e, 0, 0x1e, 0xff])) // PRIORITY
  attr(0x0008, randomBytes(20)) // MESSAGE-INTEGRITY (we do not know the password)
  const body = Buffer.concat(attrs)
  const header = Buffer.alloc(20)
  header.writeUInt16BE(0x0001, 0)
  header.writeUInt16BE(body.length + 8, 2)
  header.writeUInt32BE(0x2112a442, 4)
  randomBytes(12).copy(header, 8)
  const withoutFp = Buffer.concat([header, body])
  const fp = Buffer.alloc(8)
  fp.writeUInt16BE(0x8028, 0); fp.writeUInt16BE(4, 2)
  fp.writeUInt32BE((crc32(withoutFp) ^ 0x5354554e) >>> 0, 4)
  return Buffer.concat([withoutFp, fp])
}

test('a STUN flood with random ufrags stays bounded and a real client still connects', async () => {
  const { listener, addr } = await echoListener({ maxPendingHandshakes: 16, newConnectionsBurst: 16, newConnectionsPerSecond: 20, handshakeTimeout: 1_500 })
  const port = Number(addr.getComponents()[1].value)
  const sockets = Array.from({ length: 8 }, () => createSocket('udp4'))
  await Promise.all(sockets.map(async s => await new Promise<void>(resolve => { s.bind(0, '127.0.0.1', resolve) })))
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  const rand = (n: number) => Array.from(randomBytes(n), b => alphabet[b & 63]).join('')
  const send = async (s: ReturnType<typeof createSocket>, msg: Buffer) => await new Promise<void>(resolve => { s.send(msg, port, '127.0.0.1', () => { resolve() }) })
  for (let i = 0; i < 1000; i++) {
    const s = sockets[i % sockets.length]
    let username: string
    switch (i % 4) {
      case 0: username = `${rand(8)}:${rand(8)}`; break // no libp2p prefix
      case 1: username = `libp2p+webrtc+v1/${rand(4)}!:x`; break // bad characters, too short
      case 2: username = `libp2p+webrtc+v2/${rand(3)}:${rand(2)}`; break // v2 pwd too short
      default: { const u = `libp2p+webrtc+v1/${rand(24)}`; username = `${u}:${u}` } // well formed
    }
    await send(s, stunBindingRequest(username))
  }
  await until('the flood to be processed', () => listener.stats.rejectedUfrags + listener.stats.rateLimited + listener.stats.peerConnections >= 900, 10_000)
  assert.ok(listener.stats.rejectedUfrags >= 700, `rejected ${listener.stats.rejectedUfrags}`)
  assert.ok(listener.stats.rateLimited > 0)
  assert.ok(listener.stats.peerConnections <= 16, `${listener.stats.peerConnections} peer connections`)
  for (const s of sockets) s.close()
  // The bogus handshakes time out and are closed; then a real client gets in.
  await until('the bogus handshakes to be dropped', () => listener.stats.peerConnections === 0, 10_000)
  const dialer = await transport()
  const conn = await dialer.dial(addr)
  await echoOnce(conn)
  await conn.closed
  await listener.close()
})
