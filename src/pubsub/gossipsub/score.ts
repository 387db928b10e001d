/**
 * GossipSub v1.1 peer scoring (gossipsub-v1.1.md "The Score Function"): per-topic P1 time in
 * mesh, P2 first deliveries, P3 mesh delivery deficit, P3b mesh failure penalty, P4 invalid
 * messages; global P5 application score, P6 IP colocation and P7 behaviour penalty. Counters
 * decay every `decayInterval`; a disconnected peer's counters are kept for `retainScore` so
 * reconnecting does not wash a bad score.
 */
import type { PeerId } from '../../interface/peer-id.ts'
import { TimeCache } from '../seen-cache.ts'
import type { PeerScoreParams, TopicScoreParams } from './score-params.ts'

interface TopicStats {
  inMesh: boolean
  graftTime: number
  meshTime: number
  firstMessageDeliveries: number
  meshMessageDeliveries: number
  meshMessageDeliveriesActive: boolean
  meshFailurePenalty: number
  invalidMessageDeliveries: number
}

interface PeerStats {
  id: PeerId
  connected: boolean
  /** When a disconnected peer's stats may be dropped. */
  expire: number
  topics: Map<string, TopicStats>
  ips: string[]
  behaviourPenalty: number
}

/** What we know about one message id for P3 accounting. */
interface DeliveryRecord {
  status: 'unknown' | 'valid' | 'invalid' | 'ignored'
  firstSeen: number
  validated: number
  /** Peers that sent it while it was still being validated. */
  peers: Set<string>
}

const MAX_TOPIC_STATS_PER_PEER = 1024

export class PeerScore {
  readonly params: PeerScoreParams
  readonly #peers = new Map<string, PeerStats>()
  /** Peer keys per IP address, for P6. */
  readonly #ipPeers = new Map<string, Set<string>>()
  readonly #deliveries: TimeCache<DeliveryRecord>
  readonly #now: () => number
  #lastDecay: number

  constructor (params: PeerScoreParams, now: () => number = Date.now) {
    this.params = params
    this.#now = now
    this.#lastDecay = now()
    this.#deliveries = new TimeCache({ ttlMs: 120_000, maxSize: 500_000, now })
  }

  // ------------------------------------------------------------ the score --

  score (key: string): number {
    const stats = this.#peers.get(key)
    if (stats === undefined) return 0
    return this.#topicScore(stats) + this.#appScore(stats) + this.#ipColocationScore(stats) + this.#behaviourScore(stats)
  }

  /** The score's weighted parts (diagnostics): topics (P1-P4, capped), app (P5), ipColocation (P6), behaviour (P7). */
  parts (key: string): { topics: number, app: number, ipColocation: number, behaviour: number } | undefined {
    const stats = this.#peers.get(key)
    if (stats === undefined) return undefined
    return { topics: this.#topicScore(stats), app: this.#appScore(stats), ipColocation: this.#ipColocationScore(stats), behaviour: this.#behaviourScore(stats) }
  }

  #topicScore (stats: PeerStats): number {
    const p = this.params
    let topicScore = 0
    for (const [topic, ts] of stats.topics) {
      const tp = p.topics[topic]
      if (tp === undefined) continue
      let s = 0
      if (ts.inMesh) s += tp.timeInMeshWeight * Math.min(ts.meshTime / tp.timeInMeshQuantum, tp.timeInMeshCap)
      s += tp.firstMessageDeliveriesWeight * ts.firstMessageDeliveries
      if (ts.meshMessageDeliveriesActive && ts.meshMessageDeliveries < tp.meshMessageDeliveriesThreshold) {
        const deficit = tp.meshMessageDeliveriesThreshold - ts.meshMessageDeliveries
        s += tp.meshMessageDeliveriesWeight * deficit * deficit
      }
      s += tp.meshFailurePenaltyWeight * ts.meshFailurePenalty
      s += tp.invalidMessageDeliveriesWeight * ts.invalidMessageDeliveries * ts.invalidMessageDeliveries
      topicScore += tp.topicWeight * s
    }
    if (p.topicScoreCap > 0 && topicScore > p.topicScoreCap) topicScore = p.topicScoreCap
    return topicScore
  }

