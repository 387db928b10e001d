/**
 * GossipSub's metrics: mesh sizes per topic, peers and their score ranges (read at scrape
 * time), and messages first seen, duplicated or rejected (one add per message event).
 */
import type { Counter, Metrics } from '../../interface/metrics.ts'

export interface GossipsubState {
  mesh: ReadonlyMap<string, ReadonlySet<string>>
  peerKeys(): Iterable<string>
  /** undefined without peer scoring */
  score?: (peerKey: string) => number
}

export class GossipsubMetrics {
  readonly #metrics: Metrics
  readonly #state: GossipsubState
  readonly #messages: Counter
  #removeCollector: (() => void) | undefined

  constructor (metrics: Metrics, state: GossipsubState) {
    this.#metrics = metrics
    this.#state = state
    this.#messages = metrics.counter({ name: 'libp2p_gossipsub_messages_total', help: 'Messages received, by topic and outcome (delivered: first seen; duplicate; rejected)', labelNames: ['topic', 'outcome'] })
  }

  start (): void {
    const mesh = this.#metrics.gauge({ name: 'libp2p_gossipsub_mesh_peers', help: 'Mesh peers per topic', labelNames: ['topic'] })
    const peers = this.#metrics.gauge({ name: 'libp2p_gossipsub_peers', help: 'Peers speaking pubsub with us' })
    const scores = this.#metrics.gauge({ name: 'libp2p_gossipsub_peers_by_score', help: 'Peers by score range (negative, zero, positive); absent without peer scoring', labelNames: ['range'] })
    const lowest = this.#metrics.gauge({ name: 'libp2p_gossipsub_lowest_score', help: 'The lowest peer score; absent without peer scoring or peers' })
    this.#removeCollector ??= this.#metrics.addCollector(() => {
      mesh.reset()
      for (const [topic, members] of this.#state.mesh) mesh.set(members.size, { topic })
      let count = 0
      const ranges = { negative: 0, zero: 0, positive: 0 }
      let min = Infinity
      const score = this.#state.score
      for (const key of this.#state.peerKeys()) {
        count++
        if (score === undefined) continue
        const s = score(key)
        min = Math.min(min, s)
        ranges[s < 0 ? 'negative' : s === 0 ? 'zero' : 'positive']++
      }
      peers.set(count)
      scores.reset()
      lowest.reset()
      if (score !== undefined) {
        for (const [range, n] of Object.entries(ranges)) scores.set(n, { range })
        if (count > 0) lowest.set(min)
      }
    })
  }

  stop (): void {
    this.#removeCollector?.()
    this.#removeCollector = undefined
  }

  message (topic: string, outcome: 'delivered' | 'duplicate' | 'rejected'): void {
    this.#messages.inc({ topic, outcome })
  }
}
