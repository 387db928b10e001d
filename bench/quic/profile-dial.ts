/**
 * Where one QUIC dial + first ping spends its time: runs `--count` dials (default 200) from a
 * ts client to a ts (or js) server, prints the dial / ping / total medians, and with
 * `--cpu-prof DIR` writes both peers' V8 profiles there (summarize them with
 * bench/profile-summary.ts).
 *
 * Also prints the distribution (p10 / median / p90 / p99 / max) and the median and the CPU per dial
 * (both peers) of each block of `--block` dials in order, which shows a cold start (`--warmup 0`: JIT, first certificate) apart
 * from pauses spread over the run (garbage collection, timers).
 *
 *   node bench/quic/profile-dial.ts [--count 200] [--warmup 20] [--block 20] [--server ts|js] [--client ts|js] [--cpu-prof DIR]
 *   PEER_IMPORT=/path/preload.mjs ...   # a module both peers --import (e.g. to count datagrams)
 */
import { fileURLToPath } from 'node:url'
import { spawnPeer } from '../lib/child.ts'
import { summarize } from '../lib/stats.ts'

function flag (name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}
const count = Number(flag('count') ?? 200)
const warmup = Number(flag('warmup') ?? 20)
const block = Number(flag('block') ?? 20)
const profDir = flag('cpu-prof')
const peerScript = (side: string): string => fileURLToPath(new URL(`../peers/${side}-peer.ts`, import.meta.url))
const nodeArgs = [...(profDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profDir]), ...(process.env.PEER_IMPORT === undefined ? [] : ['--import', process.env.PEER_IMPORT])]
const common = ['--stack', 'quic', '--identify', '0']
const serverSide = flag('server') ?? 'ts'
const clientSide = flag('client') ?? 'ts'
const server = await spawnPeer({ script: peerScript(serverSide), args: ['--role', 'server', ...common], name: 'quic server', nodeArgs, inheritStderr: process.env.BENCH_DEBUG === '1' })
const client = await spawnPeer({ script: peerScript(clientSide), args: ['--role', 'client', ...common, '--addr', String(server.ready.addrs[0])], name: 'quic client', nodeArgs, inheritStderr: process.env.BENCH_DEBUG === '1' })
try {
  if (warmup > 0) await client.command('setup', { count: warmup }, 600_000) // warm-up: JIT, first certificate
  const cpu = async (): Promise<number[]> => await Promise.all([client, server].map(async (peer) => {
    const u = await peer.command('cpu')
    return ((u.userUs as number) + (u.systemUs as number)) / 1000
  }))
  // Dials run in blocks with a CPU reading between them: each block's CPU per dial (both peers)
  // shows the warm-up apart from the machine's load, which stretches wall times but not CPU much.
  const r: Record<'dialMs' | 'pingMs' | 'totalMs', number[]> = { dialMs: [], pingMs: [], totalMs: [] }
  const blockLines: string[] = []
  const first = await cpu()
  let before = first
  for (let done = 0; done < count; done += block) {
    const n = Math.min(block, count - done)
    const part = await client.command('setup', { count: n }, 600_000)
    const after = await cpu()
    for (const key of ['dialMs', 'pingMs', 'totalMs'] as const) r[key].push(...part[key] as number[])
    blockLines.push(`${summarize(part.totalMs as number[]).median.toFixed(2)} / ${((after[0] - before[0] + after[1] - before[1]) / n).toFixed(2)}`)
    before = after
  }
  process.stdout.write(`CPU per dial + ping: client ${((before[0] - first[0]) / count).toFixed(2)} ms, server ${((before[1] - first[1]) / count).toFixed(2)} ms\n`)
  for (const key of ['dialMs', 'pingMs', 'totalMs'] as const) {
    const samples = r[key]
    const s = summarize(samples)
    const sorted = [...samples].sort((a, b) => a - b)
    const at = (q: number): string => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))].toFixed(2)
    process.stdout.write(`${key}: p10 ${at(0.1)} median ${s.median.toFixed(2)} p90 ${at(0.9)} p99 ${s.p99.toFixed(2)} max ${s.max.toFixed(2)}\n`)
  }
  process.stdout.write(`per block of ${block} dials, in order (totalMs median / CPU ms per dial, both peers): ${blockLines.join(', ')}\n`)
} finally {
  await client.stop()
  await server.stop()
}
