/**
 * The attack test: a real `ts-libp2p start --echo` process with default limits (loopback
 * addresses counted per address, `--limit-loopback`, as remote ones would be) is attacked over
 * real sockets from many loopback addresses (127.1.0.2, 127.1.0.3, ..., ten per /24), one attack
 * after another. After or during each, a FRESH honest peer on 127.0.0.1 connects and pings
 * within 1 s. At the end the node's memory is back within a stated bound of where it started,
 * and it exits 0 on SIGTERM.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Socket } from 'node:net'
import type { ByteStream } from '../../src/interface/stream.ts'
import { HEADER_BYTES } from '../../src/mss/codec.ts'
import { startCli, type RunningCli } from '../cli/run-cli.ts'
import { attackerAddress, idleConnection, rawSocket, securedYamuxChannel, socketClosed, trickle } from '../support/attacker.ts'
import {
  honestPing, identifyPushFloods, negotiateUnknownProtocols, neverReadStreams, pool, range, rapidReset,
  sendAbsurdMultistreamLength, sendGarbageHandshakes, sendRandomBytes, startEndlessNoiseFrames, startPingFloods
} from '../support/attacks.ts'

/** Memory the node may keep above its start-up RSS once every attack is over. */
const RSS_BOUND = 160 * 1024 * 1024
const HONEST_PING_BUDGET_MS = 1000

let cli: RunningCli
let dir: string
let addr: string
let port: number
let baseRss = 0

