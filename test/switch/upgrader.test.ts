import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Upgrader } from '../../src/switch/upgrader.ts'
import { DefaultRegistrar } from '../../src/switch/registrar.ts'
import { TypedEventEmitter } from '../../src/util/events.ts'
import type { Libp2pEvents } from '../../src/interface/events.ts'
import type { ConnectionGater } from '../../src/interface/connection-gater.ts'
import type { PeerStore } from '../../src/interface/peer-store.ts'
import { fakeEncrypter, frameMuxer, makePeer, waitFor } from './doubles.ts'
import { rawPair } from '../support/pipe-network.ts'
import type { PipeRawConnection } from '../support/pipe-network.ts'
import type { PeerId } from '../../src/interface/peer-id.ts'

function registrar (): DefaultRegistrar {
  return new DefaultRegistrar({ events: new TypedEventEmitter<Libp2pEvents>(), peerStore: {} as PeerStore, getConnections: () => [] })
}

function upgrader (self: PeerId, opts: { gater?: ConnectionGater, muxers?: string[], early?: string, hang?: boolean, timeout?: number, encrypterProtocol?: string } = {}): Upgrader {
  return new Upgrader({
    connectionEncrypters: [fakeEncrypter(self, opts.encrypterProtocol, { streamMuxer: opts.early, hang: opts.hang })],
    streamMuxers: (opts.muxers ?? ['/frame/1.0.0']).map(p => frameMuxer(p)),
    registrar: registrar(),
    connectionGater: opts.gater,
    inboundUpgradeTimeout: opts.timeout,
    outboundUpgradeTimeout: opts.timeout
  })
}

/** Counts the setTimeout calls armed for between `lowMs` and `highMs`, until `restore()`. */
function watchTimersAbove (lowMs: number, highMs: number): { readonly count: number, restore(): void } {
  const original = globalThis.setTimeout
  let count = 0
  globalThis.setTimeout = ((fn: () => void, ms?: number, ...args: unknown[]) => {
    if (ms !== undefined && ms > lowMs && ms <= highMs) count++
    return original(fn, ms, ...args)
  }) as typeof setTimeout
  return { get count () { return count }, restore: () => { globalThis.setTimeout = original } }
}

