/**
 * Two ts-libp2p nodes over WebTransport in Node: our dialer (our QUIC with ALPN h3, HTTP/3,
 * extended CONNECT, Noise with certhashes) against our listener. Connect, identify, ping,
 * many concurrent echo streams, a wrong certhash refused, certificates persisted across a
 * restart, and a clean close.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { webTransport } from '../../../src/transport/webtransport/index.ts'
import { encodeCerthash, certhashesOf } from '../../../src/transport/certhash.ts'
import { CertificateSet, CERTIFICATE_LIFETIME, readCertificate } from '../../../src/transport/webtransport/certificates.node.ts'
import { makeNode, nextEvent, stopAll } from '../../node/helpers.ts'
import type { TestNode } from '../../node/helpers.ts'
import type { PeerId } from '../../../src/interface/peer-id.ts'
import { seededBytes } from '../../support/random.ts'

after(async () => { await stopAll() })

async function wtNode (options: Parameters<typeof webTransport>[0] = {}): Promise<TestNode> {
  return await makeNode({ addresses: { listen: ['/ip4/127.0.0.1/udp/0/quic-v1/webtransport'] }, transports: [webTransport(options)] })
}

// First in the file, so no other test's sockets are still closing around it.
test('teardown: after both nodes stop, no UDP socket is left (listener and dial-only sockets closed)', async () => {
  const udpSockets = (): number => process.getActiveResourcesInfo().filter(r => r === 'UDPWrap').length
  const before = udpSockets()
  const a = await wtNode()
  const b = await wtNode()
  await a.dial(b.getMultiaddrs()[0])
  assert.ok(udpSockets() >= before + 3, 'two listeners and a dial-only socket')
  await a.stop()
  await b.stop()
  // A socket closes with its last connection, a few event-loop turns after stop() returns.
  const deadline = performance.now() + 2000
  while (udpSockets() > before && performance.now() < deadline) await new Promise(resolve => setImmediate(resolve))
  assert.equal(udpSockets(), before)
})

test('the listen address carries two certhashes of certificates valid <= 14 days with one keyUsage extension', async () => {
  const b = await wtNode()
  const addr = b.getMultiaddrs()[0]
  assert.match(addr.toString(), /^\/ip4\/127\.0\.0\.1\/udp\/\d+\/quic-v1\/webtransport\/certhash\/u[\w-]+\/certhash\/u[\w-]+\/p2p\//)
  assert.equal(certhashesOf(addr).length, 2)
  await b.stop()
})

test('Node dialer to our listener: connect, identify, ping; the connection reports Noise and WebTransport streams', async () => {
  const a = await wtNode()
  const b = await wtNode()
  const identified = nextEvent<{ peerId: PeerId, protocols: string[] }>(a, 'peer:identify', d => d.peerId.equals(b.peerId), 10_000)
  const connection = await a.dial(b.getMultiaddrs()[0])
  assert.equal(connection.encryption, '/noise')
  assert.equal(connection.multiplexer, '/webtransport')
  assert.ok(connection.remotePeer.equals(b.peerId))
  assert.ok((await identified).protocols.includes('/ipfs/ping/1.0.0'))
  const rtt = await (a.services as any).ping.ping(b.peerId)
  assert.ok(rtt >= 0)
  await a.stop()
  await b.stop()
})

test('IPv6: a listener on ::1 and a Node dialer: connect and ping', async () => {
  const listen = { addresses: { listen: ['/ip6/::1/udp/0/quic-v1/webtransport'] }, transports: [webTransport()] }
  const a = await makeNode(listen)
  const b = await makeNode(listen)
  const addr = b.getMultiaddrs()[0]
  assert.match(addr.toString(), /^\/ip6\/::1\/udp\/\d+\/quic-v1\/webtransport\/certhash\//)
  const connection = await a.dial(addr)
  assert.ok(connection.remotePeer.equals(b.peerId))
  assert.ok(await (a.services as any).ping.ping(b.peerId) >= 0)
  await a.stop()
  await b.stop()
})

test('128 concurrent echo streams over one WebTransport session, then a clean close', async () => {
  const a = await wtNode()
  const b = await wtNode()
  const connection = await a.dial(b.getMultiaddrs()[0])
  const ok = await Promise.all(Array.from({ length: 128 }, async (_, i) => {
    const stream = await connection.newStream('/echo/1.0.0', { maxOutboundStreams: 1024 })
    const data = seededBytes(20_000 + i, i + 3)
    const chunks: Uint8Array[] = []
    const reading = (async () => { for await (const c of stream) chunks.push(c.slice()) })()
    await stream.write(data)
    await stream.closeWrite()
    await reading
    return Buffer.concat(chunks).equals(Buffer.from(data))
  }))
  assert.equal(ok.filter(Boolean).length, 128)
  const closed = nextEvent(b, 'connection:close', () => true, 10_000)
  await connection.close()
  await closed
  await a.stop()
  await b.stop()
})

test('a wrong certhash is refused during the QUIC handshake', async () => {
  const a = await wtNode()
  const b = await wtNode()
  const good = b.getMultiaddrs()[0].toString()
  const wrong = good.replace(/\/certhash\/[^/]+\/certhash\/[^/]+/, `/certhash/${encodeCerthash(new Uint8Array(32).fill(7))}`)
  await assert.rejects(a.dial(multiaddr(wrong)), (err: Error) => /certhash|certificate/i.test(JSON.stringify({ m: err.message, c: String((err as any).cause), e: String((err as any).errors?.map((e: Error) => e.message + String((e as any).cause))) })))
  assert.equal(a.getConnections(b.peerId).length, 0)
  await a.stop()
  await b.stop()
})

test('certificates: persisted and reloaded (same hashes), rotated before expiry, never longer than 14 days', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wt-certs-'))
  try {
    const file = join(dir, 'webtransport-certificates.json')
    let now = Date.now()
    const first = new CertificateSet({ file, now: () => now })
    await first.load()
    assert.equal(first.all.length, 2)
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    for (const c of first.all) {
      const info = readCertificate(c.der)
      assert.ok(info.notAfter.getTime() - info.notBefore.getTime() <= 14 * 24 * 3600 * 1000)
      // One extension, keyUsage (2.5.29.15 = 06 03 55 1d 0f).
      assert.ok(Buffer.from(c.der).includes(Buffer.from('0603551d0f', 'hex')))
    }
    const reloaded = new CertificateSet({ file, now: () => now })
    assert.equal(await reloaded.load(), false)
    assert.deepEqual(reloaded.all.map(c => Buffer.from(c.sha256).toString('hex')), first.all.map(c => Buffer.from(c.sha256).toString('hex')))
    // Jump to a day before the first expires: it goes, the second becomes current.
    now = first.all[0].notAfter.getTime() - 12 * 3600 * 1000
    assert.equal(await reloaded.rotate(), true)
    assert.deepEqual(reloaded.current.sha256, first.all[1].sha256)
    assert.ok(reloaded.current.notBefore.getTime() <= now && reloaded.current.notAfter.getTime() > now)
    assert.equal(reloaded.all.length, 2)
    assert.ok(reloaded.all[1].notAfter.getTime() - reloaded.all[1].notBefore.getTime() === CERTIFICATE_LIFETIME)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('two listeners of one node (IPv4 and IPv6) share one certificate pair and one file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wt-certs-'))
  try {
    const certificateFile = join(dir, 'certs.json')
    const node = await makeNode({ addresses: { listen: ['/ip4/127.0.0.1/udp/0/quic-v1/webtransport', '/ip6/::1/udp/0/quic-v1/webtransport'] }, transports: [webTransport({ certificateFile })] })
    const addrs = node.getMultiaddrs().map(String)
    assert.equal(addrs.length, 2)
    const hashes = addrs.map(a => a.replace(/^.*?(\/certhash\/.*)\/p2p\/.*$/, '$1'))
    assert.equal(hashes[0], hashes[1])
    const stored = new CertificateSet({ file: certificateFile })
    assert.equal(await stored.load(), false)
    assert.equal(hashes[0], stored.all.map(c => `/certhash/${encodeCerthash(c.sha256)}`).join(''))
    await node.stop()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a listener restarted with the same certificate file advertises the same certhashes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wt-certs-'))
  try {
    const certificateFile = join(dir, 'certs.json')
    const b1 = await wtNode({ certificateFile })
    const hashes1 = b1.getMultiaddrs()[0].toString().match(/\/certhash\/.*\/p2p/)?.[0]
    await b1.stop()
    const b2 = await wtNode({ certificateFile })
    const hashes2 = b2.getMultiaddrs()[0].toString().match(/\/certhash\/.*\/p2p/)?.[0]
    assert.ok(hashes1 !== undefined)
    assert.equal(hashes2, hashes1)
    const a = await wtNode()
    await a.dial(b2.getMultiaddrs()[0])
    await a.stop()
    await b2.stop()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
