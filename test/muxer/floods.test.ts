/**
 * Floods a muxer must bound: streams opened and reset at once (HTTP/2's "rapid reset"), and a
 * remote that keeps a stream's window shut while we have data queued.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { LimitExceededError, TimeoutError } from '../../src/util/errors.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import type { YamuxOptions } from '../../src/muxer/yamux/index.ts'
import { Flag, FrameType, GoAwayCode } from '../../src/muxer/yamux/frame.ts'
import { mplex } from '../../src/muxer/mplex/index.ts'
import { MplexFlag } from '../../src/muxer/mplex/frame.ts'
import { concatBytes } from '../../src/util/bytes.ts'
import { RawPeer, mplexFrame, yamuxFrame } from './raw-peer.ts'

const yamuxFactory = (options: YamuxOptions = {}) => yamux({ keepAliveInterval: 0, ...options })()

/** `n` streams opened and reset in one frame each (SYN|RST), odd ids from `first`. */
function openAndReset (n: number, first = 1): Uint8Array {
  return concatBytes(Array.from({ length: n }, (_, i) => yamuxFrame(FrameType.WindowUpdate, Flag.SYN | Flag.RST, first + 2 * i, 0)))
}

describe('rapid reset', () => {
  test('yamux: resets within the burst are served; past it the connection ends with GoAway(protocol error)', async () => {
    const peer = new RawPeer(yamuxFactory({ maxInboundResetBurst: 100, inboundResetsPerSecond: 1 }))
    let accepted = 0
    void (async () => { for (;;) { await peer.inbox.next(); accepted++ } })()
    peer.send(openAndReset(100))
    // a ping round trip proves the 100 were parsed and the session is still up
    peer.sendYamux(FrameType.Ping, Flag.SYN, 0, 42)
    await peer.expectYamux(f => f.type === FrameType.Ping && (f.flags & Flag.ACK) !== 0 && f.length === 42)
    assert.equal(accepted, 100)
    peer.send(openAndReset(10, 201))
    const err = await peer.onClose
    assert.ok(err instanceof LimitExceededError, String(err))
    assert.match(err.message, /reset more than 100 of its streams/)
    const goAway = await peer.expectYamux(f => f.type === FrameType.GoAway)
    assert.equal(goAway.length, GoAwayCode.ProtocolError)
    await peer.drainToEnd()
  })

  test('mplex: past the budget the connection ends with LimitExceededError', async () => {
    const peer = new RawPeer(mplex({ maxInboundResetBurst: 50, inboundResetsPerSecond: 1 })())
    const frames: Uint8Array[] = []
    for (let id = 0; id < 60; id++) frames.push(mplexFrame(id, MplexFlag.NewStream), mplexFrame(id, MplexFlag.ResetInitiator))
    peer.send(concatBytes(frames))
    const err = await peer.onClose
    assert.ok(err instanceof LimitExceededError, String(err))
    await peer.drainToEnd()
  })
})

describe('yamux window abuse', () => {
  test('a stream whose remote keeps the window shut with data queued is reset after sendStallTimeout', async () => {
    const peer = new RawPeer(yamuxFactory({ sendStallTimeout: 300 }))
    peer.sendYamux(FrameType.WindowUpdate, Flag.SYN, 1, 0)
    const stream = await peer.inbox.next()
    const started = Date.now()
    // 256 KiB fit the initial window; the rest waits for a window update that never comes
    const write = stream.write(new Uint8Array(256 * 1024 + 4096))
    await assert.rejects(write, (err: Error) => err instanceof TimeoutError && /window shut for 300 ms/.test(err.message))
    assert.ok(Date.now() - started >= 250, 'not before the stall timeout')
    await peer.expectYamux(f => f.streamId === 1 && (f.flags & Flag.RST) !== 0)
    assert.equal((peer.muxer as unknown as { status: string }).status, 'open', 'only the stream pays, not the connection')
    peer.muxer.abort(new Error('done'))
  })

  test('a window update before the timeout keeps the stream alive', async () => {
    const peer = new RawPeer(yamuxFactory({ sendStallTimeout: 300 }))
    peer.sendYamux(FrameType.WindowUpdate, Flag.SYN, 1, 0)
    const stream = await peer.inbox.next()
    const write = stream.write(new Uint8Array(256 * 1024 + 4096))
    let received = 0
    while (received < 256 * 1024) {
      const f = await peer.expectYamux(f => f.type === FrameType.Data && f.streamId === 1)
      received += f.length
    }
    peer.sendYamux(FrameType.WindowUpdate, 0, 1, 256 * 1024)
    await write
    while (received < 256 * 1024 + 4096) received += (await peer.expectYamux(f => f.type === FrameType.Data && f.streamId === 1)).length
    assert.equal(stream.status, 'open')
    peer.muxer.abort(new Error('done'))
  })
})
