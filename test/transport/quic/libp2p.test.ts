/**
 * Two ts-libp2p nodes over QUIC with the real libp2p TLS handshake: connect, identify, ping,
 * 256 concurrent echo streams, a remote reset, a clean close, and teardown leaving no socket.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { quic } from '../../../src/transport/quic/index.ts'
import { QuicTransport } from '../../../src/transport/quic/index.ts'
import { tcp } from '../../../src/transport/tcp/index.ts'
import { makeNode, nextEvent, stopAll } from '../../node/helpers.ts'
import type { TestNode } from '../../node/helpers.ts'
import type { PeerId } from '../../../src/interface/peer-id.ts'
import { seededBytes } from '../../support/random.ts'
import { createLibp2p, multiaddr } from '../../../src/index.ts'
import { identify } from '../../../src/protocols/identify/index.ts'
import { generatePreSharedKey, preSharedKey } from '../../../src/security/pnet/index.ts'

after(async () => { await stopAll() })

async function quicNode (listen: string): Promise<TestNode> {
  return await makeNode({ addresses: { listen: [listen] }, transports: [quic(), tcp()] })
}

for (const [family, listen] of [['IPv4', '/ip4/127.0.0.1/udp/0/quic-v1'], ['IPv6', '/ip6/::1/udp/0/quic-v1']]) {
  test(`${family}: connect, identify and ping over QUIC; the connection reports TLS and QUIC streams`, async () => {
    const a = await quicNode(listen)
    const b = await quicNode(listen)
    const addr = b.getMultiaddrs()[0]
    assert.match(addr.toString(), /\/udp\/\d+\/quic-v1\/p2p\//)
    const identified = nextEvent<{ peerId: PeerId, protocols: string[] }>(a, 'peer:identify', d => d.peerId.equals(b.peerId), 10_000)
    const connection = await a.dial(addr)
    assert.equal(connection.encryption, '/tls/1.0.0')
    assert.equal(connection.multiplexer, '/quic-v1')
    assert.ok((await identified).protocols.includes('/ipfs/ping/1.0.0'))
    const rtt = await (a.services as any).ping.ping(b.peerId)
    assert.ok(rtt >= 0)
    await a.stop()
    await b.stop()
  })
}

test('ping to a peer without ping (the proposal and the first ping leave together): a typed error, not a hang, and the connection stays open', async () => {
  const a = await quicNode('/ip4/127.0.0.1/udp/0/quic-v1')
  const b = await makeNode({ addresses: { listen: ['/ip4/127.0.0.1/udp/0/quic-v1'] }, transports: [quic()], services: { identify: identify() } })
  const connection = await a.dial(b.getMultiaddrs()[0])
  await assert.rejects((a.services as any).ping.ping(connection), (err: Error) => err.name === 'UnsupportedProtocolError')
  // the refused optimistic proposal resets one stream, not the connection
  assert.equal(connection.status, 'open')
  await a.stop()
  await b.stop()
})

test('256 concurrent echo streams over one QUIC connection, then a clean close', async () => {
  const a = await quicNode('/ip4/127.0.0.1/udp/0/quic-v1')
  const b = await quicNode('/ip4/127.0.0.1/udp/0/quic-v1')
  const connection = await a.dial(b.getMultiaddrs()[0])
  const ok = await Promise.all(Array.from({ length: 256 }, async (_, i) => {
    const stream = await connection.newStream('/echo/1.0.0', { maxOutboundStreams: 1024 })
    const data = seededBytes(4096 + i, i + 7)
    const chunks: Uint8Array[] = []
    const reading = (async () => { for await (const c of stream) chunks.push(c.slice()) })()
    await stream.write(data)
    await stream.closeWrite()
    await reading
    return Buffer.concat(chunks).equals(Buffer.from(data))
  }))
  assert.equal(ok.filter(Boolean).length, 256)
  const closed = nextEvent(b, 'connection:close', () => true, 10_000)
  await connection.close()
  await closed
  await a.stop()
  await b.stop()
})

test('createLibp2p() in Node has QUIC by default: two default nodes listen on TCP and QUIC and ping over QUIC; stop() leaves no UDP socket', async () => {
  // A closed handle leaves the active list when libuv's close callback has run, a turn later.
  await new Promise(resolve => setImmediate(resolve))
  const udpBefore = process.getActiveResourcesInfo().filter(r => r === 'UDPWrap').length
  const listen = ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/udp/0/quic-v1']
  const a = await createLibp2p({ addresses: { listen } })
  const b = await createLibp2p({ addresses: { listen } })
  try {
    const quicAddr = b.getMultiaddrs().find(m => m.toString().includes('/quic-v1/'))
    assert.ok(quicAddr !== undefined, `b listens on QUIC: ${b.getMultiaddrs().join(' ')}`)
    assert.ok(b.getMultiaddrs().some(m => m.toString().includes('/tcp/')))
    const connection = await a.dial(quicAddr)
    assert.equal(connection.multiplexer, '/quic-v1')
    assert.ok(await a.services.ping.ping(b.peerId) >= 0)
  } finally {
    await a.stop()
    await b.stop()
  }
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(process.getActiveResourcesInfo().filter(r => r === 'UDPWrap').length, udpBefore)
})

test('createLibp2p() with a private network leaves QUIC out of the defaults (a pre-shared key cannot cover it)', async () => {
  const psk = generatePreSharedKey()
  const node = await createLibp2p({ connectionProtector: preSharedKey({ psk }), addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] } })
  try {
    await assert.rejects(node.dial(multiaddr('/ip4/127.0.0.1/udp/9/quic-v1')), (err: Error) => err.name === 'DialError' && /no configured transport can dial it/.test(err.message))
    assert.ok(node.getMultiaddrs().every(m => !m.toString().includes('/udp/')))
  } finally {
    await node.stop()
  }
})

// One side starts the updates and the other only follows: when both start them, two updates
// started at once by the two sides meet as one phase change that neither counts as followed, so
// how many each follows depended on timing (the test failed about one run in five under load).
test('key updates: the side with an interval starts one every 16 packets, as client and as server, and the other follows each; 2 MiB echoes cross many key phases byte-exact', async () => {
  let transportA: QuicTransport | undefined
  let transportB: QuicTransport | undefined
  const a = await makeNode({ addresses: { listen: ['/ip4/127.0.0.1/udp/0/quic-v1'] }, transports: [(c: any) => (transportA = new QuicTransport({ keyUpdateInterval: 16 }, c))] })
  // 0: B starts no update of its own (config.ts), so every phase change it sees is A's.
  const b = await makeNode({ addresses: { listen: ['/ip4/127.0.0.1/udp/0/quic-v1'] }, transports: [(c: any) => (transportB = new QuicTransport({ keyUpdateInterval: 0 }, c))] })
  const echo = async (from: TestNode, to: TestNode, seed: number): Promise<void> => {
    const connection = await from.dial(to.getMultiaddrs()[0])
    const stream = await connection.newStream('/echo/1.0.0')
    const data = seededBytes(2 * 1024 * 1024, seed)
    const chunks: Uint8Array[] = []
    const reading = (async () => { for await (const c of stream) chunks.push(c.slice()) })()
    await stream.write(data)
    await stream.closeWrite()
    await reading
    assert.ok(Buffer.concat(chunks).equals(Buffer.from(data)), 'the echo arrived byte-exact')
  }
  // A dials B: the client starts the updates. The counters cover the connections open now.
  await echo(a, b, 99)
  const asClient = { a: transportA!.keyUpdates, b: transportB!.keyUpdates }
  assert.ok(asClient.a.byUs >= 2, `the client started ${asClient.a.byUs} updates`)
  assert.equal(asClient.b.byUs, 0, 'the server, with no interval, started none')
  assert.equal(asClient.a.byRemote, 0)
  // Each update waits for an ACK of a packet of the phase before it (RFC 9001 6.1), which the
  // server sends only after it followed; the last one may still be on its way.
  assert.ok(asClient.b.byRemote >= asClient.a.byUs - 1, `the server followed ${asClient.b.byRemote} of ${asClient.a.byUs}`)
  // B dials A: the server starts them (the first connection stays open, idle).
  await echo(b, a, 100)
  const started = transportA!.keyUpdates.byUs - asClient.a.byUs
  const followed = transportB!.keyUpdates.byRemote - asClient.b.byRemote
  assert.ok(started >= 2, `the server started ${started} updates`)
  assert.equal(transportB!.keyUpdates.byUs, 0, 'the client, with no interval, started none')
  assert.equal(transportA!.keyUpdates.byRemote, 0)
  assert.ok(followed >= started - 1, `the client followed ${followed} of ${started}`)
  await a.stop()
  await b.stop()
})
