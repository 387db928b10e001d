/**
 * p2pd's command line: Go-style single-dash flags (`-name`, `-name=value`, `-name value`;
 * a boolean takes only the `=` form, so `-dht false` is not `-dht=false`, as in Go's flag
 * package). Flags we do not implement yet are accepted and reported on stderr, so p2pd
 * command lines keep working.
 */
import { UsageError } from './args.ts'

const BOOLEAN_FLAGS = {
  noListenAddrs: false, noise: true, tls: true, plaintext: true, dht: false, dhtServer: false, dhtClient: false,
  pubsub: false, pubsubSign: true, pubsubSignStrict: true, relay: true, autoRelay: false, echo: true,
  connManager: false, q: false, b: false, natPortMap: false, autonat: false, relayActive: false, relayHop: false,
  relayDiscovery: false, forceReachabilityPublic: false, forceReachabilityPrivate: false, pprof: false, i: false
} as const

const STRING_FLAGS = {
  listen: '/unix/tmp/p2pd.sock', hostAddrs: '', announceAddrs: '', id: '', muxer: 'yamux', pubsubRouter: 'gossipsub',
  connLo: '256', connHi: '512', connGrace: '120s', bootstrapPeers: '', metricsAddr: '', f: '', dataDir: '', apps: '', appsDir: '',
  gossipsubHeartbeatInterval: '', gossipsubHeartbeatInitialDelay: '', relayHopLimit: '', pprofPort: ''
} as const

export type DaemonFlags = { -readonly [K in keyof typeof BOOLEAN_FLAGS]: boolean } & { -readonly [K in keyof typeof STRING_FLAGS]: string } & {
  /** The flags the command line set explicitly. */
  given: Set<string>
  /** The flags a -f JSON config set (below the command line's). */
  fromConfig: Set<string>
}

function parseBool (name: string, text: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false
  throw new UsageError(`invalid boolean value "${text}" for flag -${name}`)
}

export function parseDaemonFlags (argv: string[]): DaemonFlags {
  const flags = { ...BOOLEAN_FLAGS, ...STRING_FLAGS, given: new Set<string>(), fromConfig: new Set<string>() } as DaemonFlags
  const values = flags as unknown as Record<string, boolean | string>
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('-') || arg === '-' || arg === '--') throw new UsageError(`unexpected argument ${arg}`)
    const body = arg.replace(/^--?/, '')
    const eq = body.indexOf('=')
    const name = eq === -1 ? body : body.slice(0, eq)
    const inline = eq === -1 ? undefined : body.slice(eq + 1)
    if (Object.hasOwn(BOOLEAN_FLAGS, name)) {
      values[name] = inline === undefined ? true : parseBool(name, inline)
    } else if (Object.hasOwn(STRING_FLAGS, name)) {
      const value = inline ?? argv[++i]
      if (value === undefined) throw new UsageError(`flag needs an argument: -${name}`)
      values[name] = value
    } else {
      throw new UsageError(`flag provided but not defined: -${name}`)
    }
    flags.given.add(name)
  }
  return flags
}

/** Comma-separated multiaddr lists (`-hostAddrs`, `-announceAddrs`, `-bootstrapPeers`). */
export function splitList (text: string): string[] {
  return text.split(',').map(s => s.trim()).filter(s => s.length > 0)
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * A Go `time.Duration` string (`120s`, `1m30s`, `1.5h`, `250ms`, `0`) in milliseconds, as
 * p2pd's `-connGrace` and `-gossipsub*` flags take them.
 */
export function parseGoDuration (text: string, name: string): number {
  if (text === '0') return 0
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y
  let ms = 0
  let pos = 0
  const negative = text.startsWith('-')
  if (negative || text.startsWith('+')) pos = 1
  if (pos === text.length) throw new UsageError(`invalid value "${text}" for flag -${name}: parse error`)
  while (pos < text.length) {
    re.lastIndex = pos
    const m = re.exec(text)
    if (m === null) throw new UsageError(`invalid value "${text}" for flag -${name}: parse error`)
    ms += Number(m[1]) * DURATION_UNITS[m[2]]
    pos = re.lastIndex
  }
  return negative ? -ms : ms
}

/** A Go `int` flag's value. */
export function parseGoInt (text: string, name: string): number {
  if (!/^[-+]?\d+$/.test(text)) throw new UsageError(`invalid value "${text}" for flag -${name}: parse error`)
  const n = Number(text)
  if (!Number.isSafeInteger(n)) throw new UsageError(`invalid value "${text}" for flag -${name}: value out of range`)
  return n
}

/**
 * Flags accepted for compatibility whose feature the daemon does not have yet: each is named on
 * stderr when set, with what happens instead.
 */
export const UNSUPPORTED_FLAGS: Record<string, string> = {
  relayActive: 'a circuit relay v1 option (p2pd ignores it too)',
  relayHop: 'a circuit relay v1 option (p2pd ignores it too)',
  relayDiscovery: 'a circuit relay v1 option (p2pd ignores it too)',
  relayHopLimit: 'a circuit relay v1 option (p2pd ignores it too)',
  forceReachabilityPublic: 'only -autoRelay follows it (no reservations); AutoNAT and the DHT mode do not',
  forceReachabilityPrivate: 'only -autoRelay follows it (reserves without waiting for AutoNAT); AutoNAT and the DHT mode do not',
  metricsAddr: 'metrics are not available yet: nothing listens on the metrics address',
  pprof: 'pprof is Go only; use node --inspect or --cpu-prof',
  pprofPort: 'pprof is Go only; use node --inspect or --cpu-prof',
  i: 'the JSON config comes from -f FILE only (not stdin)',
}
