/**
 * `npm run bench:attack [-- --idle N --sockets N --negotiations N --streams N --only ts,js,go]`:
 * the attack mix against ts-libp2p (`ts-libp2p start --echo --limit-loopback`: loopback counted
 * like remote addresses, as an exposed node sees them), js-libp2p (bench/attack/js-victim.ts)
 * and go-libp2p (interop/go-peer with --default-limits), each with default settings, one after
 * the other in one run. Attackers connect from 127.1.x.y; after each attack (and while idle
 * connections are held) a fresh honest peer on 127.0.0.1 dials and pings with a 1 s budget.
 * The ten attacks of test/switch/attack.test.ts: idle connections, random bytes, slow
 * handshakes, absurd length prefixes, garbage handshakes, unknown-protocol negotiations, rapid
 * reset, ping floods, identify-push floods, streams that never read.
 * Prints, per implementation and attack, whether the honest ping was served and in how long,
 * and the victim's RSS at start and at its peak (sampled every 100 ms from /proc). Linux only.
 * The lead runs it at full size on a quiet machine; defaults are the issue's figures.
 * BENCH_DEBUG=1 prints why an honest ping failed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import type { Socket } from 'node:net'
import type { Connection } from '../../src/interface/connection.ts'
import { withDeadline } from '../../src/util/deadline.ts'
import { attackerAddress, idleConnection, rawSocket, securedYamuxChannel } from '../../test/support/attacker.ts'
import {
  honestPing as pingOnce, identifyPushFloods, negotiateUnknownProtocols, neverReadStreams, rapidReset,
  sendAbsurdMultistreamLength, sendGarbageHandshakes, sendRandomBytes, startEndlessNoiseFrames, startPingFloods
} from '../../test/support/attacks.ts'
import { buildGoPeer } from '../../test/interop/harness.ts'

const { values } = parseArgs({
  options: {
    idle: { type: 'string', default: '500' },
    addresses: { type: 'string', default: '200' },
    sockets: { type: 'string', default: '200' },
    negotiations: { type: 'string', default: '2000' },
    streams: { type: 'string', default: '2000' },
    only: { type: 'string', default: 'ts,js,go' }
  }
})
const IDLE = Number(values.idle)
const ADDRESSES = Number(values.addresses)
const SOCKETS = Number(values.sockets)
const NEGOTIATIONS = Number(values.negotiations)
const STREAMS = Number(values.streams)
/** The absurd-length and garbage-handshake attacks use a quarter of --sockets per kind (whole sockets, so the labels say what ran). */
const QUARTER = Math.floor(SOCKETS / 4)
const HONEST_BUDGET_MS = 1000
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

interface Victim { name: string, child: ChildProcess, addr: string, port: number }

async function firstJsonLine (child: ChildProcess, timeoutMs: number): Promise<Record<string, unknown>> {
  const lines = createInterface({ input: child.stdout! })
  return await withDeadline(timeoutMs, undefined, 'the victim did not start', async (signal) => await new Promise((resolve, reject) => {
    lines.on('line', (line) => { try { resolve(JSON.parse(line)) } catch { /* not the ready line */ } })
    child.once('exit', (code) => { reject(new Error(`exited (${code}) before it was ready`)) })
    signal.addEventListener('abort', () => { reject(signal.reason) })
  }))
}

async function startVictim (name: string): Promise<Victim> {
  let child: ChildProcess
  if (name === 'ts') child = spawn(process.execPath, [`${ROOT}bin/ts-libp2p.js`, 'start', '--echo', '--listen', '/ip4/127.0.0.1/tcp/0', '--limit-loopback', '--data-dir', `/tmp/bench-attack-${process.pid}`], { stdio: ['ignore', 'pipe', 'ignore'] })
  else if (name === 'js') child = spawn(process.execPath, [`${ROOT}bench/attack/js-victim.ts`], { stdio: ['ignore', 'pipe', 'ignore'] })
  else child = spawn(await buildGoPeer(), ['--default-limits'], { stdio: ['pipe', 'pipe', 'ignore'] })
  const ready = await firstJsonLine(child, 120_000)
  const addrs = (ready.addrs as string[]).filter(a => a.includes('/ip4/127.0.0.1/tcp/'))
  const addr = addrs[0].includes('/p2p/') ? addrs[0] : `${addrs[0]}/p2p/${String(ready.peerId)}`
  return { name, child, addr, port: Number(addr.split('/')[4]) }
}

