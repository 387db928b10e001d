/**
 * `ts-libp2p start --events`: one JSON line per node event on stdout, after the start line,
 * for scripts and labs to wait on (e.g. `{"event":"holepunch","success":true,...}`).
 * Events of services that are not running never fire; names a node does not know are simply
 * never dispatched, so listening to them costs nothing.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '../interface/connection.ts'
import type { HolePunchOutcome } from '../interface/events.ts'
import type { PeerId } from '../interface/peer-id.ts'

/** What the printer needs of a node. */
export interface EventSource {
  addEventListener(type: string, listener: (evt: Event) => void): void
  removeEventListener(type: string, listener: (evt: Event) => void): void
  getConnections(peerId?: PeerId): Connection[]
  getMultiaddrs(): Multiaddr[]
}

type Line = Record<string, unknown>

/** Events reported by services that may or may not be present (autonat, relay, discovery). */
const PASS_THROUGH = ['reachability', 'relay:reservation', 'peer:discovery'] as const

/** Starts printing; returns a function that stops it. */
export function printEvents (node: EventSource, write: (line: string) => void = line => { process.stdout.write(line) }): () => void {
  const print = (line: Line): void => { write(JSON.stringify(line) + '\n') }
  const listeners: Array<[string, (evt: Event) => void]> = [
    ['peer:connect', evt => {
      const peer = detailOf<PeerId>(evt)
      // The connection that made the peer connected: the newest open one.
      const connection = node.getConnections(peer).filter(c => c.status === 'open').at(-1)
      print({ event: 'peer:connect', peer: peer.toString(), addr: connection?.remoteAddr.toString(), limited: connection?.limits !== undefined })
    }],
    ['peer:disconnect', evt => { print({ event: 'peer:disconnect', peer: detailOf<PeerId>(evt).toString() }) }],
    ['self:peer:update', () => { print({ event: 'self:peer:update', addrs: node.getMultiaddrs().map(String) }) }],
    ['holepunch', evt => {
      const outcome = detailOf<HolePunchOutcome>(evt)
      print({ event: 'holepunch', peer: outcome.peer.toString(), success: outcome.success, ms: outcome.ms, attempt: outcome.attempt, addr: outcome.addr?.toString(), direction: outcome.direction })
    }],
    ...PASS_THROUGH.map((name): [string, (evt: Event) => void] => [name, evt => { print({ event: name, ...plain(detailOf<unknown>(evt)) }) }])
  ]
  for (const [type, listener] of listeners) node.addEventListener(type, listener)
  return () => { for (const [type, listener] of listeners) node.removeEventListener(type, listener) }
}

function detailOf<T> (evt: Event): T {
  return (evt as CustomEvent<T>).detail
}

/** A detail as JSON-friendly fields: peer ids and addresses as strings, bigints as strings. */
function plain (detail: unknown): Line {
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) return { value: jsonValue(detail, 0) }
  const out: Line = {}
  for (const [key, value] of Object.entries(detail)) {
    const v = jsonValue(value, 0)
    if (v !== undefined) out[key] = v
  }
  return out
}

function jsonValue (value: unknown, depth: number): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array || typeof value === 'function' || value === undefined || depth > 3) return undefined
  if (Array.isArray(value)) return value.map(v => jsonValue(v, depth + 1))
  if (typeof value === 'object') {
    // PeerId, Multiaddr and the like print themselves.
    if (value.toString !== Object.prototype.toString) return String(value)
    const out: Line = {}
    for (const [key, v] of Object.entries(value)) {
      const converted = jsonValue(v, depth + 1)
      if (converted !== undefined) out[key] = converted
    }
    return out
  }
  return undefined
}
