/**
 * Private networks against go-libp2p (`--psk`, core/pnet) and js-libp2p (@libp2p/pnet), both
 * directions: with the same key file the nodes connect and ping each way; with different keys
 * neither connects, and our side fails fast with PrivateNetworkMismatchError instead of an
 * upgrade timeout.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLibp2p, multiaddr, peerIdFromString } from '../../src/index.ts'
import type { Libp2p } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping, type PingService } from '../../src/protocols/ping/index.ts'
import { encodePreSharedKey, preSharedKey, PrivateNetworkMismatchError } from '../../src/security/pnet/index.ts'
import { randomBytes } from '../../src/crypto/index.ts'
import { DialError } from '../../src/switch/errors.ts'
import { buildGoPeer, spawnPeer } from './harness.ts'
import type { PeerKind, PeerProcess } from './harness.ts'

const TEST_TIMEOUT_MS = 60_000
/** Far below the upgrade timeouts (10 s here, 15+ s in go and js). */
const FAIL_FAST_MS = 5_000

const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-pnet-'))
after(() => { rmSync(dir, { recursive: true, force: true }) })

function keyFile (name: string, key: Uint8Array, encoding: 'base16' | 'base64' | 'bin'): { path: string, psk: Uint8Array } {
  const psk = encodePreSharedKey(key, encoding)
  const path = join(dir, name)
  writeFileSync(path, psk)
  return { path, psk }
}

async function makeNode (psk: Uint8Array): Promise<Libp2p<{ ping: PingService }>> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: preSharedKey({ psk }),
    services: { identify: identify(), ping: ping() }
  })
}

function isMismatch (err: unknown): boolean {
  return err instanceof DialError && err.errors.some(e => e.error instanceof PrivateNetworkMismatchError)
}

for (const kind of ['go', 'js'] as PeerKind[]) {
  describe(`pnet with ${kind}-libp2p`, () => {
    const shared = randomBytes(32)
    // go reads every encoding; js's key files are base16.
    const theirs = keyFile(`${kind}-shared.key`, shared, kind === 'go' ? 'base64' : 'base16')
    const ours = keyFile(`ts-shared-${kind}.key`, shared, 'base16')
    const other = keyFile(`${kind}-other.key`, randomBytes(32), 'base16')
    let remote: PeerProcess
    let stranger: PeerProcess
    let node: Libp2p<{ ping: PingService }>
    const ourAddr = (): string => `${node.getMultiaddrs().map(String).find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))!}`

    before(async () => {
      if (kind === 'go') await buildGoPeer()
      ;[remote, stranger] = await Promise.all([
        spawnPeer(kind, ['--psk', theirs.path]),
        spawnPeer(kind, ['--psk', other.path])
      ])
      node = await makeNode(ours.psk)
    }, { timeout: 600_000 })

    after(async () => {
      await node?.stop()
      await Promise.all([remote?.stop(), stranger?.stop()])
    })

    it('with the same key: we dial and ping them', { timeout: TEST_TIMEOUT_MS }, async () => {
      const rtt = await node.services.ping.ping(multiaddr(remote.addrs[0]), { signal: AbortSignal.timeout(20_000) })
      assert.ok(Number.isFinite(rtt))
      assert.equal(node.getConnections(peerIdFromString(remote.peerId)).length, 1)
    })

    it('with the same key: they ping us', { timeout: TEST_TIMEOUT_MS }, async () => {
      const reply = await remote.commandOk({ cmd: 'ping', peer: node.peerId.toString(), count: 2 })
      assert.equal(reply.rtts.length, 2)
    })

    // We detect another key on the remote's first bytes, or when it hangs up. A remote that
    // reads our multistream header under its own key sees random bytes: when they spell a length
    // it is willing to wait for, it waits in silence (a multistream listener that answers only
    // after reading, in about one dial in eight here) and nothing can tell that apart from a slow
    // peer: the dial's per-address deadline ends it. Either way the dial fails, typed and bounded.
    it('with another key: our dial fails with PrivateNetworkMismatchError, or at the dial deadline when the remote waits silently', { timeout: TEST_TIMEOUT_MS }, async () => {
      const started = Date.now()
      await assert.rejects(node.dial(multiaddr(stranger.addrs[0]), { signal: AbortSignal.timeout(20_000) }), (err: unknown) =>
        isMismatch(err) || (err instanceof DialError && err.errors.every(e => (e.error as { code?: string }).code === 'ERR_TIMEOUT')))
      assert.ok(Date.now() - started < FAIL_FAST_MS + 2_000, `took ${Date.now() - started} ms`)
      assert.equal(node.getConnections(peerIdFromString(stranger.peerId)).length, 0)
    })

    it('with another key: their dial fails, and fast', { timeout: TEST_TIMEOUT_MS }, async () => {
      const started = Date.now()
      const reply = await stranger.command({ cmd: 'dial', addr: `${ourAddr()}/p2p/${node.peerId.toString()}` })
      assert.equal(reply.ok, false, 'a peer with another key connected')
      assert.ok(Date.now() - started < FAIL_FAST_MS, `took ${Date.now() - started} ms`)
      assert.equal(node.getConnections(peerIdFromString(stranger.peerId)).length, 0)
    })
  })
}
