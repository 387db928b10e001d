/**
 * QUIC v1 interop: our QUIC (TypeScript over node:dgram, libp2p TLS inside) against go-libp2p's
 * (quic-go) and js-libp2p's (@chainsafe/libp2p-quic, a Rust addon) and rust-libp2p's (libp2p-quic), both directions, on 127.0.0.1 and ::1: connect, identify, ping, 256 concurrent echo
 * streams, a large echo each way, a remote reset, and a clean close. Our side starts a key
 * update every KEY_UPDATE_INTERVAL packets (RFC 9001 6), so the remote must follow ours.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../src/index.ts'
import type { Libp2p } from '../../src/index.ts'
import { QuicTransport } from '../../src/transport/quic/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import type { IdentifyService } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import type { PingService } from '../../src/protocols/ping/index.ts'
import { echo } from '../../src/protocols/echo/index.ts'
import { peerIdFromString } from '../../src/peer/peer-id.ts'
import { buildGoPeer, buildRustPeer, cargoAvailable, spawnPeer } from './harness.ts'
import type { PeerKind, PeerProcess } from './harness.ts'
import { echoAndVerify, echoPattern, RESET_PROTOCOL } from './suite.ts'

type Node = Libp2p<{ identify: IdentifyService, ping: PingService }>

/**
 * Bytes echoed on one stream each way: 100 MiB on IPv4, 16 MiB on ::1 (the same code path; it
 * keeps npm test's time down). QUIC_INTEROP_ECHO_MIB overrides both.
 */
const echoBytes = (family: 'ip4' | 'ip6', kind: PeerKind): number => Number(process.env.QUIC_INTEROP_ECHO_MIB ?? (family === 'ip4' && kind !== 'rust' ? 100 : 16)) * 1024 * 1024
const STREAMS = 256
const TIMEOUT = 180_000
/** Packets per key phase on our side: the large echo crosses many of our key updates. */
const KEY_UPDATE_INTERVAL = 256

async function quicNode (listen: string, onTransport: (transport: QuicTransport) => void): Promise<Node> {
  return await createLibp2p({
    addresses: { listen: [listen] },
    transports: [(components: any) => { const t = new QuicTransport({ keyUpdateInterval: KEY_UPDATE_INTERVAL }, components); onTransport(t); return t }],
    services: {
      identify: identify(),
      ping: ping(),
      echo: echo({ maxInboundStreams: 4 * STREAMS, maxOutboundStreams: 4 * STREAMS })
    }
  }) as unknown as Node
}

