/**
 * DHT random walk: looks up the peers closest to a random key, now and then, and reports every
 * peer found (with addresses) as `peer:discovery` and into the peer store. Lookups through
 * random parts of the key space fill the routing table beyond our own neighbourhood, and the
 * connection manager dials what was found while below `minConnections`, so the walk keeps both
 * healthy. Walks come faster (`fastInterval`) while the node has fewer connections than
 * `targetConnections`, at `interval` (with jitter) otherwise.
 * `services: { dht: kadDHT(), randomWalk: randomWalk() }` (any service with a `peerRouter`).
 */
import type { NodeComponents, Startable } from '../interface/components.ts'
import type { Logger } from '../interface/logger.ts'
import type { PeerRouting, RoutingProvider } from '../interface/routing.ts'
import { Deadline } from '../util/deadline.ts'
import { unrefTimeout } from '../util/timers.ts'
import type { TimerHandle } from '../util/timers.ts'

export interface RandomWalkOptions {
  /** Time between walks when the node has enough connections, in ms (default 5 min). */
  interval?: number
  /** Time between walks below `targetConnections`, in ms (default 10 s). */
  fastInterval?: number
  /** Connections below which walks come at `fastInterval` (default 8). */
  targetConnections?: number
  /** Fraction of the interval added at random (default 0.2). */
  jitter?: number
  /** One walk's time limit, in ms (default 30 s). */
  walkTimeout?: number
  /** Peers reported per walk at most (default 20). */
  maxPeersPerWalk?: number
  /** TTL of the addresses learned, in ms (default 10 min). */
  addressTtl?: number
}

export type RandomWalkComponents = Pick<NodeComponents, 'peerId' | 'connectionManager' | 'peerStore' | 'events' | 'logger'> & { services: Record<string, unknown> }

export class RandomWalk implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/peer-discovery']
  readonly serviceDependencies: readonly string[] = ['@libp2p/peer-routing']
  readonly #components: RandomWalkComponents
  readonly #log: Logger
  readonly #options: Required<RandomWalkOptions>
  #timer: TimerHandle | undefined
  #shutdown = new AbortController()
  #running = false
  /** Walks completed (for tests and metrics). */
  walks = 0

  constructor (components: RandomWalkComponents, options: RandomWalkOptions = {}) {
    this.#components = components
    this.#log = components.logger('random-walk')
    this.#options = {
      interval: options.interval ?? 5 * 60_000,
      fastInterval: options.fastInterval ?? 10_000,
      targetConnections: options.targetConnections ?? 8,
      jitter: options.jitter ?? 0.2,
      walkTimeout: options.walkTimeout ?? 30_000,
      maxPeersPerWalk: options.maxPeersPerWalk ?? 20,
      addressTtl: options.addressTtl ?? 10 * 60_000
    }
  }

  afterStart (): void {
    this.#running = true
    this.#shutdown = new AbortController()
    this.#schedule()
  }

  stop (): void {
    this.#running = false
    this.#shutdown.abort()
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #router (): PeerRouting | undefined {
    for (const service of Object.values(this.#components.services)) {
      const router = (service as RoutingProvider | undefined)?.peerRouter
      if (router !== undefined) return router
    }
    return undefined
  }

  #schedule (): void {
    if (!this.#running) return
    const below = this.#components.connectionManager.getConnections().length < this.#options.targetConnections
    const base = below ? this.#options.fastInterval : this.#options.interval
    this.#timer = unrefTimeout(() => {
      this.#timer = undefined
      this.walk().catch((err: Error) => { this.#log('walk failed: %s', err.message) }).finally(() => { this.#schedule() })
    }, base * (1 + Math.random() * this.#options.jitter))
  }

  /** One walk now; resolves with the number of peers reported. */
  async walk (): Promise<number> {
    const router = this.#router()
    if (router === undefined) return 0
    const key = crypto.getRandomValues(new Uint8Array(32))
    const deadline = new Deadline(this.#options.walkTimeout, this.#shutdown.signal, 'random walk timed out')
    let reported = 0
    try {
      for await (const peer of router.getClosestPeers(key, { signal: deadline.signal })) {
        if (peer.id.equals(this.#components.peerId) || peer.multiaddrs.length === 0) continue
        await this.#components.peerStore.merge(peer.id, { multiaddrs: peer.multiaddrs, addressTtl: this.#options.addressTtl }).catch(() => {})
        this.#components.events.safeDispatch('peer:discovery', { id: peer.id, multiaddrs: peer.multiaddrs })
        if (++reported >= this.#options.maxPeersPerWalk) break
      }
    } finally {
      deadline.clear()
      this.walks++
    }
    this.#log('walk found %d peers', reported)
    return reported
  }
}

/** Service factory: `services: { dht: kadDHT(), randomWalk: randomWalk() }`. */
export function randomWalk (options: RandomWalkOptions = {}): (components: RandomWalkComponents) => RandomWalk {
  return (components) => new RandomWalk(components, options)
}
