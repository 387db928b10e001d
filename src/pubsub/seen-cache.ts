/**
 * Time-limited sets keyed by message id: the seen-cache (which messages were already handled,
 * spec "seen messages cache", default 2 min) and similar short-lived id sets. Entries expire in
 * insertion order because the TTL is fixed, so pruning walks the front of a Map: O(1) per
 * entry, no timers, no sorting. The size is capped too, so a flood cannot grow it unbounded.
 */

/** A compact string key for a message id (one UTF-16 unit per byte). */
export function messageIdKey (id: Uint8Array): string {
  let s = ''
  for (let i = 0; i < id.length; i++) s += String.fromCharCode(id[i])
  return s
}

/** The bytes back from a `messageIdKey` string. */
export function messageIdFromKey (key: string): Uint8Array {
  const out = new Uint8Array(key.length)
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i)
  return out
}

export class TimeCache<V = true> {
  readonly #entries = new Map<string, { expires: number, value: V }>()
  readonly #ttl: number
  readonly #maxSize: number
  readonly #now: () => number

  constructor (options: { ttlMs: number, maxSize?: number, now?: () => number }) {
    this.#ttl = options.ttlMs
    this.#maxSize = options.maxSize ?? 1_000_000
    this.#now = options.now ?? Date.now
  }

  get size (): number { return this.#entries.size }

  /** Adds `key`; false (and no change) if it is already present and unexpired. */
  add (key: string, value: V): boolean {
    const now = this.#now()
    this.prune(now)
    const existing = this.#entries.get(key)
    if (existing !== undefined && existing.expires > now) return false
    if (existing !== undefined) this.#entries.delete(key)
    if (this.#entries.size >= this.#maxSize) {
      // evict the oldest: the cap must hold even when everything is young
      const oldest = this.#entries.keys().next()
      if (oldest.done !== true) this.#entries.delete(oldest.value)
    }
    this.#entries.set(key, { expires: now + this.#ttl, value })
    return true
  }

  has (key: string): boolean {
    const e = this.#entries.get(key)
    return e !== undefined && e.expires > this.#now()
  }

  get (key: string): V | undefined {
    const e = this.#entries.get(key)
    return e !== undefined && e.expires > this.#now() ? e.value : undefined
  }

  delete (key: string): void {
    this.#entries.delete(key)
  }

  /** Drops expired entries from the front. */
  prune (now: number = this.#now()): void {
    for (const [key, e] of this.#entries) {
      if (e.expires > now) break
      this.#entries.delete(key)
    }
  }

  clear (): void {
    this.#entries.clear()
  }
}
