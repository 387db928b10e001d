/**
 * Symmetric interop: ts-libp2p in its own process (interop/ts-peer) driven through the same
 * JSON-lines contract as the js and go peers, against each of them and against itself. Both
 * processes dial, ping, echo, reset and hang up, so every check runs from both sides of one
 * harness. The ts peer exits 0 after `stop` only if its stopped node left no socket, server or
 * timer behind (it waits for its event loop to empty instead of calling process.exit).
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { buildGoPeer, spawnPeer } from './harness.ts'
import type { PeerKind, PeerProcess } from './harness.ts'
import type { MuxerName, SecurityName } from './suite.ts'

const TEST_TIMEOUT_MS = 60_000
const ECHO_BYTES = 1024 * 1024
const ECHO_STREAMS = 50
const HANGUP_TIMEOUT_MS = 1_500

function bare (addr: string): string {
  return addr.replace(/\/p2p\/[^/]+$/, '')
}

function pair (otherKind: PeerKind, muxer: MuxerName, security: SecurityName = 'noise'): void {
  const securityArgs = security === 'noise' ? [] : ['--security', security]
  describe(`ts-peer <-> ${otherKind}-peer, ${security} + ${muxer}`, () => {
    let ts: PeerProcess
    let other: PeerProcess
    const agentOf = new Map<PeerProcess, string>()

    before(async () => {
      if (otherKind === 'go') await buildGoPeer()
      ;[ts, other] = await Promise.all([
        spawnPeer('ts', ['--muxer', muxer, '--agent', 'ts-peer-under-test', ...securityArgs]),
        spawnPeer(otherKind, ['--muxer', muxer, '--agent', `${otherKind}-peer-reference`, ...securityArgs])
      ])
      agentOf.set(ts, 'ts-peer-under-test')
      agentOf.set(other, `${otherKind}-peer-reference`)
    }, { timeout: 600_000 })

    after(async () => {
      await Promise.all([ts?.stop(), other?.stop()])
    })

    // the dialer of each round, and the one it dials
    const rounds = [
      { name: 'ts dials', dialer: () => ts, listener: () => other },
      { name: `${otherKind} dials`, dialer: () => other, listener: () => ts }
    ]
    for (const round of rounds) {
      it(`${round.name}: connect, identify, ping, echo, reset, hang up`, { timeout: TEST_TIMEOUT_MS }, async () => {
        const a = round.dialer()
        const b = round.listener()
        const aSince = a.events.length
        const bSince = b.events.length
        assert.equal((await a.commandOk({ cmd: 'dial', addr: b.addrs[0] })).peerId, b.peerId)
        await b.waitEvent(e => e.event === 'peer:connect' && e.peerId === a.peerId, 10_000, { since: bSince })

        for (const [self, peer] of [[a, b], [b, a]]) {
          const id = await self.commandOk({ cmd: 'identify', peer: peer.peerId })
          assert.equal(id.agentVersion, agentOf.get(peer))
          assert.ok(id.listenAddrs.includes(bare(peer.addrs[0])), `${self.label} lacks ${peer.label}'s listen address`)
          for (const p of ['/echo/1.0.0', '/ipfs/id/1.0.0', '/ipfs/ping/1.0.0', '/test/reset/1.0.0']) {
            assert.ok(id.protocols.includes(p), `${self.label} did not learn that ${peer.label} serves ${p}`)
          }
          assert.equal((await self.commandOk({ cmd: 'ping', peer: peer.peerId, count: 3 })).rtts.length, 3)
          await self.commandOk({ cmd: 'echo', peer: peer.peerId, bytes: ECHO_BYTES })
          await self.commandOk({ cmd: 'echo', peer: peer.peerId, bytes: 16 * 1024, streams: ECHO_STREAMS })
          const reset = await self.commandOk({ cmd: 'reset', peer: peer.peerId })
          assert.match(String(reset.error), /reset/i)
        }

        // Bounded well below the muxers' 2 s close timeout: a graceful close that waits for a
        // stream nobody finishes (e.g. an idle ping stream kept for reuse) must fail here.
        await a.commandOk({ cmd: 'hangup', peer: b.peerId, timeoutMs: HANGUP_TIMEOUT_MS })
        await a.waitEvent(e => e.event === 'peer:disconnect' && e.peerId === b.peerId, 10_000, { since: aSince })
        await b.waitEvent(e => e.event === 'peer:disconnect' && e.peerId === a.peerId, 10_000, { since: bSince })
        assert.deepEqual((await b.commandOk({ cmd: 'connections' })).peers, [])
      })
    }

    it('both stop cleanly; the ts peer leaves nothing running', { timeout: TEST_TIMEOUT_MS }, async () => {
      // connected again, with a ping stream kept for reuse, so stop has work to do
      await ts.commandOk({ cmd: 'dial', addr: other.addrs[0] })
      await ts.commandOk({ cmd: 'ping', peer: other.peerId })
      await other.commandOk({ cmd: 'ping', peer: ts.peerId })
      const tsCode = await ts.stop(15_000)
      assert.equal(tsCode, 0, `ts peer exit code ${tsCode}; stderr:\n${ts.stderr}`)
      await other.waitEvent(e => e.event === 'peer:disconnect' && e.peerId === ts.peerId, 10_000)
      assert.equal(await other.stop(), 0)
    })
  })
}

pair('ts', 'yamux')
pair('js', 'yamux')
pair('js', 'mplex')
pair('go', 'yamux')
// libp2p TLS between two ts processes (and its teardown: nothing left after stop).
pair('ts', 'yamux', 'tls')
