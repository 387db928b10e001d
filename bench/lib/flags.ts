/**
 * The flag parsing of the focused benchmarks (bench:metrics, bench:rm, bench:relay): `--name
 * value` pairs and `--quick` (or BENCH_QUICK=1), unknown flags refused, and positive integers
 * with a full and a quick default. The full `npm run bench` has its own (config.ts: sizes, env).
 */
export interface BenchFlags {
  quick: boolean
  /** The raw value of `--name`, if given. */
  get: (name: string) => string | undefined
  /** `--name` as a positive integer, else `full` (or `small` with --quick). */
  int: (name: string, full: number, small: number) => number
}

export function parseBenchFlags (argv: string[], allowed: readonly string[]): BenchFlags {
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]
    if (name === '--quick') { flags.set('quick', '1'); continue }
    if (!name.startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad argument ${JSON.stringify(name)}`)
    flags.set(name.slice(2), argv[++i])
  }
  for (const k of flags.keys()) if (k !== 'quick' && !allowed.includes(k)) throw new Error(`unknown flag --${k}`)
  const quick = flags.has('quick') || process.env.BENCH_QUICK === '1'
  return {
    quick,
    get: (name) => flags.get(name),
    int: (name, full, small) => {
      const value = Number(flags.get(name) ?? (quick ? small : full))
      if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`)
      return value
    }
  }
}
