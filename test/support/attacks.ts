/**
 * The attack mix, shared by the attack test (test/switch/attack.test.ts, which asserts how the
 * victim answers each attack) and `npm run bench:attack` (bench/attack/run.ts, which runs the
 * same attacks against ts-, js- and go-libp2p and reports whether an honest peer was served).
 * Each attack works on sockets, connections or channels the caller opened with the tools of
 * ./attacker.ts (from many loopback addresses), so each caller keeps its own sizes and pacing.
 * Attacks that run until told to stop return a handle; the rest return once their bytes or
 * streams are sent, with a count where the test asserts one.
 */
import type { Socket } from 'node:net'
import { createLibp2p, multiaddr } from '../../src/index.ts'
import type { Connection } from '../../src/interface/connection.ts'
import type { ByteStream } from '../../src/interface/stream.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { Flag, FrameType } from '../../src/muxer/yamux/frame.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { encodeIdentify } from '../../src/protocols/identify/message.ts'
import { HEADER_BYTES, encodeMessage } from '../../src/mss/codec.ts'
import { encodeLP } from '../../src/util/stream-reader.ts'
import { concatBytes } from '../../src/util/bytes.ts'
import { yamuxFrame } from '../muxer/raw-peer.ts'
import { trickle } from './attacker.ts'

/** Runs `fn` over `items` with at most `limit` at once (Infinity: all at once). */
export async function pool<T, R> (items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i], i)
    }
  }))
  return out
}

export function range (n: number, from = 0): number[] {
  return Array.from({ length: n }, (_, i) => from + i)
}

/**
 * A fresh honest peer (a new identity, a new connection from 127.0.0.1; TCP, Noise, Yamux,
 * identify and ping) dials `addr` and pings; resolves with the milliseconds the dial and ping
 * took, the peer's own start-up not counted. Stops the peer either way.
 */
export async function honestPing (addr: string, options: { signal?: AbortSignal } = {}): Promise<number> {
  const honest = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: { identify: identify(), ping: ping() } })
  try {
    const started = performance.now()
    await honest.services.ping.ping(multiaddr(addr), { signal: options.signal })
    return performance.now() - started
  } finally {
    await honest.stop()
  }
}

/** Random bytes where a multistream header should be: `bytes(i)` of them on the i-th socket. */
export function sendRandomBytes (sockets: Socket[], bytes: (i: number) => number): void {
  for (const [i, s] of sockets.entries()) s.write(crypto.getRandomValues(new Uint8Array(bytes(i))))
}

/** A multistream message whose length prefix claims 4 GiB. */
export function sendAbsurdMultistreamLength (sockets: Socket[]): void {
  for (const s of sockets) s.write(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f, 0x61, 0x62))
}

/**
 * Noise agreed, then a 65535-byte handshake frame of which 100 bytes come at once and the rest
 * a byte every `everyMs`, for ever (until `stop()`): the frame never ends.
 */
export function startEndlessNoiseFrames (sockets: Socket[], everyMs: number): ReturnType<typeof trickle> {
  for (const s of sockets) s.write(concatBytes([HEADER_BYTES, encodeMessage('/noise'), Uint8Array.of(0xff, 0xff), new Uint8Array(100)]))
  return trickle(sockets, new Uint8Array(1), everyMs)
}

/** A Noise first message, then a length and junk where the third message's encrypted static key should be. */
export function sendGarbageHandshakes (sockets: Socket[]): void {
  for (const s of sockets) {
    s.write(concatBytes([HEADER_BYTES, encodeMessage('/noise'), Uint8Array.of(0, 32), crypto.getRandomValues(new Uint8Array(32))]))
    s.write(concatBytes([Uint8Array.of(0, 200), crypto.getRandomValues(new Uint8Array(200))]))
  }
}

/**
 * `perConnection` negotiations of protocols the victim does not speak on each connection,
 * `concurrency` at once per connection, until the connection closes; resolves with how many
 * were refused.
 */
export async function negotiateUnknownProtocols (conns: Connection[], perConnection: number, concurrency: number): Promise<number> {
  let refused = 0
  await Promise.all(conns.map(async (c, ci) => {
    await pool(range(perConnection), concurrency, async (i) => {
      if (c.status !== 'open') return
      try {
        await c.newStream(`/attack/unknown/${ci}/${i}`)
      } catch {
        refused++
      }
    })
  }))
  return refused
}

/** Rapid reset: `streams` Yamux streams opened and reset at once (SYN|RST), in one write per channel. */
export function rapidReset (channels: ByteStream[], streams: number): void {
  const flood = concatBytes(range(streams).map(i => yamuxFrame(FrameType.WindowUpdate, Flag.SYN | Flag.RST, 1 + 2 * i, 0)))
  for (const ch of channels) ch.send(flood)
}

/**
 * Two ping streams per connection written with random bytes as fast as the socket takes them
 * (up to `maxBytesPerStream` each), the replies never read. `stop()` ends the writing;
 * `done` resolves when every writer has ended (a stream error ends one quietly).
 */
export function startPingFloods (conns: Connection[], maxBytesPerStream: number): { stop(): void, done: Promise<void> } {
  const burst = new Uint8Array(32 * 1024)
  let stopped = false
  const floods = conns.flatMap(c => [0, 1].map(async () => {
    const s = await c.newStream('/ipfs/ping/1.0.0')
    for (let sent = 0; !stopped && sent < maxBytesPerStream; sent += burst.length) await s.write(crypto.getRandomValues(burst))
  }).map(async p => { await p.catch(() => {}) }))
  return { stop: () => { stopped = true }, done: Promise.all(floods).then(() => {}) }
}

/**
 * `pushes` identify pushes per connection, `concurrency` at once, each on its own stream that
 * is closed for writing and read to its end; resolves with how many were reset (or could not be
 * sent because the connection had closed).
 */
export async function identifyPushFloods (conns: Connection[], pushes: number, concurrency: number): Promise<number> {
  const push = encodeLP(encodeIdentify({ agentVersion: 'flood', listenAddrs: [], protocols: ['/a', '/b'] }))
  let reset = 0
  await Promise.all(conns.map(async (c) => {
    await pool(range(pushes), concurrency, async () => {
      if (c.status !== 'open') { reset++; return }
      try {
        const s = await c.newStream('/ipfs/id/push/1.0.0')
        s.send(push)
        await s.closeWrite()
        for await (const _ of s) { /* nothing comes back */ }
      } catch {
        reset++
      }
    })
  }))
  return reset
}

export interface NeverReadStreamsOptions {
  /** A protocol the victim serves and answers with what it is sent (echo, ping). */
  protocol: string
  /** Sent on each stream; the victim's replies to it are never read. */
  payload: Uint8Array
  /** Streams opened at once per connection. */
  concurrency: number
  /** Our own cap on outbound streams of the protocol per connection (the registrar's default otherwise). */
  maxOutboundStreams?: number
}

/**
 * `perConnection` streams per connection that send `payload` and never read the victim's
 * answer, left open; resolves with how many were opened (the victim refuses streams past its
 * limits).
 */
export async function neverReadStreams (conns: Connection[], perConnection: number, options: NeverReadStreamsOptions): Promise<number> {
  let opened = 0
  await Promise.all(conns.map(async (c) => {
    await pool(range(perConnection), options.concurrency, async () => {
      try {
        const s = await c.newStream(options.protocol, { maxOutboundStreams: options.maxOutboundStreams })
        s.send(options.payload)
        opened++
      } catch {
        // past the victim's per-connection limit for the protocol the stream is refused
      }
    })
  }))
  return opened
}