function rss (pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024
  } catch {
    return 0
  }
}

/**
 * Honest dials come from 127.0.0.1 at most once per HONEST_SPACING_MS: every implementation
 * limits the rate of inbound connections per host (js: 5 per second by default), and an
 * honest peer does not redial ten times a second; the attackers come from other addresses.
 */
const HONEST_SPACING_MS = 1100
let lastHonestDial = 0

/** A fresh honest peer dials and pings; the time it took, or undefined past the budget. */
async function honestPing (addr: string): Promise<number | undefined> {
  const wait = lastHonestDial + HONEST_SPACING_MS - performance.now()
  if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
  lastHonestDial = performance.now()
  try {
    return await withDeadline(HONEST_BUDGET_MS, undefined, 'honest ping', async (signal) => await pingOnce(addr, { signal }))
  } catch (err) {
    if (process.env.BENCH_DEBUG !== undefined) process.stderr.write(`honest ping: ${(err as Error).stack}\n`)
    return undefined
  }
}

async function settledAll<T> (work: Array<Promise<T>>): Promise<T[]> {
  return (await Promise.allSettled(work)).flatMap(r => r.status === 'fulfilled' ? [r.value] : [])
}

type Attack = (v: Victim) => Promise<() => void>

/** Each attack returns how to end it; the honest ping runs before that (while it holds). */
const attacks: Array<[string, Attack]> = [
  [`${IDLE} idle connections from ${ADDRESSES} addresses`, async (v) => {
    const held = await settledAll(Array.from({ length: IDLE }, async (_, i) => await idleConnection(v.port, attackerAddress(i % ADDRESSES))))
    return () => { for (const c of held) c.abort(new Error('attack over')) }
  }],
  [`${SOCKETS} connections of random bytes`, async (v) => {
    const sockets = await settledAll(Array.from({ length: SOCKETS }, async (_, i) => await rawSocket(v.port, attackerAddress(1000 + i))))
    sendRandomBytes(sockets, () => 4096)
    return () => { for (const s of sockets) s.destroy() }
  }],
  [`${SOCKETS} slow handshakes (one byte, then silence)`, async (v) => {
    const sockets: Socket[] = await settledAll(Array.from({ length: SOCKETS }, async (_, i) => await rawSocket(v.port, attackerAddress(2000 + i))))
    for (const s of sockets) s.write(Uint8Array.of(0x13))
    return () => { for (const s of sockets) s.destroy() }
  }],
  [`${NEGOTIATIONS} unknown-protocol negotiations`, async (v) => {
    const conns: Connection[] = await settledAll(Array.from({ length: 10 }, async (_, i) => await idleConnection(v.port, attackerAddress(3000 + i))))
    await negotiateUnknownProtocols(conns, NEGOTIATIONS / 10, 1)
    return () => { for (const c of conns) c.abort(new Error('attack over')) }
  }],
  [`${2 * QUARTER} absurd length prefixes (multistream 4 GiB; endless Noise frames, one byte per 200 ms)`, async (v) => {
    const mss = await settledAll(Array.from({ length: QUARTER }, async (_, i) => await rawSocket(v.port, attackerAddress(5000 + i))))
    sendAbsurdMultistreamLength(mss)
    const frames = await settledAll(Array.from({ length: QUARTER }, async (_, i) => await rawSocket(v.port, attackerAddress(6000 + i))))
    const endless = startEndlessNoiseFrames(frames, 200)
    await endless.ticks(4)
    return () => { endless.stop(); for (const s of [...mss, ...frames]) s.destroy() }
  }],
  [`${QUARTER} garbage handshakes (a Noise first message, then junk)`, async (v) => {
    const sockets = await settledAll(Array.from({ length: QUARTER }, async (_, i) => await rawSocket(v.port, attackerAddress(7000 + i))))
    sendGarbageHandshakes(sockets)
    return () => { for (const s of sockets) s.destroy() }
  }],
  [`rapid reset (4 connections x ${STREAMS * 2} streams opened and reset)`, async (v) => {
    const channels = await settledAll(Array.from({ length: 4 }, async (_, i) => await securedYamuxChannel(v.port, attackerAddress(8000 + i))))
    rapidReset(channels, STREAMS * 2)
    return () => { for (const ch of channels) ch.abort(new Error('attack over')) }
  }],
  ['ping floods (8 streams written as fast as the socket takes, replies never read)', async (v) => {
    const conns: Connection[] = await settledAll(Array.from({ length: 4 }, async (_, i) => await idleConnection(v.port, attackerAddress(9000 + i))))
    const floods = startPingFloods(conns, 256 * 1024 * 1024)
    return () => { floods.stop(); for (const c of conns) c.abort(new Error('attack over')) }
  }],
  ['identify-push floods (4 connections x 200 pushes)', async (v) => {
    const conns: Connection[] = await settledAll(Array.from({ length: 4 }, async (_, i) => await idleConnection(v.port, attackerAddress(9100 + i))))
    await identifyPushFloods(conns, 200, 1)
    return () => { for (const c of conns) c.abort(new Error('attack over')) }
  }],
  [`${STREAMS} ping streams that never read`, async (v) => {
    const conns: Connection[] = await settledAll(Array.from({ length: 10 }, async (_, i) => await idleConnection(v.port, attackerAddress(4000 + i))))
    await neverReadStreams(conns, STREAMS / 10, { protocol: '/ipfs/ping/1.0.0', payload: new Uint8Array(32 * 1024), concurrency: Infinity })
    return () => { for (const c of conns) c.abort(new Error('attack over')) }
  }]
]

