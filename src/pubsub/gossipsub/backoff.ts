/**
 * GossipSub's GRAFT backoff (v1.1): per topic and peer, the time before which that peer may
 * not be grafted (after a PRUNE either way). Expired entries go at each heartbeat.
 */
export class Backoffs {
  readonly #byTopic = new Map<string, Map<string, number>>()

  /** When the backoff of `key` in `topic` ends (ms since the epoch), or undefined. */
  until (topic: string, key: string): number | undefined {
    return this.#byTopic.get(topic)?.get(key)
  }

  isActive (topic: string, key: string, now = Date.now()): boolean {
    const until = this.until(topic, key)
    return until !== undefined && until > now
  }

  /** Extends (never shortens) the backoff of `key` in `topic` to `ms` from now. */
  add (topic: string, key: string, ms: number): void {
    let byPeer = this.#byTopic.get(topic)
    if (byPeer === undefined) {
      byPeer = new Map()
      this.#byTopic.set(topic, byPeer)
    }
    const until = Date.now() + ms
    if ((byPeer.get(key) ?? 0) < until) byPeer.set(key, until)
  }

  expire (now: number): void {
    for (const [topic, byPeer] of this.#byTopic) {
      for (const [key, until] of byPeer) if (until < now) byPeer.delete(key)
      if (byPeer.size === 0) this.#byTopic.delete(topic)
    }
  }

  clear (): void {
    this.#byTopic.clear()
  }
}
