/**
 * p2pd's `-f FILE` JSON configuration (go-libp2p-daemon config/config.go, specs/CONFIG.md),
 * read into the same fields the flags set. Keys match case-insensitively, as Go's
 * encoding/json does, and unknown keys are ignored as there (each is named on stderr).
 *
 * Where we differ from p2pd on purpose:
 * - p2pd parses every multiaddr field from the raw JSON text, quotes included, so
 *   `"ListenAddr": "/unix/..."` fails there; we take a JSON string, and for the address lists a
 *   JSON array of strings or one comma-separated string.
 * - p2pd lets a flag override the file only when the flag is "on" (and always for the security
 *   and echo flags, so the file cannot turn those off); here the file is the base and every flag
 *   given on the command line overrides it, the file overrides the flag defaults.
 * - Durations take Go's nanosecond numbers (what p2pd's json.Unmarshal expects) or duration
 *   strings such as "120s".
 */
import { readFile } from 'node:fs/promises'
import { UsageError } from './args.ts'
import type { DaemonFlags } from './daemon-flags.ts'

/** The file is read whole: a config is a few hundred bytes. */
export const MAX_CONFIG_FILE_SIZE = 256 * 1024

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
type JsonObject = { [k: string]: Json }

/** Reads `path` and applies it to `flags` below every flag given on the command line. */
export async function applyConfigFile (flags: DaemonFlags, path: string, warn: (line: string) => void): Promise<void> {
  let text: Buffer
  try {
    text = await readFile(path)
  } catch (err) {
    throw new UsageError(`-f ${path}: ${(err as Error).message}`)
  }
  if (text.length > MAX_CONFIG_FILE_SIZE) throw new UsageError(`-f ${path}: larger than ${MAX_CONFIG_FILE_SIZE} bytes`)
  let config: Json
  try {
    config = JSON.parse(text.toString('utf8')) as Json
  } catch (err) {
    throw new UsageError(`-f ${path}: not JSON: ${(err as Error).message}`)
  }
  applyConfig(flags, config, warn)
}

export function applyConfig (flags: DaemonFlags, config: Json, warn: (line: string) => void): void {
  const root = object(config, 'the config')
  const values = flags as unknown as Record<string, boolean | string>
  const set = (flag: keyof DaemonFlags & string, value: boolean | string | undefined): void => {
    if (value === undefined || flags.given.has(flag)) return
    values[flag] = value
    flags.fromConfig.add(flag)
  }
  for (const [key, value] of Object.entries(root)) {
    switch (key.toLowerCase()) {
      case 'listenaddr': set('listen', str(value, key)); break
      case 'quiet': set('q', bool(value, key)); break
      case 'id': set('id', str(value, key)); break
      case 'bootstrap': {
        const b = fields(value, key)
        set('b', optional(b.enabled, v => bool(v, 'Bootstrap.Enabled')))
        set('bootstrapPeers', optional(b.peers, v => addrList(v, 'Bootstrap.Peers')))
        break
      }
      case 'dht': {
        const mode = optional(fields(value, key).mode, v => str(v, 'DHT.Mode'))
        if (mode === undefined || mode === '') break
        if (mode !== 'full' && mode !== 'client' && mode !== 'server') throw new UsageError(`config: unknown DHT mode ${mode}`)
        if (flags.given.has('dht') || flags.given.has('dhtClient') || flags.given.has('dhtServer')) break
        set('dht', mode === 'full')
        set('dhtClient', mode === 'client')
        set('dhtServer', mode === 'server')
        break
      }
      case 'connectionmanager': {
        const c = fields(value, key)
        set('connManager', optional(c.enabled, v => bool(v, 'ConnectionManager.Enabled')))
        set('connLo', optional(c.lowwatermark, v => String(int(v, 'ConnectionManager.LowWaterMark'))))
        set('connHi', optional(c.highwatermark, v => String(int(v, 'ConnectionManager.HighWaterMark'))))
        set('connGrace', optional(c.graceperiod, v => duration(v, 'ConnectionManager.GracePeriod')))
        break
      }
      case 'natportmap': set('natPortMap', bool(value, key)); break
      case 'autonat': set('autonat', bool(value, key)); break
      case 'pubsub': {
        const p = fields(value, key)
        set('pubsub', optional(p.enabled, v => bool(v, 'PubSub.Enabled')))
        set('pubsubRouter', optional(p.router, v => str(v, 'PubSub.Router')))
        set('pubsubSign', optional(p.sign, v => bool(v, 'PubSub.Sign')))
        set('pubsubSignStrict', optional(p.signstrict, v => bool(v, 'PubSub.SignStrict')))
        if (p.gossipsubheartbeat !== undefined) {
          const h = fields(p.gossipsubheartbeat, 'PubSub.GossipSubHeartbeat')
          set('gossipsubHeartbeatInterval', optional(h.interval, v => duration(v, 'GossipSubHeartbeat.Interval')))
          set('gossipsubHeartbeatInitialDelay', optional(h.initialdelay, v => duration(v, 'GossipSubHeartbeat.InitialDelay')))
        }
        break
      }
      case 'relay': {
        const r = fields(value, key)
        set('relay', optional(r.enabled, v => bool(v, 'Relay.Enabled')))
        set('autoRelay', optional(r.auto, v => bool(v, 'Relay.Auto')))
        break
      }
      case 'hostaddresses': set('hostAddrs', addrList(value, key)); break
      case 'announceaddresses': set('announceAddrs', addrList(value, key)); break
      case 'nolisten': set('noListenAddrs', bool(value, key)); break
      case 'metricsaddress': set('metricsAddr', str(value, key)); break
      case 'security': {
        const s = fields(value, key)
        set('noise', optional(s.noise, v => bool(v, 'Security.Noise')))
        set('tls', optional(s.tls, v => bool(v, 'Security.TLS')))
        set('plaintext', optional(s.plaintext, v => bool(v, 'Security.Plaintext')))
        break
      }
      case 'echo': set('echo', bool(value, key)); break
      case 'quic': case 'pprof': warn(`config: ${key} is not used by this daemon (ignored)`); break
      default: warn(`config: unknown key ${key} (ignored)`)
    }
  }
}

function object (v: Json, what: string): JsonObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`config: ${what} must be a JSON object`)
  return v
}

/** An object's fields by lower-cased key (Go's case-insensitive match). */
function fields (v: Json, what: string): Record<string, Json> {
  const out: Record<string, Json> = {}
  for (const [k, x] of Object.entries(object(v, what))) out[k.toLowerCase()] = x
  return out
}

function optional<T> (v: Json | undefined, read: (v: Json) => T): T | undefined {
  return v === undefined || v === null ? undefined : read(v)
}

function bool (v: Json, what: string): boolean {
  if (typeof v !== 'boolean') throw new UsageError(`config: ${what} must be true or false`)
  return v
}

function str (v: Json, what: string): string {
  if (typeof v !== 'string') throw new UsageError(`config: ${what} must be a string`)
  return v
}

function int (v: Json, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new UsageError(`config: ${what} must be an integer`)
  return v
}

/** Go's time.Duration in JSON is nanoseconds; a duration string is taken too. */
function duration (v: Json, what: string): string {
  if (typeof v === 'string') return v
  return `${int(v, what) / 1e6}ms`
}

function addrList (v: Json, what: string): string {
  if (typeof v === 'string') return v
  if (!Array.isArray(v)) throw new UsageError(`config: ${what} must be a list of multiaddr strings`)
  return v.map(x => str(x, what)).join(',')
}
