/**
 * Two ts-libp2p nodes over WebRTC Direct in Node (node-datachannel on both sides, loopback:
 * libdatachannel gathers loopback candidates, unlike Chromium): connect, identify, ping, a
 * 16 MiB echo, half-close and reset across the connection, concurrent streams, v1 and v2
 * ufrags, a wrong certhash refused, the certificate kept across a restart, and 50
 * connect/close cycles that leave no native peer connection behind.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { webRTCDirect } from '../../../src/transport/webrtc/webrtc-direct.ts'
import type { WebRTCDirectOptions } from '../../../src/transport/webrtc/webrtc-direct.ts'
import { encodeCerthash } from '../../../src/transport/certhash.ts'
import { makeNode, nextEvent, stopAll } from '../../node/helpers.ts'
import type { TestNode } from '../../node/helpers.ts'
import type { PeerId } from '../../../src/interface/peer-id.ts'
import type { Stream } from '../../../src/interface/stream.ts'
import { seededBytes } from '../../support/random.ts'
import { loadNodeDatachannel } from '../../../src/transport/webrtc/native.node.ts'

// node-datachannel sometimes keeps a closed channel object alive and the process with it (see
// src/transport/webrtc/native.node.ts): release everything once this file's tests are done.
after(async () => { await loadNodeDatachannel().then(ndc => { ndc.cleanup() }, () => {}) })

after(async () => { await stopAll() })

async function directNode (options: WebRTCDirectOptions = {}, listen = true): Promise<TestNode> {
  return await makeNode({ addresses: { listen: listen ? ['/ip4/127.0.0.1/udp/0/webrtc-direct'] : [] }, transports: [webRTCDirect(options)] })
}

async function readAllBytes (s: Stream): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const c of s) chunks.push(c.slice())
  return Buffer.concat(chunks)
}

test('the listen address is /ip4/127.0.0.1/udp/P/webrtc-direct/certhash/<sha2-256>/p2p/...', async () => {
  const b = await directNode()
  assert.match(b.getMultiaddrs()[0].toString(), /^\/ip4\/127\.0\.0\.1\/udp\/[1-9]\d*\/webrtc-direct\/certhash\/uEi[\w-]+\/p2p\/12D3KooW/)
  await b.stop()
})

test('a listener on /ip4/0.0.0.0 reports each interface address (with its port and certhash) and is dialable on them', async () => {
  const b = await makeNode({ addresses: { listen: ['/ip4/0.0.0.0/udp/0/webrtc-direct'] }, transports: [webRTCDirect()] })
  const addrs = b.getMultiaddrs().map(a => a.toString())
  assert.ok(addrs.every(a => !a.startsWith('/ip4/0.0.0.0/')), addrs.join(' '))
  const loopback = addrs.find(a => a.startsWith('/ip4/127.0.0.1/'))
  assert.ok(loopback !== undefined, addrs.join(' '))
  const port = /\/udp\/(\d+)\//.exec(loopback)?.[1]
  const certhash = /\/certhash\/([^/]+)\//.exec(loopback)?.[1]
  assert.ok(port !== undefined && port !== '0' && certhash !== undefined)
  for (const a of addrs) {
    assert.match(a, /^\/ip4\/[\d.]+\/udp\/\d+\/webrtc-direct\/certhash\/[\w-]+\/p2p\/12D3KooW/)
    assert.ok(a.includes(`/udp/${port}/webrtc-direct/certhash/${certhash}/`), a)
  }
  const a = await directNode({}, false)
  const connection = await a.dial(multiaddr(loopback))
  assert.ok(connection.remotePeer.equals(b.peerId))
  assert.ok(await (a.services as any).ping.ping(b.peerId) >= 0)
  await a.stop()
  await b.stop()
})

for (const ufragVersion of [1, 2] as const) {
  test(`Node dialer (ufrag v${ufragVersion}) to our listener: identify, ping, 16 MiB echo; Noise over data channels`, async () => {
    const a = await directNode({ ufragVersion }, false)
    const b = await directNode()
    const identified = nextEvent<{ peerId: PeerId, protocols: string[] }>(a, 'peer:identify', d => d.peerId.equals(b.peerId), 15_000)
    const connection = await a.dial(b.getMultiaddrs()[0])
    assert.equal(connection.encryption, '/noise')
    assert.equal(connection.multiplexer, '/webrtc')
    assert.ok(connection.remotePeer.equals(b.peerId))
    assert.ok((await identified).protocols.includes('/ipfs/ping/1.0.0'))
    assert.ok(await (a.services as any).ping.ping(b.peerId) >= 0)
    const stream = await connection.newStream('/echo/1.0.0')
    const data = seededBytes(16 * 1024 * 1024, 5)
    const reading = readAllBytes(stream)
    for (let o = 0; o < data.length; o += 256 * 1024) await stream.write(data.subarray(o, o + 256 * 1024))
    await stream.closeWrite()
    assert.ok((await reading).equals(Buffer.from(data)))
    await a.stop()
    await b.stop()
  })
}

test('half-close keeps the other direction; a reset reaches the remote as StreamResetError', async () => {
  const a = await directNode({}, false)
  const b = await directNode()
  let serverSide: Stream | undefined
  const gotServerSide = new Promise<Stream>(resolve => {
    void b.handle('/test/halfclose', (stream: Stream) => { serverSide = stream; resolve(stream) })
  })
  const connection = await a.dial(b.getMultiaddrs()[0])
  const s = await connection.newStream('/test/halfclose')
  await s.write(Uint8Array.of(1, 2, 3))
  await s.closeWrite()
  const r = await gotServerSide
  assert.deepEqual([...await readAllBytes(r)], [1, 2, 3])
  // Our write side is closed; the server still writes to us.
  await r.write(Uint8Array.of(9))
  assert.deepEqual([...(await s.read())!], [9])
  const pending = s.read()
  r.abort(new Error('server gives up'))
  await assert.rejects(pending, { name: 'StreamResetError' })
  assert.equal(serverSide?.status, 'aborted')
  await a.stop()
  await b.stop()
})

test('64 concurrent echo streams over one connection', async () => {
  const a = await directNode({}, false)
  const b = await directNode()
  const connection = await a.dial(b.getMultiaddrs()[0])
  const ok = await Promise.all(Array.from({ length: 64 }, async (_, i) => {
    const stream = await connection.newStream('/echo/1.0.0', { maxOutboundStreams: 1024 })
    const data = seededBytes(20_000 + i, i + 3)
    const reading = readAllBytes(stream)
    await stream.write(data)
    await stream.closeWrite()
    return (await reading).equals(Buffer.from(data))
  }))
  assert.equal(ok.filter(Boolean).length, 64)
  await a.stop()
  await b.stop()
})

test('a wrong certhash is refused (DTLS fingerprint check)', async () => {
  const a = await directNode({ dialTimeout: 5_000 }, false)
  const b = await directNode()
  const good = b.getMultiaddrs()[0].toString()
  const wrong = good.replace(/\/certhash\/[^/]+/, `/certhash/${encodeCerthash(new Uint8Array(32).fill(7))}`)
  await assert.rejects(a.dial(multiaddr(wrong)))
  assert.equal(a.getConnections(b.peerId).length, 0)
  await a.stop()
  await b.stop()
})

test('the certificate (so the certhash) is kept in the data directory across a restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'webrtc-direct-cert-'))
  try {
    const b1 = await directNode({ certificateDirectory: dir })
    const hash1 = /\/certhash\/([^/]+)/.exec(b1.getMultiaddrs()[0].toString())![1]
    await b1.stop()
    const b2 = await directNode({ certificateDirectory: dir })
    const hash2 = /\/certhash\/([^/]+)/.exec(b2.getMultiaddrs()[0].toString())![1]
    assert.equal(hash2, hash1)
    const a = await directNode({}, false)
    await a.dial(b2.getMultiaddrs()[0])
    await a.stop()
    await b2.stop()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
