/**
 * `npm run bench:discovery`: time until a fresh node knows N peers on a LAN of M nodes, via
 * mDNS (ts-libp2p side by side with js-libp2p's @libp2p/mdns) and via a rendezvous point
 * (ts-libp2p; js-libp2p has no maintained rendezvous implementation to put beside it).
 *
 * The LAN is network namespaces with veths into one bridge (test/discovery/lan.ts): real
 * multicast, nothing on the machine's own interfaces. For each mechanism and side, M nodes
 * start and settle (each printed its start line; for rendezvous, each registered), then a fresh
 * node starts on one more host, and the time from its start line to its N-th distinct
 * `peer:discovery` is recorded; repeated `--rounds` times with a new fresh node each time.
 * Results go to <out>/discovery.json and discovery.md. Needs root.
 *
 *   node bench/discovery/run.ts                       # 50 nodes, N = 10, 3 rounds, mdns and rendezvous, ts and js
 *   node bench/discovery/run.ts --nodes 5 --want 3 --rounds 1    # a smoke run
 *
 * Flags: --nodes M --want N --rounds R --mechanisms mdns,rendezvous --sides ts,js --out DIR
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLan, type Lan, type LanHost } from '../../test/discovery/lan.ts'
import { natLabUnavailableReason, processLines, CLI } from '../../test/support/lab/index.ts'
import type { ProcessLines } from '../../test/support/lab/index.ts'
import { gitCommit, loadAverage, machineInfo } from '../lib/report.ts'
import { quantile } from '../../test/support/stats.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const JS_MDNS_PEER = join(REPO_ROOT, 'interop', 'js-peer', 'mdns-peer.ts')

type Mechanism = 'mdns' | 'rendezvous'
type Side = 'ts' | 'js'

interface Config { nodes: number, want: number, rounds: number, mechanisms: Mechanism[], sides: Side[], outDir: string }

/** `ms`: from the fresh node's start line; `msFromSpawn`: from starting its process (startup included). */
interface Row { mechanism: Mechanism, side: Side, nodes: number, want: number, ms: number[], msFromSpawn: number[], p50?: number, max?: number, p50FromSpawn?: number, note?: string }

