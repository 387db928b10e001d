/**
 * `npm run bench:webtransport`: WebTransport from real Chromium (Debian's, through the test
 * harness) to our Node listener (HTTP/3 and WebTransport over our QUIC) and to go-libp2p's
 * (webtransport-go over quic-go; interop/go-peer), one after the other, same page, same figures:
 * - dial + first ping on a fresh browser node, ms (median, p99 of `--dials`);
 * - ping round trip on one connection, ms (median of `--pings`);
 * - echo of `--mib` MiB on one stream, MiB/s counted both ways, and the listener's CPU time
 *   over that echo in seconds per GiB moved (in + out): our listener runs in this process
 *   (`process.cpuUsage`, which also counts the small share of the Playwright driver), go's is a
 *   child (utime + stime from /proc/PID/stat, in clock ticks of 10 ms).
 *
 *   node bench/webtransport/run.ts           # 20 dials, 50 pings, 64 MiB
 *   node bench/webtransport/run.ts --quick   # 3 dials, 10 pings, 4 MiB
 *
 * Results: bench/results/webtransport.json and webtransport.md (or --out DIR).
 */
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLibp2p } from '../../src/index.ts'
import { echo } from '../../src/protocols/echo/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { webTransport } from '../../src/transport/webtransport/index.ts'
import { withBrowserPage, chromiumUnavailableReason } from '../../test/support/browser/index.ts'
import { buildGoPeer, spawnPeer } from '../../test/interop/harness.ts'
import { summarize } from '../lib/stats.ts'
import type { Summary } from '../lib/stats.ts'
import { loadAverage, machineInfo } from '../lib/report.ts'
import type { PageFigures } from './page.ts'

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined }
const quick = args.includes('--quick')
const dials = Number(flag('dials') ?? (quick ? 3 : 20))
const pings = Number(flag('pings') ?? (quick ? 10 : 50))
const bytes = Number(flag('mib') ?? (quick ? 4 : 64)) * 1024 * 1024
const outDir = flag('out') ?? fileURLToPath(new URL('../results/', import.meta.url))
const PAGE = new URL('./page.ts', import.meta.url)
const LISTEN = '/ip4/127.0.0.1/udp/0/quic-v1/webtransport'

interface SideFigures { dialPing: Summary, ping: Summary, echoMiBps: number, listenerCpuSecondsPerGiB: number }

/** CPU time (ms) this process used so far. */
function ownCpuMs (): number {
  const used = process.cpuUsage()
  return (used.user + used.system) / 1000
}

/** CPU time (ms) of process `pid` so far: utime + stime of /proc/PID/stat (USER_HZ is 100). */
function childCpuMs (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

async function measure (addr: string, listenerCpuMs: () => number): Promise<SideFigures> {
  return await withBrowserPage(PAGE, async page => {
    const f = await page.call<PageFigures>('measure', addr, dials, pings)
    const cpuBefore = listenerCpuMs()
    const echoMiBps = await page.call<number>('echoRate', addr, bytes)
    const cpuSeconds = (listenerCpuMs() - cpuBefore) / 1000
    return { dialPing: summarize(f.dialPingMs), ping: summarize(f.pingMs), echoMiBps, listenerCpuSecondsPerGiB: cpuSeconds / (2 * bytes / 2 ** 30) }
  }, { loadTimeoutMs: 60_000 })
}

async function ours (): Promise<SideFigures> {
  const node = await createLibp2p({ addresses: { listen: [LISTEN] }, transports: [webTransport()], services: { identify: identify(), ping: ping(), echo: echo() } })
  try {
    return await measure(node.getMultiaddrs()[0].toString(), ownCpuMs)
  } finally {
    await node.stop()
  }
}

async function go (): Promise<SideFigures> {
  await buildGoPeer()
  const peer = await spawnPeer('go', ['--listen', LISTEN])
  try {
    const addr = peer.addrs.find(a => a.includes('/webtransport/certhash/'))
    if (addr === undefined) throw new Error(`go printed no WebTransport address: ${peer.addrs.join(', ')}`)
    const pid = peer.child.pid
    if (pid === undefined) throw new Error('the go peer has no pid')
    return await measure(addr, () => childCpuMs(pid))
  } finally {
    await peer.stop()
  }
}

const unavailable = chromiumUnavailableReason()
if (unavailable !== undefined) {
  console.error(`bench:webtransport needs Chromium: ${unavailable}`)
  process.exit(1)
}
const loadAtStart = loadAverage()
const results: Record<string, SideFigures> = { 'ts-libp2p (our QUIC)': await ours(), 'go-libp2p (quic-go)': await go() }
const fmt = (n: number): string => n.toFixed(n < 10 ? 2 : 1)
const lines = [
  '# WebTransport from Chromium: our Node listener vs go-libp2p\'s',
  '',
  `${dials} dials, ${pings} pings, ${bytes / 1048576} MiB echo; Debian's Chromium on loopback; small runs are for checking that it works, not for figures.`,
  '',
  '| listener | dial + first ping, median ms | p99 ms | ping, median ms | echo MiB/s (both ways) | listener CPU s/GiB (echo) |',
  '|---|---|---|---|---|---|',
  ...Object.entries(results).map(([name, r]) => `| ${name} | ${fmt(r.dialPing.median)} | ${fmt(r.dialPing.p99)} | ${fmt(r.ping.median)} | ${fmt(r.echoMiBps)} | ${fmt(r.listenerCpuSecondsPerGiB)} |`)
]
await mkdir(outDir, { recursive: true })
await writeFile(join(outDir, 'webtransport.json'), JSON.stringify({ machine: machineInfo(loadAtStart), dials, pings, bytes, results }, null, 2) + '\n')
await writeFile(join(outDir, 'webtransport.md'), lines.join('\n') + '\n')
console.log(lines.join('\n'))
