/**
 * Where one QUIC dial + first ping spends its time: runs `--count` dials (default 200) from a
 * ts client to a ts (or js) server, prints the dial / ping / total medians, and with
 * `--cpu-prof DIR` writes both peers' V8 profiles there (summarize them with
 * bench/profile-summary.ts).
 *
 *   node bench/quic/profile-dial.ts [--count 200] [--server ts|js] [--client ts|js] [--cpu-prof DIR]
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
const profDir = flag('cpu-prof')
const peerScript = (side: string): string => fileURLToPath(new URL(`../peers/${side}-peer.ts`, import.meta.url))
const nodeArgs = [...(profDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profDir]), ...(process.env.PEER_IMPORT === undefined ? [] : ['--import', process.env.PEER_IMPORT])]
const common = ['--stack', 'quic', '--identify', '0']
const serverSide = flag('server') ?? 'ts'
const clientSide = flag('client') ?? 'ts'
const server = await spawnPeer({ script: peerScript(serverSide), args: ['--role', 'server', ...common], name: 'quic server', nodeArgs, inheritStderr: process.env.BENCH_DEBUG === '1' })
const client = await spawnPeer({ script: peerScript(clientSide), args: ['--role', 'client', ...common, '--addr', String(server.ready.addrs[0])], name: 'quic client', nodeArgs, inheritStderr: process.env.BENCH_DEBUG === '1' })
try {
  await client.command('setup', { count: 20 }, 600_000) // warm-up: JIT, first certificate
  const cpu = async (): Promise<number[]> => await Promise.all([client, server].map(async (peer) => {
    const u = await peer.command('cpu')
    return ((u.userUs as number) + (u.systemUs as number)) / 1000
  }))
  const before = await cpu()
  const r = await client.command('setup', { count }, 600_000)
  const after = await cpu()
  process.stdout.write(`CPU per dial + ping: client ${((after[0] - before[0]) / count).toFixed(2)} ms, server ${((after[1] - before[1]) / count).toFixed(2)} ms\n`)
  for (const key of ['dialMs', 'pingMs', 'totalMs'] as const) {
    const s = summarize(r[key] as number[])
    process.stdout.write(`${key}: median ${s.median.toFixed(2)} p99 ${s.p99.toFixed(2)}\n`)
  }
} finally {
  await client.stop()
  await server.stop()
}