function parseConfig (argv: string[]): Config {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`)
    return i === -1 ? undefined : argv[i + 1]
  }
  return {
    nodes: Number(value('nodes') ?? 50),
    want: Number(value('want') ?? 10),
    rounds: Number(value('rounds') ?? 3),
    mechanisms: (value('mechanisms') ?? 'mdns,rendezvous').split(',') as Mechanism[],
    sides: (value('sides') ?? 'ts,js').split(',') as Side[],
    outDir: value('out') ?? join(REPO_ROOT, 'bench', 'results')
  }
}

interface Started { lines: ProcessLines, peerId: string, addrs: string[], dir?: string }

const env = { ...process.env, DEBUG: '', TS_LIBP2P_OFFLINE: '1' }

async function startTs (host: LanHost, args: string[]): Promise<Started> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbench-disc-'))
  const lines = processLines(host.namespace.spawn(process.execPath, [CLI, 'start', '--data-dir', dir, '--no-nat-traversal', '--min-connections', '0',
    '--listen', '/ip4/0.0.0.0/tcp/0', '--events', ...args], { env }))
  const start = JSON.parse(await lines.nextLine(l => l.startsWith('{"peerId"'), 60_000)) as { peerId: string, addrs: string[] }
  return { lines, dir, ...start }
}

async function startJs (host: LanHost): Promise<Started> {
  const lines = processLines(host.namespace.spawn(process.execPath, [JS_MDNS_PEER, '--listen', '/ip4/0.0.0.0/tcp/0', '--interval', '10000'], { env }))
  const ready = JSON.parse(await lines.nextLine(l => l.includes('"event":"ready"'), 60_000)) as { peerId: string, addrs: string[] }
  return { lines, ...ready }
}

async function stopAll (nodes: Started[]): Promise<void> {
  await Promise.all(nodes.map(async n => {
    await n.lines.stop()
    if (n.dir !== undefined) await rm(n.dir, { recursive: true, force: true })
  }))
}

/**
 * Milliseconds to the fresh node's `want`-th distinct discovered peer, from its start line and
 * from its spawn. (js-libp2p's mDNS queries before its ready line, so the spawn figure is the
 * fair comparison; the start-line one shows the mechanism without process start-up.)
 */
async function timeToPeers (fresh: () => Promise<Started>, want: number): Promise<{ fromStart: number, fromSpawn: number }> {
  const spawnedAt = performance.now()
  const node = await fresh()
  const startedAt = performance.now()
  const seen = new Set<string>()
  try {
    let consumed = 0
    while (seen.size < want) {
      // every line so far, including those printed before we looked
      const all = node.lines.stdoutText().split('\n')
      for (; consumed < all.length; consumed++) {
        const line = all[consumed]
        if (!line.includes('"event":"peer:discovery"')) continue
        const parsed = JSON.parse(line) as { id?: string, peer?: string }
        seen.add(parsed.id ?? parsed.peer ?? '')
      }
      if (seen.size >= want) break
      await node.lines.nextLine(l => l.includes('"event":"peer:discovery"'), 120_000)
    }
    const now = performance.now()
    return { fromStart: now - startedAt, fromSpawn: now - spawnedAt }
  } finally {
    await stopAll([node])
  }
}

async function runCase (lan: Lan, config: Config, mechanism: Mechanism, side: Side): Promise<Row> {
  const row: Row = { mechanism, side, nodes: config.nodes, want: config.want, ms: [], msFromSpawn: [] }
  if (mechanism === 'rendezvous' && side === 'js') return { ...row, note: 'js-libp2p has no maintained rendezvous implementation' }
  const population: Started[] = []
  try {
    let freshArgs: string[]
    if (mechanism === 'mdns') {
      for (let i = 0; i < config.nodes; i++) population.push(side === 'ts' ? await startTs(lan.hosts[i], ['--offline', '--mdns']) : await startJs(lan.hosts[i]))
      freshArgs = ['--offline', '--mdns']
    } else {
      const point = await startTs(lan.hosts[0], ['--offline', '--no-mdns', '--rendezvous-server'])
      population.push(point)
      const pointAddr = point.addrs.find(a => a.includes('/10.77.')) ?? point.addrs[0]
      for (let i = 1; i <= config.nodes; i++) {
        const node = await startTs(lan.hosts[i], ['--offline', '--no-mdns', '--rendezvous', pointAddr, '--namespace', 'bench'])
        await node.lines.nextLine(l => l.includes('"event":"rendezvous:register"'), 60_000)
        population.push(node)
      }
      freshArgs = ['--offline', '--no-mdns', '--rendezvous', pointAddr, '--namespace', 'bench']
    }
    const freshHost = lan.hosts[lan.hosts.length - 1]
    for (let r = 0; r < config.rounds; r++) {
      const fresh = side === 'ts' || mechanism === 'rendezvous' ? async () => await startTs(freshHost, freshArgs) : async () => await startJs(freshHost)
      const t = await timeToPeers(fresh, config.want)
      row.ms.push(t.fromStart)
      row.msFromSpawn.push(t.fromSpawn)
    }
  } finally {
    await stopAll(population)
  }
  const sorted = [...row.ms].sort((a, b) => a - b)
  return { ...row, p50: quantile(sorted, 0.5), max: sorted.at(-1), p50FromSpawn: quantile([...row.msFromSpawn].sort((a, b) => a - b), 0.5) }
}

function renderMarkdown (rows: Row[], config: Config): string {
  const lines = [`# Discovery: time until a fresh node knows ${config.want} peers on a LAN of ${config.nodes}`, '',
    '| mechanism | side | rounds | p50 from start line (ms) | max (ms) | p50 from spawn (ms) | note |', '|---|---|---|---|---|---|---|']
  for (const r of rows) lines.push(`| ${r.mechanism} | ${r.side} | ${r.ms.length} | ${r.p50?.toFixed(0) ?? ''} | ${r.max?.toFixed(0) ?? ''} | ${r.p50FromSpawn?.toFixed(0) ?? ''} | ${r.note ?? ''} |`)
  return lines.join('\n') + '\n'
}

async function main (): Promise<void> {
  const config = parseConfig(process.argv.slice(2))
  const reason = await natLabUnavailableReason()
  if (reason !== undefined) throw new Error(`the discovery benchmark needs the namespace lab: ${reason}`)
  if (config.want > config.nodes) throw new Error('--want cannot exceed --nodes')
  const loadAtStart = loadAverage()
  // rendezvous needs one host more (the point), and every case one for the fresh node
  const lan = await createLan('bd', config.nodes + 2)
  const rows: Row[] = []
  try {
    for (const mechanism of config.mechanisms) {
      for (const side of config.sides) {
        const row = await runCase(lan, config, mechanism, side)
        rows.push(row)
        process.stdout.write(`${mechanism} ${side}: ${row.note ?? `p50 ${row.p50?.toFixed(0)} ms from the start line (${row.p50FromSpawn?.toFixed(0)} ms from spawn), max ${row.max?.toFixed(0)} ms over ${row.ms.length} rounds`}\n`)
      }
    }
  } finally {
    lan.destroy()
  }
  await mkdir(config.outDir, { recursive: true })
  const report = { machine: machineInfo(loadAtStart), commit: gitCommit(REPO_ROOT), config: { ...config, outDir: undefined }, rows }
  await writeFile(join(config.outDir, 'discovery.json'), JSON.stringify(report, null, 2) + '\n')
  await writeFile(join(config.outDir, 'discovery.md'), renderMarkdown(rows, config))
}

await main()
