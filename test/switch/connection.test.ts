import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Upgrader } from '../../src/switch/upgrader.ts'
import { DefaultRegistrar } from '../../src/switch/registrar.ts'
import { SwitchConnection } from '../../src/switch/connection.ts'
import { TypedEventEmitter } from '../../src/util/events.ts'
import type { Libp2pEvents } from '../../src/interface/events.ts'
import type { PeerStore } from '../../src/interface/peer-store.ts'
import type { Stream } from '../../src/interface/stream.ts'
import { FrameMuxer, fakeEncrypter, frameMuxer, makePeer, waitFor } from './doubles.ts'
import { rawPair } from '../support/pipe-network.ts'
import { utf8Decode, utf8Encode } from '../../src/util/bytes.ts'

function registrar (): DefaultRegistrar {
  return new DefaultRegistrar({ events: new TypedEventEmitter<Libp2pEvents>(), peerStore: {} as PeerStore, getConnections: () => [] })
}

async function connectPair (opts: { negotiationTimeout?: number, failedNegotiations?: { burst: number, perSecond: number } } = {}) {
  const a = await makePeer()
  const b = await makePeer()
  const regA = registrar()
  const regB = registrar()
  const closed: SwitchConnection[] = []
  const make = (self: typeof a, reg: DefaultRegistrar) => new Upgrader({
    connectionEncrypters: [fakeEncrypter(self.peerId)],
    streamMuxers: [frameMuxer()],
    registrar: reg,
    streamNegotiationTimeout: opts.negotiationTimeout,
    failedNegotiations: opts.failedNegotiations,
    connectionCloseTimeout: 1000,
    onConnectionClose: c => { closed.push(c) }
  })
  const [ra, rb] = rawPair()
  const [ca, cb] = await Promise.all([make(a, regA).upgradeOutbound(ra), make(b, regB).upgradeInbound(rb)])
  return { a, b, regA, regB, ca, cb, ra, rb, closed }
}

async function readAll (stream: Stream): Promise<string> {
  let text = ''
  for await (const chunk of stream) text += utf8Decode(chunk)
  return text
}

function echo (stream: Stream): void {
  void (async () => {
    for await (const chunk of stream) await stream.write(chunk)
    await stream.closeWrite()
  })().catch(err => { stream.abort(err) })
}