function quicSuite (kind: PeerKind, family: 'ip4' | 'ip6', direction: 'outbound' | 'inbound'): void {
  const host = family === 'ip4' ? '127.0.0.1' : '::1'
  const listen = `/${family}/${host}/udp/0/quic-v1`
  describe(`QUIC with ${kind}-libp2p on ${host}, ${direction === 'outbound' ? `we dial ${kind}` : `${kind} dials us`}`, () => {
    let remote: PeerProcess
    let node: Node
    let transport: QuicTransport
    before(async () => {
      if (kind === 'go') await buildGoPeer()
      if (kind === 'rust') await buildRustPeer()
      remote = await spawnPeer(kind, ['--listen', listen])
      node = await quicNode(listen, t => { transport = t })
      await node.handle(RESET_PROTOCOL, async stream => {
        try { await stream.read() } finally { stream.abort(new Error('reset by the test handler')) }
      })
    }, { timeout: 1_800_000 })
    after(async () => {
      await node?.stop()
      await remote?.stop()
    })
    const remotePeer = () => peerIdFromString(remote.peerId)
    const ourAddr = () => node.getMultiaddrs().map(String).find(a => a.includes(`/${family}/`) && a.includes('/quic-v1'))!

    it('connects, pings and identifies both ways', { timeout: TIMEOUT }, async () => {
      if (direction === 'outbound') {
        const addr = remote.addrs.find(a => a.includes('/quic-v1'))
        assert.ok(addr !== undefined, `no quic-v1 address in ${remote.addrs.join(', ')}`)
        const connection = await node.dial(multiaddr(addr))
        assert.equal(connection.encryption, '/tls/1.0.0')
        assert.equal(connection.multiplexer, '/quic-v1')
      } else {
        const reply = await remote.commandOk({ cmd: 'dial', addr: ourAddr() })
        assert.equal(reply.peerId, node.peerId.toString())
      }
      const rtt = await node.services.ping.ping(remotePeer())
      assert.ok(rtt >= 0)
      const { rtts } = await remote.commandOk({ cmd: 'ping', peer: node.peerId.toString(), count: 3 })
      assert.equal(rtts.length, 3)
      const theirs = await remote.commandOk({ cmd: 'identify', peer: node.peerId.toString() })
      assert.ok(theirs.protocols.includes('/echo/1.0.0'), JSON.stringify(theirs.protocols))
      assert.ok(theirs.listenAddrs.some((a: string) => a.includes('/quic-v1')), JSON.stringify(theirs.listenAddrs))
      const connections = node.getConnections(remotePeer())
      assert.equal(connections.length, 1)
      assert.equal(connections[0].direction, direction)
    })

    it(`${STREAMS} concurrent echo streams both ways`, { timeout: TIMEOUT }, async () => {
      const reply = await remote.commandOk({ cmd: 'echo', peer: node.peerId.toString(), bytes: 16 * 1024, streams: STREAMS, timeoutMs: TIMEOUT - 10_000 })
      assert.equal(reply.streams, STREAMS)
      const connection = node.getConnections(remotePeer())[0]
      await Promise.all(Array.from({ length: STREAMS }, async (_, i) => {
        const stream = await connection.newStream('/echo/1.0.0', { maxOutboundStreams: 4 * STREAMS })
        await echoAndVerify(stream, echoPattern(16 * 1024, i), AbortSignal.timeout(TIMEOUT))
      }))
    })

    const BIG_ECHO_BYTES = echoBytes(family, kind)
    it(`echoes ${BIG_ECHO_BYTES / 1024 / 1024} MiB each way`, { timeout: 2 * TIMEOUT }, async () => {
      const connection = node.getConnections(remotePeer())[0]
      const stream = await connection.newStream('/echo/1.0.0')
      const started = performance.now()
      await echoAndVerify(stream, echoPattern(BIG_ECHO_BYTES, 0), AbortSignal.timeout(2 * TIMEOUT - 5000))
      const ours = performance.now() - started
      const reply = await remote.commandOk({ cmd: 'echo', peer: node.peerId.toString(), bytes: BIG_ECHO_BYTES, streams: 1, timeoutMs: TIMEOUT })
      assert.equal(reply.bytes, BIG_ECHO_BYTES)
      // The echoes went through key updates we started: the remote followed each one.
      const updates = transport.keyUpdates
      assert.ok(updates.byUs >= 3, `key updates we started: ${updates.byUs} (the remote started ${updates.byRemote})`)
      console.log(`# ${kind} ${host} ${direction}: our ${BIG_ECHO_BYTES / 1048576} MiB echo took ${ours.toFixed(0)} ms (${(2 * BIG_ECHO_BYTES / 1048576 / (ours / 1000)).toFixed(1)} MiB/s both ways)`)
    })

    it('a remote reset reaches the reader, both ways', { timeout: TIMEOUT }, async () => {
      if (kind === 'js') {
        // @chainsafe/libp2p-quic 2.1 reads a remote RESET_STREAM as a clean end, from go-libp2p
        // as from us (checked by hand against the go peer): its reset command cannot see ours.
        const reply = await remote.command({ cmd: 'reset', peer: node.peerId.toString() })
        assert.equal(reply.ok, false)
        assert.match(String(reply.error), /ended cleanly/)
      } else {
        const reply = await remote.commandOk({ cmd: 'reset', peer: node.peerId.toString() })
        assert.match(String(reply.error), /reset/i)
      }
      const stream = await node.getConnections(remotePeer())[0].newStream(RESET_PROTOCOL)
      await stream.write(new Uint8Array([1, 2, 3]))
      if (kind === 'rust') {
        // rust-libp2p's Stream has no reset: its peer resets by dropping the stream, which
        // yamux turns into RST but libp2p-quic (quinn 0.11) into a graceful FIN
        while (await stream.read() !== null) {}
      } else {
        await assert.rejects(async () => { while (await stream.read() !== null) {} }, { name: 'StreamResetError' })
      }
    })

    it('closes cleanly', { timeout: TIMEOUT }, async () => {
      const since = remote.events.length
      await node.hangUp(remotePeer())
      await remote.waitEvent(e => e.event === 'peer:disconnect' && e.peerId === node.peerId.toString(), 10_000, { since })
      assert.equal(node.getConnections(remotePeer()).length, 0)
    })
  })
}

for (const kind of ['go', 'js'] as const) {
  for (const family of ['ip4', 'ip6'] as const) {
    for (const direction of ['outbound', 'inbound'] as const) quicSuite(kind, family, direction)
  }
}
// rust-libp2p (libp2p-quic, quinn): IPv4 only and a 16 MiB echo, to keep npm test's time down
if (await cargoAvailable()) {
  for (const direction of ['outbound', 'inbound'] as const) quicSuite('rust', 'ip4', direction)
}