function victimRss (): number {
  const status = readFileSync(`/proc/${cli.child.pid!}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024
}

async function assertHonestPeerServed (what: string): Promise<void> {
  const ms = await honestPing(addr)
  assert.ok(ms < HONEST_PING_BUDGET_MS, `${what}: the honest peer connected and pinged in ${Math.round(ms)} ms`)
}

/** An attacker socket, or undefined when the victim refused it at accept (a reset before connect completed). */
async function attackSocket (localAddress: string): Promise<Socket | undefined> {
  try {
    return await rawSocket(port, localAddress)
  } catch (err) {
    if ((err as { code?: string }).code === 'ECONNRESET') return undefined
    throw err
  }
}

async function attackSockets (n: number, firstAddress: number): Promise<Socket[]> {
  const sockets = await pool(range(n), 20, async (i) => await attackSocket(attackerAddress(firstAddress + i)))
  return sockets.filter(s => s !== undefined)
}

/** Resolves when `conn` has ended (read gives null or fails). */
async function channelEnded (conn: ByteStream): Promise<void> {
  try {
    while (await conn.read() !== null) { /* what the victim says before it hangs up */ }
  } catch {
    // reset: ended as well
  }
}

/** Resolves once `condition` holds, checked every 50 ms (it depends on the other process). */
async function until (condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now()
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}


describe('attack test: a node under attack keeps serving honest peers', { timeout: 240_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-attack-'))
    cli = startCli(['start', '--echo', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir, '--limit-loopback'])
    const { addrs } = JSON.parse(await cli.nextLine('stdout')) as { addrs: string[] }
    addr = addrs[0]
    port = Number(addr.split('/')[4])
    // the first connection of each process pays for compiling the code paths; not timed
    await honestPing(addr)
    await assertHonestPeerServed('before any attack')
    baseRss = victimRss()
  })

  after(async () => {
    if (cli !== undefined && cli.child.exitCode === null) await cli.stop('SIGKILL')
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  it('connections of random bytes are closed; an honest peer pings', async () => {
    const sockets = await attackSockets(100, 0)
    sendRandomBytes(sockets, i => 1024 + i)
    await Promise.all(sockets.map(socketClosed))
    await assertHonestPeerServed('after random bytes')
  })

  it('absurd length prefixes (multistream 2^32, a Noise frame that never ends) are cut; an honest peer pings meanwhile', async () => {
    const mss = await attackSockets(40, 100)
    sendAbsurdMultistreamLength(mss)
    await Promise.all(mss.map(socketClosed))
    const noiseFrames = await attackSockets(40, 140)
    const endless = startEndlessNoiseFrames(noiseFrames, 200)
    try {
      // the handshake table (32) is full of them; once they are older than an honest
      // handshake takes (500 ms) a newcomer evicts the oldest
      await endless.ticks(4)
      await assertHonestPeerServed('while endless Noise frames fill the handshake table')
    } finally {
      endless.stop()
      for (const s of noiseFrames) s.destroy()
    }
  })

  it('garbage handshakes (a Noise first message, then junk for the third) are refused; an honest peer pings', async () => {
    const sockets = await attackSockets(50, 200)
    sendGarbageHandshakes(sockets)
    await Promise.all(sockets.map(socketClosed))
    await assertHonestPeerServed('after garbage handshakes')
  })

  it('500 idle connections from 200 addresses: an honest peer still gets in, and the idle ones are trimmed', async () => {
    // 2-3 per address, 25 per /24: under the per-address (8) and per-subnet (32) limits, so
    // only the connection manager stands between them and the honest peer
    const started = Date.now()
    const idle = await pool(range(500), 16, async (i) => await idleConnection(port, attackerAddress(300 + (i % 200))))
    process.stdout.write(`# attack test: 500 idle connections opened in ${Date.now() - started} ms\n`)
    await assertHonestPeerServed('with 500 idle connections held open')
    // over the high watermark (300) they are trimmed to the low one (270) once the 20 s grace
    // period ends: unidentified and idle, oldest first
    await until(() => idle.filter(c => c.status === 'closed').length >= 500 - 270, 'the idle connections trimmed to the low watermark')
    await assertHonestPeerServed('after the trim')
    for (const c of idle) c.abort(new Error('attack over'))
  })

  it('thousands of streams that never read: an honest peer pings while they are held', async () => {
    const conns = await pool(range(8), 8, async (i) => await idleConnection(port, attackerAddress(600 + i)))
    // past the victim's per-connection echo limit (256) a stream is refused
    const opened = await neverReadStreams(conns, 300, { protocol: '/echo/1.0.0', payload: new Uint8Array(16 * 1024).fill(7), concurrency: 50, maxOutboundStreams: 1000 })
    assert.ok(opened >= 2000, `${opened} never-read streams held open`)
    await assertHonestPeerServed('with thousands of never-read streams')
    for (const c of conns) c.abort(new Error('attack over'))
  })

  it('thousands of unknown-protocol negotiations: the connections that do it are cut; an honest peer pings', async () => {
    const conns = await pool(range(6), 6, async (i) => await idleConnection(port, attackerAddress(620 + i)))
    const refused = await negotiateUnknownProtocols(conns, 1000, 64)
    assert.ok(refused >= 1500, `${refused} negotiations refused`)
    await until(() => conns.every(c => c.status === 'closed'), 'the flooding connections cut')
    await assertHonestPeerServed('after unknown-protocol floods')
  })

  it('rapid reset (thousands of streams opened and reset at once) ends those connections; an honest peer pings', async () => {
    const channels = await pool(range(4), 4, async (i) => await securedYamuxChannel(port, attackerAddress(640 + i)))
    rapidReset(channels, 5000)
    await Promise.all(channels.map(channelEnded))
    await assertHonestPeerServed('after rapid reset')
  })

  it('ping floods (pings written as fast as the socket takes them, replies never read): an honest peer pings meanwhile', async () => {
    const conns = await pool(range(4), 4, async (i) => await idleConnection(port, attackerAddress(660 + i)))
    const floods = startPingFloods(conns, 64 * 1024 * 1024)
    await assertHonestPeerServed('during ping floods')
    floods.stop()
    for (const c of conns) c.abort(new Error('attack over'))
    await floods.done
  })

  it('identify-push floods are cut to the budget; an honest peer pings', async () => {
    const conns = await pool(range(4), 4, async (i) => await idleConnection(port, attackerAddress(680 + i)))
    const reset = await identifyPushFloods(conns, 200, 2)
    assert.ok(reset >= 4 * (200 - 40), `${reset} pushes reset past the budget`)
    await assertHonestPeerServed('after identify-push floods')
    for (const c of conns) c.abort(new Error('attack over'))
  })

  it('slow handshakes (one byte every 200 ms) from 60 addresses fill the handshake table; an honest peer still gets in', async () => {
    const sockets = await attackSockets(60, 700)
    const slow = trickle(sockets, HEADER_BYTES, 200)
    try {
      await slow.ticks(4)
      await assertHonestPeerServed('during slow handshakes')
    } finally {
      slow.stop()
      for (const s of sockets) s.destroy()
    }
  })

  it('memory returns within the stated bound of the base, and the node exits 0 on SIGTERM', async () => {
    await assertHonestPeerServed('after every attack')
    const rss = victimRss()
    assert.ok(rss - baseRss < RSS_BOUND, `RSS ${Math.round(rss / 1048576)} MiB vs ${Math.round(baseRss / 1048576)} MiB at the start (bound +${RSS_BOUND / 1048576} MiB)`)
    process.stdout.write(`# attack test: victim RSS ${Math.round(baseRss / 1048576)} MiB at start, ${Math.round(rss / 1048576)} MiB after every attack\n`)
    assert.equal(await cli.stop('SIGTERM'), 0)
  })
})
