/**
 * The QUIC transport over real UDP sockets on loopback, with the test crypto stand-in
 * (fixtures/test-crypto.ts) so these tests exercise packets, streams, flow control and loss
 * recovery alone.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../../src/peer/peer-id.ts'
import { QuicTransport } from '../../../src/transport/quic/index.ts'
import type { QuicNativeConnection } from '../../../src/transport/quic/native-connection.ts'
import type { RawConnection } from '../../../src/interface/transport.ts'
import type { Stream } from '../../../src/interface/stream.ts'
import { testCrypto } from './fixtures/test-crypto.ts'
import { seededBytes } from '../../support/random.ts'

async function pairOfTransports (host = '127.0.0.1', options = {}) {
  const serverKey = await generateKeyPair('Ed25519')
  const clientKey = await generateKeyPair('Ed25519')
  const server = new QuicTransport({ crypto: testCrypto, ...options }, { privateKey: serverKey })
  const client = new QuicTransport({ crypto: testCrypto, ...options }, { privateKey: clientKey })
  const inbound: RawConnection[] = []
  const waiters: Array<(c: RawConnection) => void> = []
  const listener = server.createListener({ onConnection: c => { const w = waiters.shift(); if (w !== undefined) w(c); else inbound.push(c) } })
  await listener.listen(multiaddr(`/ip${host.includes(':') ? 6 : 4}/${host}/udp/0/quic-v1`))
  const nextInbound = async (): Promise<RawConnection> => inbound.shift() ?? await new Promise(resolve => waiters.push(resolve))
  const addr = listener.getAddrs()[0]
  return { server, client, listener, addr, nextInbound, serverPeer: peerIdFromPrivateKey(serverKey), clientPeer: peerIdFromPrivateKey(clientKey) }
}

function muxerOf (raw: RawConnection, onStream: (s: Stream) => void = () => {}) {
  return (raw as QuicNativeConnection).native!.streamMuxer.createStreamMuxer(raw, { direction: raw.direction, onIncomingStream: onStream })
}

async function readAll (s: Stream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const c of s) chunks.push(c.slice())
  return Buffer.concat(chunks)
}

function echo (s: Stream): void {
  void (async () => {
    for await (const c of s) await s.write(c.slice())
    await s.closeWrite()
  })().catch(() => {})
}

test('dial, authenticate the peer, echo on a stream, close cleanly (IPv4 and ::1)', async () => {
  for (const host of ['127.0.0.1', '::1']) {
    const { server, client, listener, addr, nextInbound, serverPeer, clientPeer } = await pairOfTransports(host)
    const raw = await client.dial(addr)
    assert.ok(raw.native?.remotePeer.equals(serverPeer))
    const inbound = await nextInbound()
    assert.ok(inbound.native?.remotePeer.equals(clientPeer))
    muxerOf(inbound, echo)
    const muxer = muxerOf(raw)
    const stream = await muxer.newStream()
    const payload = seededBytes(300_000, 1)
    const reading = readAll(stream)
    await stream.write(payload)
    await stream.closeWrite()
    assert.deepEqual(Buffer.from(await reading), Buffer.from(payload))
    await stream.closed
    await muxer.close()
    await raw.closed
    await inbound.closed
    await listener.close()
    await client.close()
    await server.close()
  }
})

test('256 concurrent streams each echo their own bytes', async () => {
  const { server, client, listener, addr, nextInbound } = await pairOfTransports()
  const raw = await client.dial(addr)
  muxerOf(await nextInbound(), echo)
  const muxer = muxerOf(raw)
  const results = await Promise.all(Array.from({ length: 256 }, async (_, i) => {
    const s = await muxer.newStream()
    const data = seededBytes(10_000 + i, i + 1)
    const reading = readAll(s)
    await s.write(data)
    await s.closeWrite()
    return Buffer.from(await reading).equals(Buffer.from(data))
  }))
  assert.equal(results.filter(Boolean).length, 256)
  await client.close()
  await listener.close()
  await server.close()
})

test('a reset reaches the other side both ways; STOP_SENDING ends the writer', async () => {
  const { server, client, listener, addr, nextInbound } = await pairOfTransports()
  const raw = await client.dial(addr)
  const inboundStreams: Stream[] = []
  const arrived: Array<() => void> = []
  muxerOf(await nextInbound(), s => { inboundStreams.push(s); arrived.shift()?.() })
  const nextStream = async (): Promise<Stream> => inboundStreams.shift() ?? await new Promise<Stream>(resolve => arrived.push(() => resolve(inboundStreams.shift()!)))
  const muxer = muxerOf(raw)

  // We reset: the remote's read fails with StreamResetError.
  const a = await muxer.newStream()
  await a.write(new Uint8Array([1, 2, 3]))
  const remoteA = await nextStream()
  assert.deepEqual([...(await remoteA.read())!], [1, 2, 3])
  a.abort(new Error('local reset'))
  await assert.rejects(remoteA.read(), { name: 'StreamResetError' })
  await remoteA.closed
  assert.equal(remoteA.status, 'reset')

  // The remote resets: our pending read fails.
  const b = await muxer.newStream()
  await b.write(new Uint8Array([4]))
  const remoteB = await nextStream()
  const pending = b.read()
  remoteB.abort(new Error('remote reset'))
  await assert.rejects(pending, { name: 'StreamResetError' })

  // The remote stops reading: our writes end (STOP_SENDING answered by RESET_STREAM).
  const c = await muxer.newStream()
  await c.write(new Uint8Array([5]))
  const remoteC = await nextStream()
  remoteC.closeRead()
  await assert.rejects(async () => { while (true) await c.write(new Uint8Array(1000)) })
  await client.close()
  await listener.close()
  await server.close()
})
