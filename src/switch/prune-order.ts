/**
 * Which connections the connection manager trims first when it is over its high watermark.
 *
 * Least valuable first: a peer that never identified (identify never told us a protocol, as
 * with a socket that finished the handshake and then idled) before an identified one; then
 * lower tag value (the sum of the peer's peer-store tags: what the application said it is
 * worth); then idle (no open stream) before busy; then the oldest connection first among
 * equals (a flood's connections are older than the honest peer that arrives during it).
 * Protected peers are never trimmed, nor connections younger than the grace period: a new
 * connection has not had the chance to identify or to show its value yet.
 */
import type { Connection } from '../interface/connection.ts'

/** What the connection manager knows of a peer's value, or 'protected'. */
export type PeerWorth = 'protected' | { identified: boolean, value: number }

export interface PruneBounds {
  /** How many connections to trim at most. */
  excess: number
  /** Connections opened after this time (ms since epoch) are in their grace period. */
  graceStart: number
}

/** Up to `excess` of `connections`, least valuable first; `worth` is keyed by peer id text. */
export function pruneCandidates (connections: readonly Connection[], worth: ReadonlyMap<string, PeerWorth>, bounds: PruneBounds): Connection[] {
  const ranked: Array<{ connection: Connection, identified: number, value: number, busy: number }> = []
  for (const connection of connections) {
    const w = worth.get(connection.remotePeer.toString())
    if (w === undefined || w === 'protected' || connection.timeline.open > bounds.graceStart) continue
    ranked.push({ connection, identified: w.identified ? 1 : 0, value: w.value, busy: connection.streams.length > 0 ? 1 : 0 })
  }
  ranked.sort((a, b) =>
    a.identified - b.identified ||
    a.value - b.value ||
    a.busy - b.busy ||
    a.connection.timeline.open - b.connection.timeline.open)
  return ranked.slice(0, Math.max(0, bounds.excess)).map(r => r.connection)
}
