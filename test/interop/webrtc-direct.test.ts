/**
 * WebRTC Direct interop on 127.0.0.1 with go-libp2p (pion; interop/go-peer/webrtcdirect.go) in
 * both directions, and with js-libp2p (@libp2p/webrtc on node-datachannel; interop/js-peer)
 * in both directions: our Node dialer (node-datachannel, ufrag v1) against their listeners, and
 * their dialers against our listener (ICE UDP mux, Noise as initiator). Connect, identify, ping
 * both ways, concurrent echo streams both ways, a 16 MiB echo, clean close.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../src/index.ts'
import type { Libp2p } from '../../src/index.ts'
import { webRTCDirect } from '../../src/transport/webrtc/webrtc-direct.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import type { IdentifyService } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import type { PingService } from '../../src/protocols/ping/index.ts'
import { echo } from '../../src/protocols/echo/index.ts'
import { peerIdFromString } from '../../src/peer/peer-id.ts'
import { buildGoPeer, goAvailable, spawnPeer } from './harness.ts'
import type { PeerProcess } from './harness.ts'
import { echoAndVerify, echoPattern } from './suite.ts'
import { loadNodeDatachannel } from '../../src/transport/webrtc/native.node.ts'

// node-datachannel sometimes keeps a closed channel object alive and the process with it (see
// src/transport/webrtc/native.node.ts): release everything once this file's tests are done.
after(async () => { await loadNodeDatachannel().then(ndc => { ndc.cleanup() }, () => {}) })

type Node = Libp2p<{ identify: IdentifyService, ping: PingService }>

const LISTEN = '/ip4/127.0.0.1/udp/0/webrtc-direct'
const STREAMS = 32
const BIG_ECHO = 16 * 1024 * 1024
const TIMEOUT = 120_000
const hasGo = await goAvailable()

const cases = [
  { kind: 'go', direction: 'outbound' },
  { kind: 'go', direction: 'inbound' },
  { kind: 'js', direction: 'inbound' },
  { kind: 'js', direction: 'outbound' }
] as const

for (const { kind, direction } of cases) {
  describe(`WebRTC Direct with ${kind}-libp2p, ${direction === 'outbound' ? `we dial ${kind}` : `${kind} dials us`}`, { skip: kind === 'go' && !hasGo ? 'no Go toolchain to build interop/go-peer' : false }, () => {
    let remote: PeerProcess
    let node: Node
    before(async () => {
      if (kind === 'go') await buildGoPeer()
      remote = await spawnPeer(kind, direction === 'outbound' ? ['--listen', LISTEN] : [])
      node = await createLibp2p({
        addresses: { listen: [LISTEN] },
        transports: [webRTCDirect()],
        services: { identify: identify(), ping: ping(), echo: echo({ maxInboundStreams: 4 * STREAMS, maxOutboundStreams: 4 * STREAMS }) }
      }) as unknown as Node
    }, { timeout: 600_000 })
    after(async () => {
      await node?.stop()
      await remote?.stop()
    })
    const remotePeer = () => peerIdFromString(remote.peerId)

    it('connects, pings and identifies both ways', { timeout: TIMEOUT }, async () => {
      if (direction === 'outbound') {
        const addr = remote.addrs.find(a => a.includes('/webrtc-direct/certhash/'))
        assert.ok(addr !== undefined, `no webrtc-direct address in ${remote.addrs.join(', ')}`)
        const connection = await node.dial(multiaddr(addr))
        assert.equal(connection.encryption, '/noise')
        assert.equal(connection.multiplexer, '/webrtc')
      } else {
        const ours = node.getMultiaddrs().map(String).find(a => a.includes('/webrtc-direct/certhash/'))!
        const reply = await remote.commandOk({ cmd: 'dial', addr: ours })
        assert.equal(reply.peerId, node.peerId.toString())
      }
      assert.ok(await node.services.ping.ping(remotePeer()) >= 0)
      const { rtts } = await remote.commandOk({ cmd: 'ping', peer: node.peerId.toString(), count: 3 })
      assert.equal(rtts.length, 3)
      const theirs = await remote.commandOk({ cmd: 'identify', peer: node.peerId.toString() })
      assert.ok(theirs.protocols.includes('/echo/1.0.0'), JSON.stringify(theirs.protocols))
      const connections = node.getConnections(remotePeer())
      assert.equal(connections.length, 1)
      assert.equal(connections[0].direction, direction)
    })

    it(`${STREAMS} concurrent echo streams both ways and a ${BIG_ECHO / 1048576} MiB echo`, { timeout: TIMEOUT }, async () => {
      const reply = await remote.commandOk({ cmd: 'echo', peer: node.peerId.toString(), bytes: 16 * 1024, streams: STREAMS, timeoutMs: TIMEOUT - 10_000 })
      assert.equal(reply.streams, STREAMS)
      const connection = node.getConnections(remotePeer())[0]
      await Promise.all(Array.from({ length: STREAMS }, async (_, i) => {
        const stream = await connection.newStream('/echo/1.0.0', { maxOutboundStreams: 4 * STREAMS })
        await echoAndVerify(stream, echoPattern(16 * 1024, i), AbortSignal.timeout(TIMEOUT))
      }))
      const big = await connection.newStream('/echo/1.0.0')
      await echoAndVerify(big, echoPattern(BIG_ECHO, 1), AbortSignal.timeout(TIMEOUT))
    })

    it('closes cleanly', { timeout: TIMEOUT }, async () => {
      const since = remote.events.length
      await node.hangUp(remotePeer())
      await remote.waitEvent(e => e.event === 'peer:disconnect' && e.peerId === node.peerId.toString(), 10_000, { since })
      assert.equal(node.getConnections(remotePeer()).length, 0)
    })
  })
}
