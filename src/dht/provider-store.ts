/**
 * Provider records in the node's datastore: `/dht/provider/<hex multihash>/<peer id>` holds
 * the expiry time (ms since epoch, decimal text). Records expire 48 h after they were added
 * (IPFS's value); expired ones are skipped on read and swept periodically.
 *
 * What we provide ourselves is also kept, under `/dht/provided/<hex multihash>` with the time
 * we last announced it, so the DHT can republish it every 22 h, including after a restart.
 */
import type { AbortOptions } from '../interface/common.ts'
import type { Datastore } from '../interface/datastore.ts'
import type { PeerId } from '../interface/peer-id.ts'
import { peerIdFromString } from '../peer/peer-id.ts'
import { fromHex, toHex, utf8Decode, utf8Encode } from '../util/bytes.ts'

const PROVIDER_PREFIX = '/dht/provider/'
const PROVIDED_PREFIX = '/dht/provided/'

export interface ProviderStoreInit {
  datastore: Datastore
  /** How long a provider record lives, in ms (default 48 h). */
  provideValidity?: number
  /** Providers kept per key; further ones are ignored until some expire (default 200). */
  maxProvidersPerKey?: number
}

export class ProviderStore {
  readonly #datastore: Datastore
  readonly provideValidity: number
  readonly #maxPerKey: number

  constructor (init: ProviderStoreInit) {
    this.#datastore = init.datastore
    this.provideValidity = init.provideValidity ?? 48 * 60 * 60 * 1000
    this.#maxPerKey = init.maxProvidersPerKey ?? 200
  }

  /** Records `provider` for `key` (a multihash); false when the key already has too many. */
  async addProvider (key: Uint8Array, provider: PeerId, options?: AbortOptions): Promise<boolean> {
    const prefix = `${PROVIDER_PREFIX}${toHex(key)}/`
    const dsKey = prefix + provider.toString()
    if (!(await this.#datastore.has(dsKey, options))) {
      let count = 0
      for await (const _ of this.#datastore.query({ prefix, limit: this.#maxPerKey, signal: options?.signal })) count++
      if (count >= this.#maxPerKey) return false
    }
    await this.#datastore.put(dsKey, utf8Encode(String(Date.now() + this.provideValidity)), options)
    return true
  }

  /** Unexpired providers of `key`, at most `limit`. */
  async getProviders (key: Uint8Array, options: AbortOptions & { limit?: number } = {}): Promise<PeerId[]> {
    const prefix = `${PROVIDER_PREFIX}${toHex(key)}/`
    const now = Date.now()
    const out: PeerId[] = []
    const limit = options.limit ?? this.#maxPerKey
    for await (const { key: dsKey, value } of this.#datastore.query({ prefix, signal: options.signal })) {
      if (readTime(value) <= now) continue
      try {
        out.push(peerIdFromString(dsKey.slice(prefix.length)))
      } catch {
        continue
      }
      if (out.length >= limit) break
    }
    return out
  }

  /** Deletes expired provider records; returns how many. */
  async sweep (options?: AbortOptions): Promise<number> {
    const now = Date.now()
    const expired: string[] = []
    for await (const { key, value } of this.#datastore.query({ prefix: PROVIDER_PREFIX, signal: options?.signal })) {
      if (!(readTime(value) > now)) expired.push(key)
    }
    for (let i = 0; i < expired.length; i += 500) {
      await this.#datastore.batch(expired.slice(i, i + 500).map(key => ({ type: 'delete' as const, key })), options)
    }
    return expired.length
  }

  /** Remembers that we provide `key`, announced now. */
  async markProvided (key: Uint8Array, options?: AbortOptions): Promise<void> {
    await this.#datastore.put(PROVIDED_PREFIX + toHex(key), utf8Encode(String(Date.now())), options)
  }

  async unmarkProvided (key: Uint8Array, options?: AbortOptions): Promise<void> {
    await this.#datastore.delete(PROVIDED_PREFIX + toHex(key), options)
  }

  /** Keys we provide whose last announcement is older than `age` ms. */
  async providedOlderThan (age: number, options?: AbortOptions): Promise<Uint8Array[]> {
    const cutoff = Date.now() - age
    const out: Uint8Array[] = []
    for await (const { key, value } of this.#datastore.query({ prefix: PROVIDED_PREFIX, signal: options?.signal })) {
      if (readTime(value) <= cutoff) {
        try {
          out.push(fromHex(key.slice(PROVIDED_PREFIX.length)))
        } catch {
          // not ours to interpret; leave it
        }
      }
    }
    return out
  }
}

/** A stored time; 0 (long expired) for anything unreadable. */
function readTime (value: Uint8Array): number {
  try {
    const n = Number(utf8Decode(value))
    return Number.isFinite(n) ? n : 0
  } catch {
    return 0
  }
}