describe('SwitchConnection', () => {
  it('opens a stream, negotiates the protocol and reaches the handler', async () => {
    const { regB, ca, cb } = await connectPair()
    const seen: Array<{ protocol: string, peer: string }> = []
    regB.handle('/echo/1.0.0', (stream, connection) => {
      seen.push({ protocol: stream.protocol, peer: connection.remotePeer.toString() })
      echo(stream)
    })
    const stream = await ca.newStream(['/nope/1', '/echo/1.0.0'])
    assert.equal(stream.protocol, '/echo/1.0.0')
    await stream.write(utf8Encode('hello'))
    await stream.closeWrite()
    assert.equal(await readAll(stream), 'hello')
    assert.deepEqual(seen, [{ protocol: '/echo/1.0.0', peer: cb.remotePeer.toString() }])
    await ca.close()
  })

  it('lazy select when negotiateFully is false', async () => {
    const { regB, ca } = await connectPair()
    regB.handle('/echo/1.0.0', echo)
    const stream = await ca.newStream('/echo/1.0.0', { negotiateFully: false })
    assert.equal(stream.protocol, '/echo/1.0.0')
    await stream.write(utf8Encode('lazy'))
    await stream.closeWrite()
    assert.equal(await readAll(stream), 'lazy')
    await ca.close()
  })

  it('rejects an unsupported protocol with a typed error', async () => {
    const { ca } = await connectPair()
    await assert.rejects(ca.newStream('/missing/1'), { code: 'ERR_UNSUPPORTED_PROTOCOL' })
    assert.equal(ca.status, 'open')
    await ca.close()
  })

  it('resets inbound streams above maxInboundStreams', async () => {
    const { regB, ca } = await connectPair()
    const held: Stream[] = []
    regB.handle('/hold/1', stream => { held.push(stream) }, { maxInboundStreams: 2 })
    const s1 = await ca.newStream('/hold/1', { maxOutboundStreams: 10 })
    const s2 = await ca.newStream('/hold/1', { maxOutboundStreams: 10 })
    const s3 = await ca.newStream('/hold/1', { maxOutboundStreams: 10 })
    // the third was accepted by mss but reset right after
    await s3.closed
    assert.equal(s3.status, 'reset')
    assert.equal(held.length, 2)
    // once one closes, a new one is accepted again
    held[0].abort(new Error('done'))
    await s1.closed
    const s4 = await ca.newStream('/hold/1', { maxOutboundStreams: 10 })
    await waitFor(() => held.length === 3)
    assert.equal(s4.status, 'open')
    assert.equal(s2.status, 'open')
    await ca.close()
  })

  it('enforces maxOutboundStreams per protocol', async () => {
    const { regA, regB, ca } = await connectPair()
    regB.handle('/hold/1', () => {}, { maxInboundStreams: 100 })
    regA.handle('/hold/1', () => {}, { maxOutboundStreams: 1 })
    const first = await ca.newStream('/hold/1')
    await assert.rejects(ca.newStream('/hold/1'), { code: 'ERR_LIMIT_EXCEEDED' })
    first.abort(new Error('done'))
    await first.closed
    const again = await ca.newStream('/hold/1')
    assert.equal(again.protocol, '/hold/1')
    await assert.rejects(ca.newStream('/hold/1', { maxOutboundStreams: 1 }), { code: 'ERR_LIMIT_EXCEEDED' })
    await ca.newStream('/hold/1', { maxOutboundStreams: 2 })
    ca.abort(new Error('done'))
  })

  it('a throwing handler resets only its stream', async () => {
    const { regB, ca } = await connectPair()
    regB.handle('/boom/1', async () => { throw new Error('boom') })
    regB.handle('/echo/1.0.0', echo)
    const stream = await ca.newStream('/boom/1')
    await stream.closed
    assert.equal(stream.status, 'reset')
    const ok = await ca.newStream('/echo/1.0.0')
    await ok.write(utf8Encode('x'))
    await ok.closeWrite()
    assert.equal(await readAll(ok), 'x')
    await ca.close()
  })

  it('resets an inbound stream whose negotiation never completes', async () => {
    const b = await makePeer()
    const a = await makePeer()
    const [ra, rb] = rawPair()
    const regB = registrar()
    regB.handle('/echo/1.0.0', echo)
    const cb = new SwitchConnection({
      remotePeer: a.peerId,
      remoteAddr: rb.remoteAddr,
      direction: 'inbound',
      encryption: '/none',
      rawConnection: rb,
      securedConnection: rb,
      muxerFactory: frameMuxer(),
      registrar: regB,
      negotiationTimeout: 100
    })
    // A speaks the muxer but never multistream-select
    const muxerA = new FrameMuxer('/frame/1.0.0', ra, { direction: 'outbound', onIncomingStream: () => {} })
    const silent = muxerA.newStream()
    const started = Date.now()
    await silent.closed
    assert.equal(silent.status, 'reset')
    assert.ok(Date.now() - started >= 90 && Date.now() - started < 2000)
    assert.equal(cb.status, 'open')
    assert.ok(b.peerId !== undefined)
    cb.abort(new Error('done'))
  })

  it('resets an inbound stream that sends garbage instead of multistream-select', async () => {
    const { ca, cb, regB } = await connectPair()
    regB.handle('/echo/1.0.0', echo)
    const a = await makePeer()
    const [ra, rb] = rawPair()
    const target = new SwitchConnection({
      remotePeer: a.peerId, remoteAddr: rb.remoteAddr, direction: 'inbound', encryption: '/none',
      rawConnection: rb, securedConnection: rb, muxerFactory: frameMuxer(), registrar: regB
    })
    const muxerA = new FrameMuxer('/frame/1.0.0', ra, { direction: 'outbound', onIncomingStream: () => {} })
    const garbage = muxerA.newStream()
    garbage.send(crypto.getRandomValues(new Uint8Array(2048)))
    await garbage.closed
    assert.equal(garbage.status, 'reset')
    assert.equal(target.status, 'open')
    target.abort(new Error('done'))
    ca.abort(new Error('done'))
    assert.ok(cb !== undefined)
  })

  it('a remote that floods failed negotiations (unknown protocols) past the budget loses the connection', async () => {
    const { regB, ca, cb } = await connectPair({ failedNegotiations: { burst: 5, perSecond: 0.001 } })
    regB.handle('/echo/1.0.0', echo)
    for (let i = 0; i < 5; i++) await assert.rejects(ca.newStream(`/unknown/${i}`), { code: 'ERR_UNSUPPORTED_PROTOCOL' })
    assert.equal(cb.status, 'open', 'five failures are within the budget')
    await assert.rejects(ca.newStream('/unknown/5'))
    await waitFor(() => cb.status === 'closed' && ca.status === 'closed', 5000, 'the connection cut')
  })

  it('outbound negotiation is bounded by the signal', async () => {
    const { ca, rb } = await connectPair()
    // make B deaf: its raw connection stops delivering
    ;(rb as unknown as { deliver: (c: Uint8Array) => void }).deliver = () => {}
    await assert.rejects(ca.newStream('/echo/1.0.0', { signal: AbortSignal.timeout(50) }), { name: 'TimeoutError' })
    ca.abort(new Error('done'))
  })

  it('close() is graceful, runs onClose once and leaves both sides closed', async () => {
    const { ca, cb, ra, rb, closed } = await connectPair()
    await ca.close()
    assert.equal(ca.status, 'closed')
    await waitFor(() => cb.status === 'closed')
    assert.ok(ca.timeline.close !== undefined)
    await ca.close()
    assert.equal(closed.filter(c => c === ca).length, 1)
    assert.equal(closed.filter(c => c === cb).length, 1)
    await Promise.all([ra.closed, rb.closed])
    await assert.rejects(ca.newStream('/echo/1.0.0'), { code: 'ERR_CONNECTION_CLOSED' })
  })

  it('abort() resets open streams at once', async () => {
    const { regB, ca, cb } = await connectPair()
    regB.handle('/hold/1', () => {})
    const stream = await ca.newStream('/hold/1')
    ca.abort(new Error('bye'))
    assert.equal(ca.status, 'closed')
    await stream.closed
    assert.notEqual(stream.status, 'open')
    await waitFor(() => cb.status === 'closed')
  })
})
