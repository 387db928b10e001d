/**
 * `npm run interop:perf:compare`: issue 19's comparison with the perf contract's own client:
 * ts client against a ts server next to js client against a js server, same sizes, fresh
 * client processes, the two sides alternating run by run (so machine load hits both alike),
 * N runs each; prints medians and the ts/js ratio of each measure.
 *
 *   npm run interop:perf:compare -- [--runs N] [--bytes N] [--transport tcp|quic-v1] [--latency-only]
 *
 * Each figure is the client's own `timeSeconds` (start-up excluded, as the contract asks). Ours
 * is `ts-libp2p perf` timing itself; js's is js-perf.ts, js-libp2p in one process timing itself
 * the way @libp2p/perf does (test-plans' js client), against a js-perf.ts server: no pipe or
 * helper process on either side of the clock. One discarded round first fills the OS's file
 * cache and our compile cache (js-libp2p turns none on; it runs as shipped).
 */
import { parseArgs } from 'node:util'
import { PERF_IMPLEMENTATIONS, JS_ONE_PROCESS_PERF, freeTcpUdpPort, startServer, runClient, median, type Server } from './perf-matrix.ts'

const MIB = 1024 * 1024

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, bytes: { type: 'string', default: String(100 * MIB) }, transport: { type: 'string', default: 'tcp' }, 'latency-only': { type: 'boolean', default: false } } })
  const runs = Number(values.runs)
  const bytes = Number(values.bytes)
  const transport = values.transport
  if (!Number.isSafeInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer')
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new Error('--bytes must be a positive integer')
  if (transport !== 'tcp' && transport !== 'quic-v1') throw new Error('--transport must be tcp or quic-v1')
  const sides = [PERF_IMPLEMENTATIONS.find(i => i.id === 'ts')!, JS_ONE_PROCESS_PERF]
  const servers: Server[] = []
  try {
    const ports: number[] = []
    for (const impl of sides) {
      const port = await freeTcpUdpPort()
      servers.push(await startServer(impl, port))
      ports.push(port)
    }
    const figures = sides.map(() => ({ latency: [] as number[], upload: [] as number[], download: [] as number[] }))
    const timeoutMs = 300_000
    for (let s = 0; s < sides.length; s++) await runClient(sides[s], ports[s], transport, 1, 1, timeoutMs)
    for (let run = 0; run < runs; run++) {
      for (let s = 0; s < sides.length; s++) {
        figures[s].latency.push(await runClient(sides[s], ports[s], transport, 1, 1, timeoutMs))
        if (values['latency-only']) continue
        figures[s].upload.push(bytes * 8 / await runClient(sides[s], ports[s], transport, bytes, 0, timeoutMs))
        figures[s].download.push(bytes * 8 / await runClient(sides[s], ports[s], transport, 0, bytes, timeoutMs))
      }
      process.stdout.write(`run ${run + 1}/${runs} done\n`)
    }
    const [ts, js] = figures
    const line = (name: string, a: number, b: number, unit: (v: number) => string, goal: string): string =>
      `${name.padEnd(26)} ts ${unit(a).padStart(12)}  js ${unit(b).padStart(12)}  ts/js ${(a / b).toFixed(2)}x  (goal ${goal})\n`
    const ms = (v: number): string => `${(v * 1000).toFixed(1)} ms`
    const gbit = (v: number): string => `${(v / 1e9).toFixed(2)} Gbit/s`
    process.stdout.write(`${transport}, ${runs} alternating runs each, ${bytes} bytes, medians:\n`)
    process.stdout.write(line('connection + 1-byte RTT', median(ts.latency)!, median(js.latency)!, ms, '<= 0.5x'))
    if (values['latency-only']) return
    process.stdout.write(line('upload', median(ts.upload)!, median(js.upload)!, gbit, '>= 2x'))
    process.stdout.write(line('download', median(ts.download)!, median(js.download)!, gbit, '>= 2x'))
  } finally {
    for (const server of servers) await server.stop()
  }
}

main().catch((err) => { process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`); process.exitCode = 1 })
