/**
 * The test-plans transport-interop contract (libp2p/test-plans transport-interop, the
 * docker-compose services its generator writes): what a test app reads from its environment,
 * how listener and dialer meet through Redis, and the one JSON line the dialer prints.
 *
 * - Environment (both roles): `transport`, `muxer` and `security` (the last two absent for
 *   transports that bring their own: quic-v1, webtransport, webrtc-direct), `is_dialer`
 *   ("true"/"false"), `ip` (the harness passes 0.0.0.0), `redis_addr` (default redis:6379),
 *   `test_timeout_seconds` (default 180; js-libp2p's app reads `test_timeout_secs`, so both are
 *   accepted). The successor (unified-testing) spells them in upper case (TRANSPORT,
 *   SECURE_CHANNEL, MUXER, IS_DIALER, LISTENER_IP, REDIS_ADDR, TEST_KEY): accepted too, and
 *   with TEST_KEY the Redis key becomes `<TEST_KEY>_listener_multiaddr`.
 * - The listener RPUSHes one multiaddr ending in /p2p/<its id> to `listenerAddr`, a non-loopback
 *   one when it has any (go's dialer refuses loopback when a container has an interface), then
 *   stays up until it is killed (or the timeout passes).
 * - The dialer BLPOPs `listenerAddr`, takes the time, dials, pings once, and prints
 *   `{"handshakePlusOneRTTMillis":…,"pingRTTMilllis":…}` (three l's, as the harness reads it)
 *   on stdout; logs go to stderr.
 */
import { networkInterfaces } from 'node:os'

export type ContractTransport = 'tcp' | 'ws' | 'quic-v1' | 'webtransport' | 'webrtc-direct'
export const CONTRACT_TRANSPORTS: readonly ContractTransport[] = ['tcp', 'ws', 'quic-v1', 'webtransport', 'webrtc-direct']
/** Transports that bring their own security and multiplexing (test-plans' "standalone" list). */
export const STANDALONE_TRANSPORTS: ReadonlySet<string> = new Set(['quic', 'quic-v1', 'webtransport', 'webrtc', 'webrtc-direct'])

export interface ContractEnv {
  transport: ContractTransport
  security?: 'noise' | 'tls'
  muxer?: 'yamux' | 'mplex'
  isDialer: boolean
  ip: string
  redisAddr: string
  timeoutSeconds: number
  /** The Redis list both roles meet on. */
  redisKey: string
}

export class ContractEnvError extends Error {
  override readonly name = 'ContractEnvError'
  readonly code = 'ERR_CONTRACT_ENV'
}

/** Reads the contract's variables (either convention) from `env`. */
export function readContractEnv (env: NodeJS.ProcessEnv = process.env): ContractEnv {
  const pick = (...names: string[]): string | undefined => names.map(n => env[n]).find(v => v !== undefined && v !== '')
  const transport = pick('transport', 'TRANSPORT')
  if (transport === undefined || !(CONTRACT_TRANSPORTS as readonly string[]).includes(transport)) {
    throw new ContractEnvError(`transport must be one of ${CONTRACT_TRANSPORTS.join(', ')}, got ${JSON.stringify(transport)}`)
  }
  const standalone = STANDALONE_TRANSPORTS.has(transport)
  const security = pick('security', 'SECURE_CHANNEL')
  const muxer = pick('muxer', 'MUXER')
  if (!standalone && security !== 'noise' && security !== 'tls') throw new ContractEnvError(`security must be noise or tls, got ${JSON.stringify(security)}`)
  if (!standalone && muxer !== 'yamux' && muxer !== 'mplex') throw new ContractEnvError(`muxer must be yamux or mplex, got ${JSON.stringify(muxer)}`)
  const isDialer = pick('is_dialer', 'IS_DIALER')
  if (isDialer !== 'true' && isDialer !== 'false') throw new ContractEnvError(`is_dialer must be true or false, got ${JSON.stringify(isDialer)}`)
  const timeoutText = pick('test_timeout_seconds', 'test_timeout_secs') ?? '180'
  const timeoutSeconds = Number(timeoutText)
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 3600) throw new ContractEnvError(`test_timeout_seconds must be 1..3600, got ${JSON.stringify(timeoutText)}`)
  const testKey = pick('TEST_KEY')
  return {
    transport: transport as ContractTransport,
    security: standalone ? undefined : security as 'noise' | 'tls',
    muxer: standalone ? undefined : muxer as 'yamux' | 'mplex',
    isDialer: isDialer === 'true',
    ip: pick('ip', 'LISTENER_IP') ?? '0.0.0.0',
    redisAddr: pick('redis_addr', 'REDIS_ADDR') ?? 'redis:6379',
    timeoutSeconds,
    redisKey: testKey === undefined ? 'listenerAddr' : `${testKey}_listener_multiaddr`
  }
}

