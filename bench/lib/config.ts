/**
 * Benchmark settings from flags and environment (flags win). The defaults are the full run;
 * `--quick` / BENCH_QUICK=1 shrinks every size for a smoke run.
 *
 *   --quick                      BENCH_QUICK=1       tiny sizes, for tests
 *   --repeat N                   BENCH_REPEAT        repetitions of each repeated figure (3)
 *   --bytes SIZE                 BENCH_BYTES         one-stream transfer each way (1GiB)
 *   --warmup SIZE                BENCH_WARMUP        unmeasured transfer per stack first (64MiB)
 *   --setup N                    BENCH_SETUP         fresh connections per setup figure (200)
 *   --streams N                  BENCH_STREAMS       stream opens + 1-byte echoes (1000)
 *   --concurrent-streams N       BENCH_CONCURRENT_STREAMS  (100)
 *   --concurrent-bytes SIZE      BENCH_CONCURRENT_BYTES    per stream (10MiB)
 *   --idle N                     BENCH_IDLE          idle connections for memory (1000)
 *   --memory-repeat N            BENCH_MEMORY_REPEAT fresh process pairs for memory (2)
 *   --cipher-bytes SIZE          BENCH_CIPHER_BYTES  ChaCha20-Poly1305 volume per mode (1GiB)
 *   --chunk SIZE                 BENCH_CHUNK         application write size (64KiB)
 *   --sides ts,js,raw            BENCH_SIDES
 *   --stacks a,b                 BENCH_STACKS        noise+yamux,tls+yamux,noise+mplex,plaintext+yamux,websockets,quic
 *                                                    (websockets: Noise + Yamux over ws:// instead of TCP)
 *                                                    (quic: QUIC v1 over UDP beside the TCP stacks; more
 *                                                    QUIC figures in npm run bench:quic)
 *   --startup-runs N             BENCH_STARTUP_RUNS  fresh client processes per side per cold-start
 *                                                    figure (15; section startup, bench/startup/)
 *   --only s1,s2                 BENCH_ONLY          sections: cipher,throughput,streams,concurrent,setup,startup,memory
 *   --out DIR                    BENCH_OUT           where latest.json/latest.md go (bench/results)
 *   --debug                      BENCH_DEBUG=1       copy the peers' stderr to ours
 *   --cpu-prof DIR               BENCH_CPU_PROF      run the peers with --cpu-prof into DIR
 *                                                    (summarize with bench/profile-summary.ts)
 *   --resource-manager on|off|both BENCH_RESOURCE_MANAGER  our peers with or without the resource
 *                                                    manager (on); both: our peers with it and, as
 *                                                    the side 'ts-off', without it, taking turns in
 *                                                    one run, with its cost per figure in the report
 *   --from-source                BENCH_FROM_SOURCE=1 run the peers' .ts sources directly instead of
 *                                                    compiling them first (see lib/build.ts)
 * SIZE accepts a plain byte count or a KiB/MiB/GiB suffix: 512KiB, 1GiB.
 */
import { fileURLToPath } from 'node:url'

/** 'ts-off': our peers with the resource manager off, beside 'ts' in the same run (--resource-manager both). */
export const SIDES = ['ts', 'ts-off', 'js', 'raw'] as const
export type Side = typeof SIDES[number]
export const STACKS = ['noise+yamux', 'tls+yamux', 'noise+mplex', 'plaintext+yamux', 'websockets', 'quic'] as const
export const SECTIONS = ['cipher', 'throughput', 'streams', 'concurrent', 'setup', 'startup', 'memory'] as const
export type Section = typeof SECTIONS[number]

export interface BenchConfig {
  quick: boolean
  repeat: number
  transferBytes: number
  warmupBytes: number
  setupCount: number
  /** Fresh client processes per side for each cold-start figure. */
  startupRuns: number
  streamCount: number
  concurrentStreams: number
  concurrentBytes: number
  idleConnections: number
  memoryRepeat: number
  cipherBytes: number
  chunkSize: number
  /** Noise's largest plaintext per frame: 65535 bytes minus the 16-byte tag. */
  cipherFrame: number
  sides: Side[]
  stacks: string[]
  sections: Section[]
  outDir: string
  debug: boolean
  cpuProfDir?: string
  /** Run the .ts peers through Node's type stripper instead of compiled JavaScript. */
  fromSource: boolean
  /** Our peers run with the resource manager (the default); off measures what it costs. */
  resourceManager: boolean
}

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