const report: string[] = []
for (const name of values.only.split(',')) {
  let victim: Victim
  try {
    victim = await startVictim(name)
  } catch (err) {
    report.push(`| ${name} | did not start: ${(err as Error).message} | | |`)
    continue
  }
  const pid = victim.child.pid!
  let peak = 0
  const sampler = setInterval(() => { peak = Math.max(peak, rss(pid)) }, 100)
  await honestPing(victim.addr) // warms the victim's code paths; not counted
  const base = rss(pid)
  let served = 0
  const cells: string[] = []
  for (const [what, attack] of attacks) {
    const end = await attack(victim).catch(() => () => {})
    const during = await honestPing(victim.addr)
    end()
    const after = await honestPing(victim.addr)
    const ok = during !== undefined && after !== undefined
    if (ok) served++
    cells.push(`${what}: ${during === undefined ? 'REFUSED' : `${Math.round(during)} ms`} / ${after === undefined ? 'REFUSED' : `${Math.round(after)} ms`}`)
    process.stderr.write(`${name}: ${cells.at(-1)} (rss ${(rss(pid) / 1048576).toFixed(0)} MiB)\n`)
  }
  clearInterval(sampler)
  victim.child.kill('SIGTERM')
  await new Promise(resolve => { if (victim.child.exitCode !== null) resolve(null); else victim.child.once('exit', resolve) })
  report.push(`| ${name} | ${served}/${attacks.length} | ${(base / 1048576).toFixed(0)} MiB | ${(peak / 1048576).toFixed(0)} MiB |`)
  for (const cell of cells) report.push(`|  | ${cell} | | |`)
}
process.stdout.write(['', '| implementation | honest pings served during / after every attack | RSS at start | RSS peak |', '| --- | --- | --- | --- |', ...report, ''].join('\n'))
