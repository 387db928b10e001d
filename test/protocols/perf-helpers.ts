/**
 * Shared by the perf tests: parsing the perf command's JSON lines (asserting the test-plans
 * output contract) and starting `ts-libp2p perf --run-server` as a child process.
 */
import assert from 'node:assert/strict'
import { startCli, type RunningCli } from '../cli/run-cli.ts'

export const PERF_SERVER_PEER_ID = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
export const MiB = 1024 * 1024

export interface PerfLine { type: string, timeSeconds: number, uploadBytes: number, downloadBytes: number }

/** Every stdout line is a perf report: intermediary ones, then exactly one final, last. */
export function parsePerfOutput (stdout: string): PerfLine[] {
  const lines = stdout.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as PerfLine)
  assert.ok(lines.length >= 1, 'at least the final line')
  for (const [i, line] of lines.entries()) {
    assert.equal(line.type, i === lines.length - 1 ? 'final' : 'intermediary', JSON.stringify(line))
    assert.deepEqual(Object.keys(line).sort(), ['downloadBytes', 'timeSeconds', 'type', 'uploadBytes'])
    for (const n of [line.timeSeconds, line.uploadBytes, line.downloadBytes]) assert.ok(typeof n === 'number' && n >= 0, JSON.stringify(line))
  }
  const final = lines[lines.length - 1]
  const intermediary = lines.slice(0, -1)
  assert.ok(intermediary.reduce((s, l) => s + l.uploadBytes, 0) <= final.uploadBytes)
  assert.ok(intermediary.reduce((s, l) => s + l.downloadBytes, 0) <= final.downloadBytes)
  return lines
}

/** With PERF_SERVER_LOG as env, the server logs one stderr line per perf stream it served. */
export const PERF_SERVER_LOG = { DEBUG: 'ts-libp2p:perf' }

/** The next "served <peer>: received N bytes, sent M" line of a server started with PERF_SERVER_LOG. */
export async function nextServedLine (server: RunningCli): Promise<{ received: number, sent: number }> {
  const line = await server.nextLine('stderr', l => / served \S+: received \d+ bytes, sent \d+/.test(l) || / perf stream from /.test(l), 30_000)
  const match = / received (\d+) bytes, sent (\d+)/.exec(line)
  assert.ok(match !== null, line)
  return { received: Number(match[1]), sent: Number(match[2]) }
}

/** Starts `perf --run-server` on a free loopback port; resolves once it listens. */
export async function startPerfServer (t: { after(fn: () => Promise<unknown>): void }, env: NodeJS.ProcessEnv = {}): Promise<{ server: RunningCli, hostPort: string, addr: string }> {
  const server = startCli(['perf', '--run-server', '--server-address', '127.0.0.1:0'], { env })
  t.after(async () => { await server.stop() })
  const ready = JSON.parse(await server.nextLine('stdout')) as { peerId: string, addrs: string[] }
  assert.equal(ready.peerId, PERF_SERVER_PEER_ID)
  const addr = ready.addrs.find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))
  assert.ok(addr !== undefined, JSON.stringify(ready))
  return { server, hostPort: `127.0.0.1:${addr.split('/')[4]}`, addr }
}