/** The listen multiaddr for `transport` on `ip` (port chosen by the system). */
export function listenAddrFor (transport: ContractTransport, ip: string): string {
  const family = ip.includes(':') ? 'ip6' : 'ip4'
  switch (transport) {
    case 'tcp': return `/${family}/${ip}/tcp/0`
    case 'ws': return `/${family}/${ip}/tcp/0/ws`
    case 'quic-v1': return `/${family}/${ip}/udp/0/quic-v1`
    case 'webtransport': return `/${family}/${ip}/udp/0/quic-v1/webtransport`
    case 'webrtc-direct': return `/${family}/${ip}/udp/0/webrtc-direct`
  }
}

const LOOPBACK = /^\/ip4\/127\.|^\/ip6\/::1\//

/**
 * The address to publish: one of `transport`'s, non-loopback first (what the go and js apps
 * do), else loopback. A wildcard (0.0.0.0) address that a transport reports as is (ours for
 * webrtc-direct) stands for every local IPv4 address. Undefined if none matches.
 */
export function pickPublishedAddr (addrs: string[], transport: ContractTransport): string | undefined {
  const concrete = addrs.flatMap(a => a.startsWith('/ip4/0.0.0.0/') ? localIPv4s().map(ip => a.replace('/ip4/0.0.0.0/', `/ip4/${ip}/`)) : [a])
  const matching = concrete.filter(a => transportOf(a) === transport && !a.startsWith('/ip6/::/'))
  return matching.find(a => !LOOPBACK.test(a)) ?? matching[0]
}

function localIPv4s (): string[] {
  return Object.values(networkInterfaces()).flatMap(list => (list ?? []).filter(i => i.family === 'IPv4').map(i => i.address))
}

/** The contract transport an address uses, or undefined. */
export function transportOf (addr: string): ContractTransport | undefined {
  if (addr.includes('/p2p-circuit')) return undefined
  if (addr.includes('/webtransport')) return 'webtransport'
  if (addr.includes('/webrtc-direct')) return 'webrtc-direct'
  if (addr.includes('/quic-v1')) return 'quic-v1'
  if (/\/tcp\/\d+\/(ws|wss|tls\/ws)(\/|$)/.test(addr)) return 'ws'
  if (/\/tcp\/\d+(\/p2p\/|$)/.test(addr)) return 'tcp'
  return undefined
}

/** The dialer's one stdout line, spelled as the harness reads it. */
export function resultLine (handshakePlusOneRTTMillis: number, pingRTTMillis: number): string {
  return JSON.stringify({ handshakePlusOneRTTMillis, pingRTTMilllis: pingRTTMillis })
}

/**
 * test-plans' own extraction (transport-interop/src/compose-stdout-helper.ts, dialerTimings):
 * the first `{…}` in the dialer's output that parses and has both keys.
 */
export function dialerTimings (stdout: string): { handshakePlusOneRTTMillis: number, pingRTTMilllis: number } {
  let open = stdout.indexOf('{')
  let error: unknown
  while (open !== -1) {
    const close = stdout.indexOf('}', open)
    if (close === -1) throw new Error('Invalid JSON. No closing curly bracket found')
    try {
      const result = JSON.parse(stdout.substring(open, close + 1))
      if (result.handshakePlusOneRTTMillis != null && result.pingRTTMilllis != null) return result
    } catch (err) {
      error = err
    }
    open = stdout.indexOf('{', open + 1)
  }
  throw error ?? new Error('Invalid JSON. No opening curly bracket found')
}
