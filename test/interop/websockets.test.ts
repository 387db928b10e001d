/**
 * Interop over WebSockets (`/ip4/127.0.0.1/tcp/N/ws`) against js-libp2p (@libp2p/websockets)
 * and go-libp2p (its websocket transport), each with us dialing and with them dialing us:
 * connect, Noise + Yamux negotiation, ping, identify (the /ws listen addresses travel both
 * ways), 10 MiB echo each way, 100 concurrent streams, and a clean close by the dialer.
 * Against go the same again with libp2p TLS (muxer agreed in ALPN): we propose /tls/1.0.0
 * optimistically while go's listener sends its multistream header unprompted, so our TLS
 * client must never read that header as a TLS record (it did: "wrong version number").
 * The go part is skipped when no Go toolchain is available.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p, multiaddr, peerIdFromString } from '../../src/index.ts'
import { echo } from '../../src/protocols/echo/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { tls } from '../../src/security/tls/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import type { IdentifyResult, Libp2p, PeerId } from '../../src/index.ts'
import type { EchoService } from '../../src/protocols/echo/index.ts'
import type { IdentifyService } from '../../src/protocols/identify/index.ts'
import type { PingService } from '../../src/protocols/ping/index.ts'
import { webSockets } from '../../src/transport/websockets/index.ts'
import { buildGoPeer, goAvailable, spawnPeer } from './harness.ts'
import type { PeerKind, PeerProcess } from './harness.ts'
import type { SecurityName } from './suite.ts'
import { BIG_ECHO_BYTES, ECHO_PROTOCOL, SECURITY_PROTOCOL, MANY_STREAMS, MANY_STREAMS_BYTES, echoAndVerify, echoPattern } from './suite.ts'

const CAPABILITY_TIMEOUT_MS = 60_000
const EVENT_TIMEOUT_MS = 10_000
const WS_LISTEN = '/ip4/127.0.0.1/tcp/0/ws'

type WsNode = Libp2p<{ identify: IdentifyService, ping: PingService, echo: EchoService }>

const hasGo = await goAvailable()

function withoutPeerId (addr: string): string {
  return addr.replace(/\/p2p\/[^/]+$/, '')
}

/** Resolves with the first `peer:identify` for `peer`, including one that already happened. */
function identifyOf (node: WsNode, peer: PeerId, seen: Map<string, IdentifyResult>): Promise<IdentifyResult> {
  const known = seen.get(peer.toString())
  if (known !== undefined) return Promise.resolve(known)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { node.removeEventListener('peer:identify', onIdentify); reject(new Error('no peer:identify in time')) }, EVENT_TIMEOUT_MS)
    const onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
      if (!evt.detail.peerId.equals(peer)) return
      clearTimeout(timer)
      node.removeEventListener('peer:identify', onIdentify)
      resolve(evt.detail)
    }
    node.addEventListener('peer:identify', onIdentify)
  })
}

