/** Label values shared by every component's metrics, so one transport is spelled one way. */
import type { Multiaddr } from '@multiformats/multiaddr'
import { isRelayed } from '../util/multiaddr.ts'

const TRANSPORT_NAMES = ['webrtc-direct', 'webrtc', 'webtransport', 'quic-v1', 'wss', 'ws', 'memory', 'tcp']

/** The transport of an address as a user names it: tcp, ws, wss, quic-v1, circuit-relay, ... */
export function transportName (addr: Multiaddr): string {
  if (isRelayed(addr)) return 'circuit-relay'
  const names = addr.getComponents().map(c => c.name)
  for (const name of TRANSPORT_NAMES) {
    if (names.includes(name)) return name === 'ws' && names.includes('tls') ? 'wss' : name
  }
  return 'other'
}

/** A short, bounded label for an error: its stable code, or its class name (never the message). */
export function errorLabel (err: unknown): string {
  const e = err as { code?: unknown, name?: unknown } | undefined
  if (typeof e?.code === 'string' && /^[A-Z0-9_]{1,64}$/.test(e.code)) return e.code
  if (typeof e?.name === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(e.name)) return e.name
  return 'unknown'
}
