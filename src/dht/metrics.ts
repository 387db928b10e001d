/**
 * The DHT's metrics: routing table size (read at scrape time), and each lookup's duration,
 * outcome and requests, counted once per lookup.
 */
import type { Counter, Histogram, Metrics } from '../interface/metrics.ts'
import { MessageType } from './message.ts'
import type { QueryResult } from './query.ts'

const TYPE_NAMES = new Map<number, string>(Object.entries(MessageType).map(([name, value]) => [value, name.toLowerCase()]))
const LOOKUP_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export class DhtMetrics {
  readonly #metrics: Metrics
  readonly #duration: Histogram
  readonly #lookups: Counter
  readonly #requests: Counter
  readonly #tableSize: () => number
  #removeCollector: (() => void) | undefined

  constructor (metrics: Metrics, tableSize: () => number) {
    this.#metrics = metrics
    this.#tableSize = tableSize
    this.#duration = metrics.histogram({ name: 'libp2p_kad_dht_lookup_duration_seconds', help: 'Duration of DHT lookups, by request type and outcome', labelNames: ['type', 'outcome'], buckets: LOOKUP_BUCKETS })
    this.#lookups = metrics.counter({ name: 'libp2p_kad_dht_lookups_total', help: 'DHT lookups by request type and outcome (found: the operation got what it looked for; finished: the lookup ran its course, as closest-peer lookups do; timeout; error)', labelNames: ['type', 'outcome'] })
    this.#requests = metrics.counter({ name: 'libp2p_kad_dht_lookup_requests_total', help: 'Requests DHT lookups sent, by result', labelNames: ['result'] })
  }

  start (): void {
    const size = this.#metrics.gauge({ name: 'libp2p_kad_dht_routing_table_peers', help: 'Peers in the DHT routing table' })
    this.#removeCollector ??= this.#metrics.addCollector(() => { size.set(this.#tableSize()) })
  }

  stop (): void {
    this.#removeCollector?.()
    this.#removeCollector = undefined
  }

  /** Called once per lookup with when it started (performance.now()) and how it ended. */
  lookupDone (messageType: number, startedAt: number, result: QueryResult | undefined): void {
    const type = TYPE_NAMES.get(messageType) ?? 'unknown'
    const outcome = result === undefined ? 'error' : result.timedOut ? 'timeout' : result.completed ? 'found' : 'finished'
    this.#lookups.inc({ type, outcome })
    this.#duration.observe((performance.now() - startedAt) / 1000, { type, outcome })
    if (result !== undefined) {
      this.#requests.inc({ result: 'answered' }, result.queried - result.failed)
      this.#requests.inc({ result: 'failed' }, result.failed)
    }
  }
}