export function parseSize (text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/i.exec(text.trim())
  if (match === null) throw new Error(`bad size ${JSON.stringify(text)} (use e.g. 1048576, 512KiB, 1GiB)`)
  const unit = (match[2] ?? 'B').toLowerCase()
  const factor = unit === 'gib' ? GiB : unit === 'mib' ? MiB : unit === 'kib' ? KiB : 1
  return Math.round(Number(match[1]) * factor)
}

function parseCount (text: string, name: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(text)}`)
  return n
}

function parseList<T extends string> (text: string, allowed: readonly T[], name: string): T[] {
  const items = text.split(',').map(s => s.trim()).filter(s => s !== '')
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`${name}: unknown ${JSON.stringify(item)} (known: ${allowed.join(', ')})`)
  return items as T[]
}

export function parseConfig (argv: string[], env: NodeJS.ProcessEnv): BenchConfig {
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(arg)}`)
    const name = arg.slice(2)
    if (name === 'quick' || name === 'debug' || name === 'from-source') { flags.set(name, '1'); continue }
    const value = argv[++i]
    if (value === undefined) throw new Error(`${arg} needs a value`)
    flags.set(name, value)
  }
  const known = new Set(['quick', 'debug', 'repeat', 'bytes', 'warmup', 'setup', 'startup-runs', 'streams', 'concurrent-streams', 'concurrent-bytes', 'idle', 'memory-repeat', 'cipher-bytes', 'chunk', 'sides', 'stacks', 'only', 'out', 'cpu-prof', 'from-source', 'resource-manager'])
  for (const name of flags.keys()) if (!known.has(name)) throw new Error(`unknown flag --${name}`)
  const get = (flag: string): string | undefined => flags.get(flag) ?? env[`BENCH_${flag.toUpperCase().replaceAll('-', '_')}`]

  const quick = get('quick') === '1'
  const size = (flag: string, full: number, small: number): number => {
    const text = get(flag)
    return text !== undefined ? parseSize(text) : quick ? small : full
  }
  const count = (flag: string, full: number, small: number): number => {
    const text = get(flag)
    return text !== undefined ? parseCount(text, `--${flag}`) : quick ? small : full
  }
  const sides = get('sides')
  const stacks = get('stacks')
  const only = get('only')
  const resourceManager = get('resource-manager') ?? 'on'
  if (resourceManager !== 'on' && resourceManager !== 'off' && resourceManager !== 'both') throw new Error(`--resource-manager takes on, off or both, not ${resourceManager}`)
  // 'ts-off' runs only with --resource-manager both (or when named in --sides)
  const defaultSides = SIDES.filter(side => side !== 'ts-off' || resourceManager === 'both')
  return {
    quick,
    repeat: count('repeat', 3, 2),
    transferBytes: size('bytes', GiB, MiB),
    warmupBytes: size('warmup', 64 * MiB, 256 * KiB),
    setupCount: count('setup', 200, 5),
    startupRuns: count('startup-runs', 15, 1),
    streamCount: count('streams', 1000, 10),
    concurrentStreams: count('concurrent-streams', 100, 10),
    concurrentBytes: size('concurrent-bytes', 10 * MiB, 64 * KiB),
    idleConnections: count('idle', 1000, 5),
    memoryRepeat: count('memory-repeat', 2, 1),
    cipherBytes: size('cipher-bytes', GiB, MiB),
    chunkSize: size('chunk', 64 * KiB, 64 * KiB),
    cipherFrame: 65535 - 16,
    sides: sides !== undefined ? parseList(sides, SIDES, '--sides') : defaultSides,
    stacks: stacks !== undefined ? parseList(stacks, STACKS, '--stacks') : [...STACKS],
    sections: only !== undefined ? parseList(only, SECTIONS, '--only') : [...SECTIONS],
    outDir: get('out') ?? fileURLToPath(new URL('../results/', import.meta.url)),
    debug: get('debug') === '1',
    cpuProfDir: get('cpu-prof'),
    fromSource: get('from-source') === '1',
    resourceManager: resourceManager !== 'off'
  }
}