function wsInteropSuite (kind: PeerKind, direction: 'outbound' | 'inbound', security: SecurityName = 'noise'): void {
  const skip = kind === 'go' && !hasGo ? 'no Go toolchain' : false
  describe(`${kind}-libp2p over /ws with ${security}, ${direction === 'outbound' ? `we dial ${kind}` : `${kind} dials us`}`, { skip }, () => {
    let remote: PeerProcess
    let remotePeer: PeerId
    let node: WsNode
    const identified = new Map<string, IdentifyResult>()
    const signal = (ms = CAPABILITY_TIMEOUT_MS): AbortSignal => AbortSignal.timeout(ms)
    const ourWsAddr = (): string => {
      const addr = node.getMultiaddrs().map(String).find(a => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//.test(a))
      assert.ok(addr !== undefined, `our node has no /ws address: ${node.getMultiaddrs().map(String).join(', ')}`)
      return addr
    }
    const onlyConnection = () => {
      const connections = node.getConnections(remotePeer)
      assert.equal(connections.length, 1, `expected one connection to the ${kind} peer, found ${connections.length}`)
      return connections[0]
    }

    before(async () => {
      if (kind === 'go') await buildGoPeer()
      remote = await spawnPeer(kind, ['--listen', WS_LISTEN, ...(security === 'tls' ? ['--security', 'tls'] : [])])
      remotePeer = peerIdFromString(remote.peerId)
      assert.match(remote.addrs[0], /\/tcp\/\d+\/ws\/p2p\//)
      node = await createLibp2p({
        addresses: { listen: [WS_LISTEN] },
        transports: [webSockets()],
        connectionEncrypters: [security === 'tls' ? tls() : noise()],
        streamMuxers: [yamux({ closeTimeout: 30_000 })],
        services: {
          identify: identify(),
          ping: ping(),
          echo: echo({ maxInboundStreams: 4 * MANY_STREAMS, maxOutboundStreams: 4 * MANY_STREAMS })
        }
      })
      node.addEventListener('peer:identify', (evt) => { identified.set(evt.detail.peerId.toString(), evt.detail) })
    }, { timeout: 600_000 })

    after(async () => {
      await node?.stop()
      await remote?.stop()
    })

    it(`connects with ${security} and Yamux`, { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      const remoteSince = remote.events.length
      if (direction === 'outbound') {
        const connection = await node.dial(multiaddr(remote.addrs[0]), { signal: signal() })
        assert.equal(connection.remotePeer.toString(), remote.peerId)
      } else {
        const reply = await remote.commandOk({ cmd: 'dial', addr: ourWsAddr() })
        assert.equal(reply.peerId, node.peerId.toString())
      }
      await remote.waitEvent(e => e.event === 'peer:connect' && e.peerId === node.peerId.toString(), EVENT_TIMEOUT_MS, { since: remoteSince })
      const connection = onlyConnection()
      assert.equal(connection.direction, direction)
      assert.equal(connection.encryption, SECURITY_PROTOCOL[security])
      assert.equal(connection.multiplexer, '/yamux/1.0.0')
      assert.match(connection.remoteAddr.toString(), /\/tcp\/\d+\/ws/)
    })

    it('pings both ways', { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      for (let i = 0; i < 3; i++) {
        const rtt = await node.services.ping.ping(remotePeer, { signal: signal() })
        assert.ok(Number.isFinite(rtt) && rtt >= 0)
      }
      const { rtts } = await remote.commandOk({ cmd: 'ping', peer: node.peerId.toString(), count: 3 })
      assert.equal(rtts.length, 3)
    })

    it('identifies both ways with /ws listen addresses', { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      const result = await identifyOf(node, remotePeer, identified)
      const theirWsAddr = withoutPeerId(remote.addrs[0])
      assert.ok(result.listenAddrs.map(String).includes(theirWsAddr), `${theirWsAddr} not among ${result.listenAddrs.map(String).join(', ')}`)
      assert.ok(result.protocols.includes(ECHO_PROTOCOL))
      assert.ok(result.observedAddr !== undefined)
      assert.match(result.observedAddr.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)

      const theirs = await remote.commandOk({ cmd: 'identify', peer: node.peerId.toString() })
      assert.ok(theirs.listenAddrs.includes(withoutPeerId(ourWsAddr())), `${kind} did not learn ${ourWsAddr()}: ${JSON.stringify(theirs.listenAddrs)}`)
      assert.ok(theirs.protocols.includes(ECHO_PROTOCOL))
    })

    it(`echoes ${BIG_ECHO_BYTES} bytes each way`, { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      const remoteSince = remote.events.length
      const stream = await node.dialProtocol(remotePeer, ECHO_PROTOCOL, { signal: signal() })
      await echoAndVerify(stream, echoPattern(BIG_ECHO_BYTES, 0), signal(), 'we -> them')
      const done = await remote.waitEvent(e => e.event === 'echo:done' && e.peerId === node.peerId.toString(), EVENT_TIMEOUT_MS, { since: remoteSince })
      assert.equal(done.bytes, BIG_ECHO_BYTES)
      const reply = await remote.commandOk({ cmd: 'echo', peer: node.peerId.toString(), bytes: BIG_ECHO_BYTES, streams: 1, timeoutMs: CAPABILITY_TIMEOUT_MS - 5_000 })
      assert.equal(reply.bytes, BIG_ECHO_BYTES)
      onlyConnection()
    })

    it(`runs ${MANY_STREAMS} concurrent echo streams each way`, { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      const deadline = signal()
      await Promise.all(Array.from({ length: MANY_STREAMS }, async (_, k) => {
        const stream = await node.dialProtocol(remotePeer, ECHO_PROTOCOL, { signal: deadline })
        await echoAndVerify(stream, echoPattern(MANY_STREAMS_BYTES, k), deadline, `we -> them, stream ${k}`)
      }))
      await remote.commandOk({ cmd: 'echo', peer: node.peerId.toString(), bytes: MANY_STREAMS_BYTES, streams: MANY_STREAMS, timeoutMs: CAPABILITY_TIMEOUT_MS - 5_000 })
      assert.equal(onlyConnection().status, 'open')
    })

    it('closes cleanly on both ends', { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      const remoteSince = remote.events.length
      const disconnected = new Promise<void>(resolve => {
        node.addEventListener('peer:disconnect', (evt) => { if (evt.detail.equals(remotePeer)) resolve() })
      })
      if (direction === 'outbound') {
        await node.hangUp(remotePeer, { signal: signal(EVENT_TIMEOUT_MS) })
      } else {
        await remote.commandOk({ cmd: 'hangup', peer: node.peerId.toString() })
      }
      await disconnected
      await remote.waitEvent(e => e.event === 'peer:disconnect' && e.peerId === node.peerId.toString(), EVENT_TIMEOUT_MS, { since: remoteSince })
      assert.equal(node.getConnections(remotePeer).length, 0)
      assert.deepEqual((await remote.commandOk({ cmd: 'connections' })).peers, [])
      assert.equal(await remote.stop(), 0)
      await node.stop()
      assert.equal(node.getConnections().length, 0)
    })
  })
}

for (const kind of ['js', 'go'] as const) {
  wsInteropSuite(kind, 'outbound')
  wsInteropSuite(kind, 'inbound')
}
wsInteropSuite('go', 'outbound', 'tls')
wsInteropSuite('go', 'inbound', 'tls')