describe('Upgrader', () => {
  it('upgrades both sides and authenticates the peers', async () => {
    const a = await makePeer()
    const b = await makePeer()
    const [ra, rb] = rawPair()
    const [ca, cb] = await Promise.all([
      upgrader(a.peerId).upgradeOutbound(ra, { remotePeer: b.peerId }),
      upgrader(b.peerId).upgradeInbound(rb)
    ])
    assert.ok(ca.remotePeer.equals(b.peerId))
    assert.ok(cb.remotePeer.equals(a.peerId))
    assert.equal(ca.direction, 'outbound')
    assert.equal(cb.direction, 'inbound')
    assert.equal(ca.encryption, '/fake-secure/1.0.0')
    assert.equal(ca.multiplexer, '/frame/1.0.0')
    assert.equal(ca.status, 'open')
    assert.ok(ca.timeline.upgraded !== undefined)
    await ca.close()
    await waitFor(() => cb.status === 'closed')
  })

  it('skips muxer negotiation when the handshake agreed on one', async () => {
    const a = await makePeer()
    const b = await makePeer()
    const [ra, rb] = rawPair()
    const [ca, cb] = await Promise.all([
      upgrader(a.peerId, { muxers: ['/other', '/frame/2'], early: '/frame/2' }).upgradeOutbound(ra),
      upgrader(b.peerId, { muxers: ['/frame/2'], early: '/frame/2' }).upgradeInbound(rb)
    ])
    assert.equal(ca.multiplexer, '/frame/2')
    assert.equal(cb.multiplexer, '/frame/2')
    ca.abort(new Error('done'))
    cb.abort(new Error('done'))
  })

  it('rejects an unexpected peer and aborts the raw connection', async () => {
    const a = await makePeer()
    const b = await makePeer()
    const c = await makePeer()
    const [ra, rb] = rawPair()
    const [outbound] = await Promise.allSettled([
      upgrader(a.peerId).upgradeOutbound(ra, { remotePeer: c.peerId }),
      upgrader(b.peerId).upgradeInbound(rb)
    ])
    assert.equal(outbound.status, 'rejected')
    assert.equal((outbound as PromiseRejectedResult).reason.code, 'ERR_UNEXPECTED_PEER')
    assert.equal(ra.status, 'aborted')
  })

  it('fails when no security protocol is shared', async () => {
    const a = await makePeer()
    const b = await makePeer()
    const [ra, rb] = rawPair()
    const [outbound, inbound] = await Promise.allSettled([
      upgrader(a.peerId, { encrypterProtocol: '/x', timeout: 2000 }).upgradeOutbound(ra),
      upgrader(b.peerId, { encrypterProtocol: '/y', timeout: 2000 }).upgradeInbound(rb)
    ])
    assert.equal(outbound.status, 'rejected')
    assert.equal((outbound as PromiseRejectedResult).reason.code, 'ERR_UNSUPPORTED_PROTOCOL')
    assert.equal(inbound.status, 'rejected')
  })

  it('proposes its only security protocol optimistically: proposal and handshake share one write', async () => {
    const a = await makePeer()
    const b = await makePeer()
    const [ra, rb] = rawPair()
    const writes: Uint8Array[] = []
    const send = ra.send.bind(ra)
    ra.send = (chunk: Uint8Array) => { writes.push(chunk); return send(chunk) }
    const [ca, cb] = await Promise.all([
      upgrader(a.peerId).upgradeOutbound(ra, { remotePeer: b.peerId }),
      upgrader(b.peerId).upgradeInbound(rb)
    ])
    assert.equal(ca.encryption, '/fake-secure/1.0.0')
    const first = new TextDecoder().decode(writes[0])
    assert.ok(first.startsWith('\x13/multistream/1.0.0\n\x13/fake-secure/1.0.0\n'), JSON.stringify(first.slice(0, 60)))
    assert.ok(first.endsWith(a.peerId.toString()), 'the handshake message follows the proposal in the same write')
    ca.abort(new Error('done'))
    cb.abort(new Error('done'))
  })

  it('times out a silent remote and aborts the raw connection', async () => {
    const a = await makePeer()
    const [ra] = rawPair()
    const started = Date.now()
    await assert.rejects(upgrader(a.peerId, { timeout: 100 }).upgradeOutbound(ra), { code: 'ERR_TIMEOUT' })
    assert.ok(Date.now() - started < 2000)
    assert.equal(ra.status, 'aborted')
  })

  it('honours the caller signal during a hanging handshake', async () => {
    const a = await makePeer()
    const b = await makePeer()
    const [ra, rb] = rawPair()
    const controller = new AbortController()
    const pending = upgrader(a.peerId, { hang: true }).upgradeOutbound(ra, { signal: controller.signal })
    const inbound = upgrader(b.peerId, { timeout: 5000 }).upgradeInbound(rb).catch(err => err)
    setTimeout(() => { controller.abort(new Error('caller gave up')) }, 20)
    await assert.rejects(pending, /caller gave up/)
    assert.ok((await inbound) instanceof Error)
  })

  for (const hook of ['denyInboundEncryptedConnection', 'denyInboundUpgradedConnection', 'denyInboundConnection'] as const) {
    it(`gater ${hook} refuses the inbound connection`, async () => {
      const a = await makePeer()
      const b = await makePeer()
      const [ra, rb] = rawPair()
      const seen: string[] = []
      const gater: ConnectionGater = {
        [hook]: async (peer: unknown) => {
          if (hook !== 'denyInboundConnection') seen.push(String(peer))
          return true
        }
      }
      const [outbound, inbound] = await Promise.allSettled([
        upgrader(a.peerId, { timeout: 2000 }).upgradeOutbound(ra),
        upgrader(b.peerId, { gater }).upgradeInbound(rb)
      ])
      assert.equal(inbound.status, 'rejected')
      assert.equal((inbound as PromiseRejectedResult).reason.code, 'ERR_CONNECTION_DENIED')
      if (hook !== 'denyInboundConnection') assert.deepEqual(seen, [a.peerId.toString()])
      assert.equal(rb.status, 'aborted')
      // the dialer either never finished or sees its connection die
      if (outbound.status === 'fulfilled') {
        await outbound.value.newStream('/x').catch(() => {})
        await outbound.value.abort(new Error('x'))
      }
    })
  }

  it('gater denyOutboundEncryptedConnection refuses the outbound connection', async () => {
    const a = await makePeer()
    const b = await makePeer()
    const [ra, rb] = rawPair()
    const [outbound] = await Promise.allSettled([
      upgrader(a.peerId, { gater: { denyOutboundEncryptedConnection: (peer) => peer.equals(b.peerId) } }).upgradeOutbound(ra),
      upgrader(b.peerId, { timeout: 500 }).upgradeInbound(rb)
    ])
    assert.equal((outbound as PromiseRejectedResult).reason.code, 'ERR_CONNECTION_DENIED')
  })

  describe('hostile input on an inbound upgrade', () => {
    const cases: Array<[string, Uint8Array[], boolean]> = [
      ['random bytes', [crypto.getRandomValues(new Uint8Array(4096))], false],
      ['an oversized mss message', [Uint8Array.of(0xff, 0x7f), new Uint8Array(100_000)], false],
      ['a truncated mss header', [Uint8Array.of(0x13, 0x2f, 0x6d)], true],
      ['a varint that never ends', [new Uint8Array(64).fill(0xff)], false]
    ]
    for (const [name, chunks, thenEnd] of cases) {
      it(`fails with a typed error on ${name} and aborts the raw connection`, async () => {
        const b = await makePeer()
        const [ra, rb] = rawPair()
        const upgrade = upgrader(b.peerId, { timeout: 2000 }).upgradeInbound(rb)
        for (const chunk of chunks) ra.send(chunk)
        if (thenEnd) await ra.closeWrite()
        const err = await upgrade.then(() => undefined, (e: Error) => e)
        assert.ok(err !== undefined)
        assert.equal(typeof (err as { code?: unknown }).code, 'string', String(err))
        assert.notEqual((err as { code?: unknown }).code, 'ERR_TIMEOUT', 'fails on the input, not by waiting')
        assert.equal(rb.status, 'aborted')
      })
    }
  })

  describe('a native connection (secure and multiplexed by its transport, as QUIC)', () => {
    /** A raw pair whose transport "authenticated" the peers and brings its own muxer. */
    function nativePair (dialer: PeerId, listener: PeerId): [PipeRawConnection, PipeRawConnection] {
      const [ra, rb] = rawPair()
      Object.defineProperty(ra, 'native', { value: { remotePeer: listener, encryption: '/native-tls', streamMuxer: frameMuxer() } })
      Object.defineProperty(rb, 'native', { value: { remotePeer: dialer, encryption: '/native-tls', streamMuxer: frameMuxer() } })
      return [ra, rb]
    }

    it('is built without a deadline when no gater hook watches it, and carries streams', async () => {
      const a = await makePeer()
      const b = await makePeer()
      const [ra, rb] = nativePair(a.peerId, b.peerId)
      const listenerRegistrar = registrar()
      listenerRegistrar.handle('/echo', (stream) => { void (async () => { for await (const chunk of stream) stream.send(chunk); await stream.closeWrite() })() })
      // A duration no other test uses: the upgrade deadline's timer is the only one armed with it.
      const timeout = 4321
      const listener = new Upgrader({ connectionEncrypters: [fakeEncrypter(b.peerId)], streamMuxers: [frameMuxer()], registrar: listenerRegistrar, connectionGater: { denyDialPeer: () => true }, inboundUpgradeTimeout: timeout })
      const timers = watchTimersAbove(timeout - 100, timeout)
      let ca, cb
      try {
        ;[ca, cb] = await Promise.all([upgrader(a.peerId, { timeout }).upgradeOutbound(ra, { remotePeer: b.peerId }), listener.upgradeInbound(rb)])
        // nothing to wait for, so no deadline (timer, signal)
        assert.equal(timers.count, 0)
        // the same upgrade watched by a gater hook runs under its deadline (the check above can fail)
        const [, rc] = nativePair(a.peerId, b.peerId)
        const watched = await upgrader(b.peerId, { timeout, gater: { denyInboundUpgradedConnection: async () => false } }).upgradeInbound(rc)
        assert.equal(timers.count, 1)
        watched.abort(new Error('done'))
      } finally {
        timers.restore()
      }
      assert.ok(ca.remotePeer.equals(b.peerId))
      assert.ok(cb.remotePeer.equals(a.peerId))
      assert.equal(ca.encryption, '/native-tls')
      assert.equal(cb.multiplexer, '/frame/1.0.0')
      assert.equal(cb.direction, 'inbound')
      const stream = await ca.newStream('/echo')
      stream.send(Uint8Array.of(1, 2, 3))
      await stream.closeWrite()
      const echoed: number[] = []
      for await (const chunk of stream) echoed.push(...chunk.subarray())
      assert.deepEqual(echoed, [1, 2, 3])
      ca.abort(new Error('done'))
      cb.abort(new Error('done'))
    })

    it('rejects an unexpected peer and a caller that gave up, aborting the raw connection', async () => {
      const a = await makePeer()
      const b = await makePeer()
      const c = await makePeer()
      const [ra] = nativePair(a.peerId, b.peerId)
      await assert.rejects(upgrader(a.peerId).upgradeOutbound(ra, { remotePeer: c.peerId }), { code: 'ERR_UNEXPECTED_PEER' })
      assert.equal(ra.status, 'aborted')
      const [, rb] = nativePair(a.peerId, b.peerId)
      await assert.rejects(upgrader(b.peerId).upgradeInbound(rb, { signal: AbortSignal.abort(new Error('caller gave up')) }), /caller gave up/)
      assert.equal(rb.status, 'aborted')
    })

    it('still asks a gater hook of its direction, which may answer asynchronously', async () => {
      const a = await makePeer()
      const b = await makePeer()
      const [, rb] = nativePair(a.peerId, b.peerId)
      const seen: string[] = []
      const gater: ConnectionGater = { denyInboundEncryptedConnection: async (peer) => { seen.push(peer.toString()); return true } }
      await assert.rejects(upgrader(b.peerId, { gater }).upgradeInbound(rb), { code: 'ERR_CONNECTION_DENIED' })
      assert.deepEqual(seen, [a.peerId.toString()])
      assert.equal(rb.status, 'aborted')
    })
  })
})
