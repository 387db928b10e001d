/**
 * `npm run bench:quic`: QUIC v1 side by side, ts-libp2p's (TypeScript over node:dgram) and
 * js-libp2p's (@chainsafe/libp2p-quic, a Rust addon), each as its own server and client
 * processes on loopback (the bench peers of bench/peers/ with `--stack quic`), taking turns:
 * - one stream: `--bytes` uploaded and downloaded, MiB/s, with the CPU both processes spent
 *   per GiB moved; ours twice: with the largest datagrams loopback allows (PMTU discovery up to
 *   16 KiB) and capped at 1452 bytes (what an Ethernet path carries; `ts-1452` in the table);
 *   js-libp2p's addon (quinn, whose PMTU discovery stops at 1452 bytes by default) has one row;
 * - 100 concurrent streams × `--concurrent-bytes` upload on one connection, MiB/s;
 * - dial + first ping on a fresh connection, ms (median and p99 of `--setup` dials, after as many
 *   unmeasured warm-up dials: our handshake is JavaScript and needs 100-150 dials of a fresh
 *   process to be compiled, js-libp2p's is Rust; the warm-up's median has a row of its own);
 * - ours without the resource manager (`ts-rm-off`, every row), beside `ts` which has it as
 *   `createLibp2p()` does: what its scopes and the stream-window reservations cost.
 *
 *   node bench/quic/run.ts             # 256 MiB, 100 × 1 MiB, 100 dials, 3 repetitions
 *   node bench/quic/run.ts --quick     # 16 MiB, 100 × 64 KiB, 20 dials, 1 repetition
 *
 * Results: bench/results/quic.json and quic.md (or --out DIR).
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
const bytes = Number(flag('bytes') ?? (quick ? 16 : 256)) * MiB
const concurrentBytes = Number(flag('concurrent-bytes') ?? (quick ? 0.0625 : 1)) * MiB
const streams = Number(flag('streams') ?? 100)
const setupCount = Number(flag('setup') ?? (quick ? 20 : 100))
const repeat = Number(flag('repeat') ?? (quick ? 1 : 3))
const sides = (flag('sides') ?? 'ts,ts-rm-off,ts-1452,ts-cubic,js').split(',')
const outDir = flag('out') ?? fileURLToPath(new URL('../results/', import.meta.url))
const peerScript = (side: string): string => fileURLToPath(new URL(`../peers/${side}-peer.ts`, import.meta.url))

/**
 * Sides: `ts`, `js`, `ts-rm-off` (ours without the resource manager), `ts-1452` (ours with
 * datagrams capped at 1452 bytes, one stream only) and `ts-cubic` (ours with CUBIC instead of
 * NewReno, one stream only).
 */
interface Figures { upload: number[], download: number[], cpuPerGiB: number[], concurrent: number[], dialPing: number[], coldDialPing: number[], failures: string[] }

async function cpuSeconds (peer: PeerProcess): Promise<number> {
  const usage = await peer.command('cpu')
  return (usage.userUs + usage.systemUs) / 1e6
}