  #appScore (stats: PeerStats): number {
    return this.params.appSpecificWeight * this.params.appSpecificScore(stats.id)
  }

  #ipColocationScore (stats: PeerStats): number {
    const p = this.params
    let score = 0
    for (const ip of stats.ips) {
      if (p.IPColocationFactorWhitelist.has(ip)) continue
      const surplus = (this.#ipPeers.get(ip)?.size ?? 0) - p.IPColocationFactorThreshold
      if (surplus > 0) score += p.IPColocationFactorWeight * surplus * surplus
    }
    return score
  }

  #behaviourScore (stats: PeerStats): number {
    const p = this.params
    if (stats.behaviourPenalty <= p.behaviourPenaltyThreshold) return 0
    const excess = stats.behaviourPenalty - p.behaviourPenaltyThreshold
    return p.behaviourPenaltyWeight * excess * excess
  }

  // ---------------------------------------------------------------- peers --

  addPeer (key: string, id: PeerId, ips: string[]): void {
    let stats = this.#peers.get(key)
    if (stats === undefined) {
      stats = { id, connected: true, expire: 0, topics: new Map(), ips: [], behaviourPenalty: 0 }
      this.#peers.set(key, stats)
    }
    stats.connected = true
    this.#setIPs(key, stats, ips)
  }

  removePeer (key: string): void {
    const stats = this.#peers.get(key)
    if (stats === undefined) return
    this.#setIPs(key, stats, [])
    // a peer with a non-negative score is simply forgotten; a bad one is remembered
    if (this.score(key) > 0) {
      this.#peers.delete(key)
      return
    }
    for (const [topic, ts] of stats.topics) {
      const tp = this.params.topics[topic]
      if (tp !== undefined) this.#applyMeshFailure(ts, tp)
      ts.inMesh = false
      ts.meshMessageDeliveriesActive = false
    }
    stats.connected = false
    stats.expire = this.#now() + this.params.retainScore
  }

  #setIPs (key: string, stats: PeerStats, ips: string[]): void {
    for (const ip of stats.ips) {
      const set = this.#ipPeers.get(ip)
      set?.delete(key)
      if (set?.size === 0) this.#ipPeers.delete(ip)
    }
    stats.ips = ips
    for (const ip of ips) {
      let set = this.#ipPeers.get(ip)
      if (set === undefined) {
        set = new Set()
        this.#ipPeers.set(ip, set)
      }
      set.add(key)
    }
  }

  #topic (key: string, topic: string): TopicStats | undefined {
    const stats = this.#peers.get(key)
    if (stats === undefined || this.params.topics[topic] === undefined) return undefined
    let ts = stats.topics.get(topic)
    if (ts === undefined) {
      if (stats.topics.size >= MAX_TOPIC_STATS_PER_PEER) return undefined
      ts = { inMesh: false, graftTime: 0, meshTime: 0, firstMessageDeliveries: 0, meshMessageDeliveries: 0, meshMessageDeliveriesActive: false, meshFailurePenalty: 0, invalidMessageDeliveries: 0 }
      stats.topics.set(topic, ts)
    }
    return ts
  }

  graft (key: string, topic: string): void {
    const ts = this.#topic(key, topic)
    if (ts === undefined) return
    ts.inMesh = true
    ts.graftTime = this.#now()
    ts.meshTime = 0
    ts.meshMessageDeliveriesActive = false
  }

  prune (key: string, topic: string): void {
    const ts = this.#topic(key, topic)
    const tp = this.params.topics[topic]
    if (ts === undefined || tp === undefined) return
    this.#applyMeshFailure(ts, tp)
    ts.inMesh = false
    ts.meshMessageDeliveriesActive = false
  }

  #applyMeshFailure (ts: TopicStats, tp: TopicScoreParams): void {
    if (ts.meshMessageDeliveriesActive && ts.meshMessageDeliveries < tp.meshMessageDeliveriesThreshold) {
      const deficit = tp.meshMessageDeliveriesThreshold - ts.meshMessageDeliveries
      ts.meshFailurePenalty += deficit * deficit
    }
  }

  addPenalty (key: string, count: number): void {
    const stats = this.#peers.get(key)
    if (stats !== undefined) stats.behaviourPenalty += count
  }

  // ------------------------------------------------------------- messages --

  #record (msgKey: string): DeliveryRecord {
    let r = this.#deliveries.get(msgKey)
    if (r === undefined) {
      r = { status: 'unknown', firstSeen: this.#now(), validated: 0, peers: new Set() }
      this.#deliveries.add(msgKey, r)
    }
    return r
  }

  /** A message arrived for the first time and is being validated. */
  validating (key: string, msgKey: string): void {
    this.#record(msgKey).peers.add(key)
  }

  /** The first delivery of `msgKey` was accepted. */
  deliverMessage (key: string, msgKey: string, topic: string): void {
    const r = this.#record(msgKey)
    r.status = 'valid'
    r.validated = this.#now()
    this.#markFirstDelivery(key, topic)
    for (const other of r.peers) if (other !== key) this.#markDuplicateDelivery(other, topic)
    r.peers.clear()
  }

  rejectMessage (key: string, msgKey: string | undefined, topic: string): void {
    // without an id (e.g. a bad signature before the id was known) only the sender is charged
    if (msgKey === undefined) {
      this.#markInvalid(key, topic)
      return
    }
    const r = this.#record(msgKey)
    r.status = 'invalid'
    this.#markInvalid(key, topic)
    for (const other of r.peers) if (other !== key) this.#markInvalid(other, topic)
    r.peers.clear()
  }

  ignoreMessage (msgKey: string): void {
    const r = this.#record(msgKey)
    r.status = 'ignored'
    r.peers.clear()
  }

  duplicateMessage (key: string, msgKey: string, topic: string): void {
    const r = this.#record(msgKey)
    switch (r.status) {
      case 'unknown': r.peers.add(key); break
      case 'valid': {
        const tp = this.params.topics[topic]
        if (tp !== undefined && this.#now() - r.validated <= tp.meshMessageDeliveriesWindow) this.#markDuplicateDelivery(key, topic)
        break
      }
      case 'invalid': this.#markInvalid(key, topic); break
      default: break
    }
  }

  #markFirstDelivery (key: string, topic: string): void {
    const ts = this.#topic(key, topic)
    const tp = this.params.topics[topic]
    if (ts === undefined || tp === undefined) return
    ts.firstMessageDeliveries = Math.min(ts.firstMessageDeliveries + 1, tp.firstMessageDeliveriesCap)
    if (ts.inMesh) ts.meshMessageDeliveries = Math.min(ts.meshMessageDeliveries + 1, tp.meshMessageDeliveriesCap)
  }

  #markDuplicateDelivery (key: string, topic: string): void {
    const ts = this.#topic(key, topic)
    const tp = this.params.topics[topic]
    if (ts === undefined || tp === undefined || !ts.inMesh) return
    ts.meshMessageDeliveries = Math.min(ts.meshMessageDeliveries + 1, tp.meshMessageDeliveriesCap)
  }

  #markInvalid (key: string, topic: string): void {
    const ts = this.#topic(key, topic)
    if (ts !== undefined) ts.invalidMessageDeliveries += 1
  }

  // ---------------------------------------------------------------- decay --

  /** Updates mesh times and, once per decay interval, decays every counter. */
  refresh (): void {
    const now = this.#now()
    const p = this.params
    const decay = now - this.#lastDecay >= p.decayInterval
    if (decay) this.#lastDecay = now
    const z = (v: number): number => v < p.decayToZero ? 0 : v
    for (const [key, stats] of this.#peers) {
      if (!stats.connected) {
        if (now > stats.expire) this.#peers.delete(key)
        continue
      }
      for (const [topic, ts] of stats.topics) {
        const tp = p.topics[topic]
        if (tp === undefined) continue
        if (ts.inMesh) {
          ts.meshTime = now - ts.graftTime
          if (ts.meshTime > tp.meshMessageDeliveriesActivation) ts.meshMessageDeliveriesActive = true
        }
        if (!decay) continue
        ts.firstMessageDeliveries = z(ts.firstMessageDeliveries * tp.firstMessageDeliveriesDecay)
        ts.meshMessageDeliveries = z(ts.meshMessageDeliveries * tp.meshMessageDeliveriesDecay)
        ts.meshFailurePenalty = z(ts.meshFailurePenalty * tp.meshFailurePenaltyDecay)
        ts.invalidMessageDeliveries = z(ts.invalidMessageDeliveries * tp.invalidMessageDeliveriesDecay)
      }
      if (decay) stats.behaviourPenalty = z(stats.behaviourPenalty * p.behaviourPenaltyDecay)
    }
    this.#deliveries.prune(now)
  }
}
