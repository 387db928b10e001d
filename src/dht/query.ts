/**
 * The iterative Kademlia lookup (specs kad-dht "Peer routing"), shared by every DHT operation.
 *
 * Start from the closest peers we know, ask up to `alpha` of the closest not-yet-asked peers
 * at a time, merge the closer peers they return, and stop once the `beta` closest peers still
 * in the running have all answered (go-libp2p-kad-dht's termination rule), when nothing is left
 * to ask, when the operation says it has what it wanted, or on abort / the query timeout.
 *
 * Disjoint paths (S/Kademlia): with `disjointPaths = d > 1` the seeds are dealt round-robin
 * into d paths; a peer learned on a path stays on it, and no peer is asked twice across
 * paths, so one path of colluding peers cannot capture the whole lookup. Each path gets
 * ceil(alpha / d) concurrent requests and terminates on its own.
 *
 * Bounded: each answer contributes at most `maxCloserPerResponse` peers (the closest to the
 * key among what it sent), and at most `maxPeersQueried` peers are asked in total.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '../interface/peer-id.ts'
import { compareDistance, toKadId } from './distance.ts'

export interface QueryCandidate {
  id: PeerId
  addrs: Multiaddr[]
}

export interface QueryStep {
  /** Peers the answer says are closer to the key. */
  closer: QueryCandidate[]
  /** True when the operation has what it needs: the whole query stops. */
  done?: boolean
}

export type QueryFn = (peer: QueryCandidate, context: { signal: AbortSignal, hop: number }) => Promise<QueryStep>

export interface QueryOptions {
  key: Uint8Array
  /** Self, to never be queried or counted. */
  self: PeerId
  seeds: QueryCandidate[]
  queryFn: QueryFn
  alpha: number
  beta: number
  disjointPaths: number
  kBucketSize: number
  maxCloserPerResponse: number
  maxPeersQueried: number
  signal: AbortSignal
  /** The whole lookup ends after this many ms, returning what it has (not an error). */
  timeout: number
  /** Called when a peer failed to answer. */
  onError?(peer: PeerId, err: Error): void
}

export interface QueryResult {
  /** The k closest peers not known to be unreachable, closest first. */
  closest: QueryCandidate[]
  /** Requests sent. */
  queried: number
  /** Requests that failed or timed out. */
  failed: number
  /** Longest chain of referrals among the answering peers (seeds are hop 1). */
  hops: number
  /** Hop of the answer that made the operation done (0 if none did). */
  doneAtHop: number
  /** The operation said it was done (rather than the lookup running out). */
  completed: boolean
  /** The query timeout ended the lookup. */
  timedOut: boolean
}

type PeerState = 'heard' | 'waiting' | 'queried' | 'unreachable'

interface QueryPeer extends QueryCandidate {
  kadId: Uint8Array
  state: PeerState
  hop: number
  path: number
}

