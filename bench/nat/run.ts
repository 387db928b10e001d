/**
 * `npm run bench:nat`: hole-punch success per NAT pair in the NAT lab (test/support/lab/),
 * ts-libp2p side by side with go-libp2p and js-libp2p. For each pair of router kinds, a relay on the lab's
 * "internet" and a listener B behind router B (reserved on the relay) stay up; each attempt
 * starts a fresh peer A behind router A that connects to B through the relay, and records what
 * B's DCUtR reports: success, on which of the three attempts, and the time from the relayed
 * connection to the direct one. Results go to <out>/nat.json and nat.md. Needs root.
 *
 *   node bench/nat/run.ts                                  # 20 attempts per pair, ts, go and js, TCP and QUIC
 *   node bench/nat/run.ts --quick                          # smoke run: 2 attempts, eim/eim
 *   node bench/nat/run.ts --sides ts --pairs eim/eim,eim/edm --out /tmp/nat
 *
 * Flags: --attempts N --pairs A/B,... (kinds: eim, eim-rst, edm, fullcone) --sides ts,go,js
 * --transports tcp,quic (js: tcp only) --quick (2 attempts, eim/eim unless given)
 * --delay MS (one-way per router WAN, default 25) --out DIR (default bench/results).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createNatLab, natLabUnavailableReason, NAT_KINDS, type NatKind } from '../../test/support/lab/index.ts'
import { gitCommit, loadAverage, machineInfo } from '../lib/report.ts'
import { quantile } from '../../test/support/stats.ts'
import { SIDES, type PunchRecord, type PunchTransport, type SideName } from './sides.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface NatBenchConfig {
  attempts: number
  pairs: Array<[NatKind, NatKind]>
  sides: SideName[]
  transports: PunchTransport[]
  delayMs: number
  outDir: string
}

export function parseNatConfig (argv: string[]): NatBenchConfig {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`)
    return i === -1 ? undefined : argv[i + 1]
  }
  const quick = argv.includes('--quick')
  const pairs = (value('pairs') ?? (quick ? 'eim/eim' : 'eim/eim,eim-rst/eim-rst,eim/edm,edm/edm')).split(',').map(pair => {
    const [a, b] = pair.split('/')
    for (const kind of [a, b]) if (!NAT_KINDS.includes(kind as NatKind)) throw new Error(`unknown NAT kind '${kind}' (${NAT_KINDS.join(', ')})`)
    return [a, b] as [NatKind, NatKind]
  })
  const sides = (value('sides') ?? 'ts,go,js').split(',') as SideName[]
  for (const side of sides) if (!(side in SIDES)) throw new Error(`unknown side '${side}' (${Object.keys(SIDES).join(', ')})`)
  const transports = (value('transports') ?? 'tcp,quic').split(',') as PunchTransport[]
  for (const t of transports) if (t !== 'tcp' && t !== 'quic') throw new Error(`unknown transport '${t}' (tcp, quic)`)
  const attempts = Number(value('attempts') ?? (quick ? 2 : 20))
  if (!Number.isInteger(attempts) || attempts < 1) throw new Error('--attempts must be a positive integer')
  return { attempts, pairs, sides, transports, delayMs: Number(value('delay') ?? 25), outDir: value('out') ?? join(REPO_ROOT, 'bench', 'results') }
}

export interface PairResult {
  side: SideName
  transport: PunchTransport
  natA: NatKind
  natB: NatKind
  attempts: number
  successes: number
  firstAttemptSuccesses: number
  /** Relayed connection to direct connection, ms, over the successes. */
  medianMs: number
  p90Ms: number
  records: PunchRecord[]
}

export function summarize (side: SideName, transport: PunchTransport, natA: NatKind, natB: NatKind, records: PunchRecord[]): PairResult {
  const ok = records.filter(r => r.success)
  const ms = ok.map(r => r.ms)
  return {
    side,
    transport,
    natA,
    natB,
    attempts: records.length,
    successes: ok.length,
    firstAttemptSuccesses: ok.filter(r => r.attempt <= 1).length,
    medianMs: quantile(ms, 0.5),
    p90Ms: quantile(ms, 0.9),
    records
  }
}

export function renderNatMarkdown (results: PairResult[], config: NatBenchConfig): string {
  const pct = (n: number, d: number): string => d === 0 ? '-' : `${Math.round(n / d * 100)} %`
  const ms = (v: number): string => Number.isNaN(v) ? '-' : `${Math.round(v)} ms`
  const lines = [
    `Hole punching in the NAT lab: ${config.attempts} attempts per NAT pair, ${config.delayMs} ms one way on each router's WAN, over ${config.transports.join(' and ')} (js: TCP only).`,
    '',
    'Time: ts from the relayed connection (identified) to the direct one; go its own trace of the successful punch dial; js the first direct connection after the relayed one.',
    '',
    '| side | transport | router A | router B | success | first-attempt success | relayed -> direct (median) | p90 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |'
  ]
  for (const r of results) {
    lines.push(`| ${r.side} | ${r.transport} | ${r.natA} | ${r.natB} | ${r.successes}/${r.attempts} (${pct(r.successes, r.attempts)}) | ${pct(r.firstAttemptSuccesses, r.successes)} of successes | ${ms(r.medianMs)} | ${ms(r.p90Ms)} |`)
  }
  return lines.join('\n') + '\n'
}

async function main (): Promise<void> {
  const config = parseNatConfig(process.argv.slice(2))
  const reason = await natLabUnavailableReason()
  if (reason !== undefined) throw new Error(`bench:nat cannot run: ${reason}`)
  const loadAtStart = loadAverage()
  const results: PairResult[] = []
  for (const [natA, natB] of config.pairs) {
    for (const transport of config.transports) {
      for (const side of config.sides.filter(s => SIDES[s].transports.includes(transport))) {
        const lab = await createNatLab({ natA, natB, delayMs: config.delayMs })
        try {
          const records: PunchRecord[] = []
          const scene = await SIDES[side].setUp(lab, transport)
          try {
            for (let i = 0; i < config.attempts; i++) {
              records.push(await scene.attempt())
              process.stderr.write(`${side} ${transport} ${natA}/${natB} ${i + 1}/${config.attempts}: ${JSON.stringify(records.at(-1))}\n`)
            }
          } finally {
            await scene.tearDown()
          }
          results.push(summarize(side, transport, natA, natB, records))
        } finally {
          await lab.close()
        }
      }
    }
  }
  await mkdir(config.outDir, { recursive: true })
  const report = { machine: machineInfo(loadAtStart), commit: gitCommit(REPO_ROOT), config: { ...config, outDir: undefined }, results }
  await writeFile(join(config.outDir, 'nat.json'), JSON.stringify(report, null, 2) + '\n')
  const markdown = renderNatMarkdown(results, config)
  await writeFile(join(config.outDir, 'nat.md'), markdown)
  process.stdout.write(markdown)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main()
}
