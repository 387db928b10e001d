/**
 * `npm run bench:webrtc`: WebRTC Direct side by side, ts-libp2p's and js-libp2p's
 * (@libp2p/webrtc), both on node-datachannel, each as its own server and client processes on
 * loopback (the bench peers of bench/peers/ with `--stack webrtc-direct`), taking turns:
 * - one stream: `--bytes` uploaded and downloaded, MiB/s, with the CPU both processes spent
 *   per GiB moved;
 * - 100 concurrent streams × `--concurrent-bytes` upload on one connection, MiB/s;
 * - dial + first ping on a fresh connection, ms (median and p99 of `--setup` dials).
 * The dialer here is Node; bench/webrtc/browser.ts (npm run bench:webrtc:browser) is the
 * Chromium dialer's half, with memory per connection on the listener.
 *
 *   node bench/webrtc/run.ts             # 64 MiB, 100 × 256 KiB, 50 dials, 3 repetitions
 *   node bench/webrtc/run.ts --quick     # 4 MiB, 100 × 16 KiB, 10 dials, 1 repetition
 *
 * Results: bench/results/webrtc-direct.json and webrtc-direct.md (or --out DIR).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnPeer } from '../lib/child.ts'
import type { PeerProcess } from '../lib/child.ts'
import { summarize } from '../lib/stats.ts'

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined }
const quick = args.includes('--quick')
const MiB = 1024 * 1024
const bytes = Number(flag('bytes') ?? (quick ? 4 : 64)) * MiB
const concurrentBytes = Number(flag('concurrent-bytes') ?? (quick ? 1 / 64 : 0.25)) * MiB
const streams = Number(flag('streams') ?? 100)
const setupCount = Number(flag('setup') ?? (quick ? 10 : 50))
const repeat = Number(flag('repeat') ?? (quick ? 1 : 3))
const sides = (flag('sides') ?? 'ts,js').split(',')
const outDir = flag('out') ?? fileURLToPath(new URL('../results/', import.meta.url))
const peerScript = (side: string): string => fileURLToPath(new URL(`../peers/${side}-peer.ts`, import.meta.url))

interface Figures { upload: number[], download: number[], cpuPerGiB: number[], concurrent: number[], dialPing: number[], failures: string[] }

async function cpuSeconds (peer: PeerProcess): Promise<number> {
  const usage = await peer.command('cpu')
  return (usage.userUs + usage.systemUs) / 1e6
}

async function runSide (name: string): Promise<Figures> {
  const f: Figures = { upload: [], download: [], cpuPerGiB: [], concurrent: [], dialPing: [], failures: [] }
  const common = ['--stack', 'webrtc-direct', '--identify', '0']
  const server = await spawnPeer({ script: peerScript(name), args: ['--role', 'server', ...common], name: `${name} webrtc-direct server` })
  const client = await spawnPeer({ script: peerScript(name), args: ['--role', 'client', ...common, '--addr', String(server.ready.addrs[0])], name: `${name} webrtc-direct client` })
  try {
    await client.command('throughput', { direction: 'upload', bytes: MiB }) // warm-up
    for (let rep = 0; rep < repeat; rep++) {
      for (const direction of ['upload', 'download'] as const) {
        const before = await Promise.all([cpuSeconds(client), cpuSeconds(server)])
        try {
          const r = await client.command('throughput', { direction, bytes }, 600_000)
          f[direction].push(bytes / MiB / (r.ms / 1000))
          const after = await Promise.all([cpuSeconds(client), cpuSeconds(server)])
          f.cpuPerGiB.push((after[0] - before[0] + after[1] - before[1]) / (bytes / 1024 / MiB))
        } catch (err) { f.failures.push(`${direction}: ${(err as Error).message}`) }
      }
      try {
        const r = await client.command('concurrent', { streams, bytes: concurrentBytes }, 600_000)
        f.concurrent.push(streams * concurrentBytes / MiB / (r.ms / 1000))
      } catch (err) { f.failures.push(`concurrent: ${(err as Error).message}`) }
    }
    const setup = await client.command('setup', { count: setupCount }, 600_000)
    f.dialPing.push(...setup.totalMs as number[])
  } finally {
    await client.stop()
    await server.stop()
  }
  return f
}

const fmt = (samples: number[], digits = 1): string => samples.length === 0 ? 'n/a' : summarize(samples).median.toFixed(digits)
const results: Record<string, Figures> = {}
for (const side of sides) {
  process.stderr.write(`bench:webrtc: ${side} ...\n`)
  results[side] = await runSide(side)
}
const lines = [
  `# WebRTC Direct on loopback (Node dialer, Node listener), ${new Date().toISOString()}`,
  '',
  `| figure | ${sides.join(' | ')} |`,
  `| --- | ${sides.map(() => '---').join(' | ')} |`,
  `| 1 stream, ${bytes / MiB} MiB upload (MiB/s, median) | ${sides.map(s => fmt(results[s].upload)).join(' | ')} |`,
  `| 1 stream, ${bytes / MiB} MiB download (MiB/s, median) | ${sides.map(s => fmt(results[s].download)).join(' | ')} |`,
  `| CPU per GiB moved, client + server (s) | ${sides.map(s => fmt(results[s].cpuPerGiB, 2)).join(' | ')} |`,
  `| ${streams} streams × ${concurrentBytes / 1024} KiB upload, one connection (MiB/s) | ${sides.map(s => fmt(results[s].concurrent)).join(' | ')} |`,
  `| dial + first ping, fresh connection (ms, median of ${setupCount}) | ${sides.map(s => fmt(results[s].dialPing, 2)).join(' | ')} |`,
  `| dial + first ping (ms, p99) | ${sides.map(s => results[s].dialPing.length === 0 ? 'n/a' : summarize(results[s].dialPing).p99.toFixed(2)).join(' | ')} |`,
  ...sides.flatMap(s => results[s].failures.map(m => `\nfailure (${s}): ${m}`))
]
await mkdir(outDir, { recursive: true })
await writeFile(join(outDir, 'webrtc-direct.json'), JSON.stringify({ date: new Date().toISOString(), bytes, concurrentBytes, streams, setupCount, repeat, results }, null, 2))
await writeFile(join(outDir, 'webrtc-direct.md'), lines.join('\n') + '\n')
process.stdout.write(lines.join('\n') + '\n')