export async function runQuery (options: QueryOptions): Promise<QueryResult> {
  const target = toKadId(options.key)
  const known = new Map<string, QueryPeer>()
  const paths: QueryPeer[][] = Array.from({ length: Math.max(1, options.disjointPaths) }, () => [])
  const pathDone: boolean[] = paths.map(() => false)
  const inflight: number[] = paths.map(() => 0)
  const alphaPerPath = Math.max(1, Math.ceil(options.alpha / paths.length))
  const controller = new AbortController()
  const signal = AbortSignal.any([options.signal, controller.signal])
  const result: QueryResult = { closest: [], queried: 0, failed: 0, hops: 0, doneAtHop: 0, completed: false, timedOut: false }
  const selfKey = options.self.toString()

  const insert = (candidate: QueryCandidate, path: number, hop: number): void => {
    const key = candidate.id.toString()
    if (key === selfKey) return
    const existing = known.get(key)
    if (existing !== undefined) {
      if (existing.addrs.length === 0 && candidate.addrs.length > 0) existing.addrs = candidate.addrs
      return
    }
    const peer: QueryPeer = { ...candidate, kadId: toKadId(candidate.id.bytes), state: 'heard', hop, path }
    known.set(key, peer)
    const list = paths[path]
    // binary search insert keeps each path sorted by distance
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (compareDistance(list[mid].kadId, peer.kadId, target) < 0) lo = mid + 1
      else hi = mid
    }
    list.splice(lo, 0, peer)
  }

  options.seeds.forEach((seed, i) => { insert(seed, i % paths.length, 1) })

  let finish!: () => void
  const finished = new Promise<void>((resolve) => { finish = resolve })
  let ended = false
  const end = (): void => {
    if (ended) return
    ended = true
    controller.abort()
    finish()
  }
  const onAbort = (): void => { end() }
  options.signal.addEventListener('abort', onAbort, { once: true })
  const timer = setTimeout(() => {
    result.timedOut = true
    end()
  }, options.timeout)

  /** Launches what each path may launch; ends the query when every path is done. */
  const schedule = (): void => {
    if (ended) return
    for (let p = 0; p < paths.length; p++) {
      if (pathDone[p]) continue
      // Done when the beta closest peers still in the running have all answered, or when
      // nothing is left to ask or waiting.
      let considered = 0
      let closestAnswered = true
      let pending = false
      for (const peer of paths[p]) {
        if (peer.state === 'unreachable') continue
        if (considered < options.beta) {
          considered++
          if (peer.state !== 'queried') closestAnswered = false
        } else if (closestAnswered) {
          break
        }
        if (peer.state === 'queried') continue
        if (peer.state === 'heard' && inflight[p] < alphaPerPath && result.queried < options.maxPeersQueried) launch(peer, p)
        if (peer.state === 'waiting' || result.queried < options.maxPeersQueried) pending = true
      }
      if ((considered >= options.beta && closestAnswered) || (!pending && inflight[p] === 0)) pathDone[p] = true
    }
    if (pathDone.every(Boolean)) end()
  }

  const launch = (peer: QueryPeer, path: number): void => {
    // an abort raised by a progress callback ends the query in the middle of a schedule pass
    if (ended) return
    peer.state = 'waiting'
    inflight[path]++
    result.queried++
    options.queryFn(peer, { signal, hop: peer.hop }).then((step) => {
      inflight[path]--
      if (ended) return
      peer.state = 'queried'
      if (peer.hop > result.hops) result.hops = peer.hop
      // consider only the closest few of what the peer sent
      const closer = step.closer.length > options.maxCloserPerResponse
        ? step.closer.map(c => ({ c, kadId: toKadId(c.id.bytes) }))
          .sort((a, b) => compareDistance(a.kadId, b.kadId, target))
          .slice(0, options.maxCloserPerResponse).map(x => x.c)
        : step.closer
      for (const candidate of closer) insert(candidate, path, peer.hop + 1)
      if (step.done === true) {
        result.completed = true
        result.doneAtHop = peer.hop
        end()
        return
      }
      schedule()
    }, (err: Error) => {
      inflight[path]--
      if (ended) return
      peer.state = 'unreachable'
      result.failed++
      options.onError?.(peer.id, err)
      schedule()
    })
  }

  try {
    if (options.signal.aborted) throw options.signal.reason
    schedule()
    await finished
    if (options.signal.aborted && !result.completed) throw options.signal.reason
  } finally {
    options.signal.removeEventListener('abort', onAbort)
    clearTimeout(timer)
    controller.abort()
  }
  // As go does: the k closest peers not known to be unreachable, answered or not (a lookup
  // ends as soon as the beta closest answered, so fewer than k may have been asked).
  const alive = [...known.values()].filter(p => p.state !== 'unreachable')
  alive.sort((a, b) => compareDistance(a.kadId, b.kadId, target))
  result.closest = alive.slice(0, options.kBucketSize).map(p => ({ id: p.id, addrs: p.addrs }))
  return result
}
