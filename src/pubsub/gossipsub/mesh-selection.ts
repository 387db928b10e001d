/**
 * Which peers stay in a topic's mesh when the heartbeat finds it oversubscribed (more than
 * Dhi; specs pubsub/gossipsub/gossipsub-v1.1.md "Mesh Maintenance"): the Dscore best-scored
 * peers, then random others up to D, with at least Dout outbound peers among those kept
 * (an outbound peer replaces the last inbound one kept). Pure: scores and directions are asked
 * through the callbacks, so the gossipsub state stays in gossipsub.ts.
 */

export interface MeshDegrees {
  /** The mesh degree to come back to. */
  D: number
  /** How many of the kept peers are chosen by score. */
  Dscore: number
  /** How many outbound peers the kept ones include at least. */
  Dout: number
}

export interface MeshSurvivors {
  keep: Set<string>
  /** The others, best-scored first (the order their PRUNEs are queued in). */
  prune: string[]
}

/** Fisher-Yates shuffle in place. */
export function shuffle<T> (a: T[]): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = a[i]
    a[i] = a[j]
    a[j] = t
  }
}

/** The peers of an oversubscribed mesh to keep and to prune (see the module comment). */
export function selectMeshSurvivors (meshPeers: Iterable<string>, degrees: MeshDegrees, scoreOf: (key: string) => number, isOutbound: (key: string) => boolean): MeshSurvivors {
  const { D, Dscore, Dout } = degrees
  const sorted = [...meshPeers]
  // shuffled first so peers of equal score are kept at random
  shuffle(sorted)
  sorted.sort((a, b) => scoreOf(b) - scoreOf(a))
  const keep = sorted.slice(0, Dscore)
  const rest = sorted.slice(Dscore)
  shuffle(rest)
  keep.push(...rest.slice(0, D - Dscore))
  let outCount = keep.filter(isOutbound).length
  if (outCount < Dout) {
    for (const k of sorted) {
      if (outCount >= Dout) break
      if (keep.includes(k) || !isOutbound(k)) continue
      for (let i = keep.length - 1; i >= 0; i--) {
        if (!isOutbound(keep[i])) {
          keep[i] = k
          outCount++
          break
        }
      }
    }
  }
  const keepSet = new Set(keep)
  return { keep: keepSet, prune: sorted.filter(k => !keepSet.has(k)) }
}
