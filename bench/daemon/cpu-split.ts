/**
 * Where the CPU of one daemon stream transfer goes: two `ts-libp2p daemon` processes and this
 * process (the client that writes and the handler that reads), `--bytes` through
 * client -> daemon A -> daemon B -> handler, with each process's CPU seconds (from /proc) over
 * the transfer alone. Tells which of the three bounds the throughput bench/daemon/run.ts
 * reports.
 *
 *   node bench/daemon/cpu-split.ts [--bytes N] [--chunk N] [--p2pd] [--nodeFlags '...'] [--build dist|src] [--unix]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { buildP2pd } from '../../interop/p2pd/build.ts'
import { multiaddr } from '@multiformats/multiaddr'
import { DaemonClient } from '../../src/daemon/client.ts'
import { daemonLauncher } from '../../interop/daemon/installed.ts'
import type { ByteStream } from '../../src/interface/stream.ts'

const SINK = '/bench/daemon-sink/1.0.0'

function arg (name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}

async function cpuSeconds (pid: number): Promise<number> {
  // utime and stime are fields 14 and 15 of /proc/PID/stat, in clock ticks (100 per second)
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

async function start (dir: string, name: string, launcher: string): Promise<{ child: ChildProcess, client: DaemonClient }> {
  const command = P2PD !== undefined ? [P2PD] : [process.execPath, ...NODE_FLAGS, launcher, 'daemon']
  const controlAddr = UNIX ? `/unix${join(dir, `${name}.sock`)}` : '/ip4/127.0.0.1/tcp/0'
  const child = spawn(command[0], [...command.slice(1), '-listen', controlAddr, '-hostAddrs', '/ip4/127.0.0.1/tcp/0', '-tls=false', '-plaintext=false', '-relay=false', ...(P2PD !== undefined ? [] : ['-dataDir', join(dir, name)])], { stdio: ['ignore', 'pipe', 'inherit'] })
  const control = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => { if (line.startsWith('Control socket: ')) resolve(line.slice(16)) })
    child.once('exit', (code) => { reject(new Error(`daemon exited (${code})`)) })
  })
  return { child, client: new DaemonClient(control) }
}

/** --p2pd: the same with go-libp2p-daemon's p2pd (interop/p2pd) as both daemons. */
const P2PD = process.argv.includes('--p2pd') ? (await buildP2pd()).p2pd : undefined
/** --nodeFlags '--cpu-prof --cpu-prof-dir=DIR': node's flags for our daemons (profiling). */
const NODE_FLAGS = process.argv.includes('--nodeFlags') ? process.argv[process.argv.indexOf('--nodeFlags') + 1].split(' ').filter(f => f !== '') : []
/** --unix: control sockets and the handler's socket are unix sockets (default loopback TCP, as bench/daemon/run.ts). */
const UNIX = process.argv.includes('--unix')
const bytes = arg('bytes', 256 << 20)
const chunkSize = arg('chunk', 64 * 1024)
const dir = await mkdtemp(join(tmpdir(), 'daemon-cpu-'))
const launcher = P2PD !== undefined ? '' : daemonLauncher(process.argv.includes('--build') ? process.argv[process.argv.indexOf('--build') + 1] : 'dist', dir)
const a = await start(dir, 'a', launcher)
const b = await start(dir, 'b', launcher)
try {
  const idB = await b.client.identify()
  await a.client.connect(idB.id, idB.addrs)
  let done: () => void = () => {}
  const received = new Promise<void>(resolve => { done = resolve })
  await b.client.registerStreamHandler([SINK], (stream: ByteStream) => {
    (async () => {
      let got = 0
      for await (const c of stream) { got += c.byteLength; if (got >= bytes) break }
      done()
      stream.abort(new Error('done'))
    })().catch(() => {})
  }, UNIX ? multiaddr(`/unix/${encodeURIComponent(join(dir, 'handler.sock'))}`) : undefined)
  const { stream } = await a.client.openStream(idB.id, [SINK])
  const chunk = new Uint8Array(chunkSize)
  const before = [await cpuSeconds(a.child.pid!), await cpuSeconds(b.child.pid!), process.cpuUsage()]
  const t0 = process.hrtime.bigint()
  for (let sent = 0; sent < bytes; sent += chunkSize) if (!stream.send(chunk)) await stream.drain()
  await received
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const cpuA = await cpuSeconds(a.child.pid!) - (before[0] as number)
  const cpuB = await cpuSeconds(b.child.pid!) - (before[1] as number)
  const self = process.cpuUsage(before[2] as NodeJS.CpuUsage)
  stream.abort(new Error('done'))
  process.stdout.write(`${(bytes / 2 ** 20 / seconds).toFixed(1)} MiB/s over ${seconds.toFixed(2)} s; CPU s: daemon A ${cpuA.toFixed(2)}, daemon B ${cpuB.toFixed(2)}, client+handler ${((self.user + self.system) / 1e6).toFixed(2)}\n`)
} finally {
  await a.client.close(); await b.client.close()
  for (const d of [a, b]) { d.child.kill('SIGTERM') }
  await Promise.all([a, b].map(async d => await new Promise(resolve => { if (d.child.exitCode !== null) resolve(null); else d.child.once('exit', resolve) })))
  await rm(dir, { recursive: true, force: true })
}