/** One repetition of side `name`, its figures appended to `f` (`withSetup`: the dials too). */
async function runSide (name: string, f: Figures, withSetup: boolean): Promise<void> {
  const capped = name === 'ts-1452' || name === 'ts-cubic'
  const side = name.startsWith('ts') ? 'ts' : name
  const variant = name === 'ts-1452' ? ['--max-datagram', '1452'] : name === 'ts-cubic' ? ['--cc', 'cubic'] : name === 'ts-rm-off' ? ['--resource-manager', 'off'] : []
  const common = ['--stack', 'quic', '--identify', '0', ...variant]
  const server = await spawnPeer({ script: peerScript(side), args: ['--role', 'server', ...common], name: `${name} quic server` })
  const client = await spawnPeer({ script: peerScript(side), args: ['--role', 'client', ...common, '--addr', String(server.ready.addrs[0])], name: `${name} quic client` })
  try {
    await client.command('throughput', { direction: 'upload', bytes: 4 * MiB }) // warm-up
    for (const direction of ['upload', 'download'] as const) {
      const before = await Promise.all([cpuSeconds(client), cpuSeconds(server)])
      try {
        const r = await client.command('throughput', { direction, bytes }, 600_000)
        f[direction].push(bytes / MiB / (r.ms / 1000))
        const after = await Promise.all([cpuSeconds(client), cpuSeconds(server)])
        f.cpuPerGiB.push((after[0] - before[0] + after[1] - before[1]) / (bytes / 1024 / MiB))
      } catch (err) { f.failures.push(`${direction}: ${(err as Error).message}`) }
    }
    if (!capped) { // the variants of ours measure one stream's throughput and CPU only
      try {
        const r = await client.command('concurrent', { streams, bytes: concurrentBytes }, 600_000)
        f.concurrent.push(streams * concurrentBytes / MiB / (r.ms / 1000))
      } catch (err) { f.failures.push(`concurrent: ${(err as Error).message}`) }
    }
    if (!capped && withSetup) {
      const cold = await client.command('setup', { count: setupCount }, 600_000)
      f.coldDialPing.push(...cold.totalMs as number[])
      const setup = await client.command('setup', { count: setupCount }, 600_000)
      f.dialPing.push(...setup.totalMs as number[])
    }
  } finally {
    await client.stop()
    await server.stop()
  }
}

const fmt = (samples: number[], digits = 1): string => samples.length === 0 ? 'n/a' : summarize(samples).median.toFixed(digits)
const results: Record<string, Figures> = {}
for (const side of sides) results[side] = { upload: [], download: [], cpuPerGiB: [], concurrent: [], dialPing: [], coldDialPing: [], failures: [] }
// Repetitions take turns across the sides, so a change in the machine's load lands on all of them.
for (let rep = 0; rep < repeat; rep++) {
  for (const side of sides) {
    process.stderr.write(`bench:quic: ${side} (${rep + 1}/${repeat}) ...\n`)
    await runSide(side, results[side], rep === repeat - 1)
  }
}
const lines = [
  `# QUIC v1 on loopback, ${new Date().toISOString()}`,
  '',
  `| figure | ${sides.join(' | ')} |`,
  `| --- | ${sides.map(() => '---').join(' | ')} |`,
  `| 1 stream, ${bytes / MiB} MiB upload (MiB/s, median) | ${sides.map(s => fmt(results[s].upload)).join(' | ')} |`,
  `| 1 stream, ${bytes / MiB} MiB download (MiB/s, median) | ${sides.map(s => fmt(results[s].download)).join(' | ')} |`,
  `| CPU per GiB moved, client + server (s) | ${sides.map(s => fmt(results[s].cpuPerGiB, 2)).join(' | ')} |`,
  `| ${streams} streams × ${concurrentBytes / 1024} KiB upload, one connection (MiB/s) | ${sides.map(s => fmt(results[s].concurrent)).join(' | ')} |`,
  `| dial + first ping, the peers' first ${setupCount} dials (ms, median; handshake code cold) | ${sides.map(s => fmt(results[s].coldDialPing, 2)).join(' | ')} |`,
  `| dial + first ping, fresh connection (ms, median of ${setupCount} after those) | ${sides.map(s => fmt(results[s].dialPing, 2)).join(' | ')} |`,
  `| dial + first ping (ms, p99) | ${sides.map(s => results[s].dialPing.length === 0 ? 'n/a' : summarize(results[s].dialPing).p99.toFixed(2)).join(' | ')} |`,
  ...sides.flatMap(s => results[s].failures.map(m => `\nfailure (${s}): ${m}`))
]
await mkdir(outDir, { recursive: true })
await writeFile(join(outDir, 'quic.json'), JSON.stringify({ date: new Date().toISOString(), bytes, concurrentBytes, streams, setupCount, repeat, results }, null, 2))
await writeFile(join(outDir, 'quic.md'), lines.join('\n') + '\n')
process.stdout.write(lines.join('\n') + '\n')
