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
  connManager: false, q: false, natPortMap: false, autonat: false, relayActive: false, relayHop: false,
  relayDiscovery: false, forceReachabilityPublic: false, forceReachabilityPrivate: false, pprof: false, i: false
} as const

const STRING_FLAGS = {
  listen: '/unix/tmp/p2pd.sock', hostAddrs: '', announceAddrs: '', id: '', muxer: 'yamux', pubsubRouter: 'gossipsub',
  connLo: '256', connHi: '512', connGrace: '120s', b: '', bootstrapPeers: '', metricsAddr: '', f: '', dataDir: '',
  gossipsubHeartbeatInterval: '', gossipsubHeartbeatInitialDelay: '', relayHopLimit: '', pprofPort: ''
} as const

export type DaemonFlags = { [K in keyof typeof BOOLEAN_FLAGS]: boolean } & { [K in keyof typeof STRING_FLAGS]: string } & {
  /** The flags the command line set explicitly. */
  given: Set<string>
}

function parseBool (name: string, text: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false
  throw new UsageError(`invalid boolean value "${text}" for flag -${name}`)
}

export function parseDaemonFlags (argv: string[]): DaemonFlags {
  const flags = { ...BOOLEAN_FLAGS, ...STRING_FLAGS, given: new Set<string>() } as DaemonFlags
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

/** Comma-separated multiaddr lists (`-hostAddrs`, `-b`). */
export function splitList (text: string): string[] {
  return text.split(',').map(s => s.trim()).filter(s => s.length > 0)
}

/** Flags accepted for compatibility whose feature we lack: named on stderr when set. */
export const UNSUPPORTED_FLAGS = [
  'relay', 'autoRelay', 'natPortMap', 'autonat', 'relayActive', 'relayHop', 'relayDiscovery', 'relayHopLimit',
  'forceReachabilityPublic', 'forceReachabilityPrivate', 'metricsAddr', 'pprof', 'pprofPort', 'f', 'i',
  'announceAddrs', 'connGrace', 'gossipsubHeartbeatInterval', 'gossipsubHeartbeatInitialDelay', 'pubsubSign', 'pubsubSignStrict'
] as const
