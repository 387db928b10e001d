/**
 * The DHT's most recent lookups, for diagnostics (the live dashboard): a fixed-size ring, one
 * small record per finished lookup (never per request), so it costs nothing on a data path and
 * its memory is bounded whatever the query rate.
 */
import type { DhtQueryRecord } from '../interface/diagnostics.ts'
import { base58btc } from '../peer/multibase.ts'
import { toHex } from '../util/bytes.ts'
import { MessageType } from './message.ts'
import type { QueryResult } from './query.ts'

const TYPE_NAMES = new Map<number, string>(Object.entries(MessageType).map(([name, value]) => [value, name.toLowerCase()]))
/** Keys longer than this are shown shortened (a record key can be long). */
const MAX_KEY_CHARS = 64

export class RecentQueries {
  readonly #ring: Array<DhtQueryRecord | undefined>
  #next = 0

  constructor (size = 32) {
    this.#ring = new Array<DhtQueryRecord | undefined>(Math.max(1, size)).fill(undefined)
  }

  /** Records a finished lookup; `startedAt` is performance.now() at its start. */
  add (messageType: number, key: Uint8Array, startedAt: number, result: QueryResult | undefined): void {
    const durationMs = performance.now() - startedAt
    this.#ring[this.#next] = {
      type: TYPE_NAMES.get(messageType) ?? 'unknown',
      key: showKey(key),
      startedAt: Date.now() - durationMs,
      durationMs: Math.round(durationMs * 10) / 10,
      outcome: result === undefined ? 'error' : result.timedOut ? 'timeout' : result.completed ? 'found' : 'finished',
      peersContacted: result?.queried ?? 0,
      failed: result?.failed ?? 0
    }
    this.#next = (this.#next + 1) % this.#ring.length
  }

  /** Newest first. */
  list (): DhtQueryRecord[] {
    const out: DhtQueryRecord[] = []
    for (let i = 1; i <= this.#ring.length; i++) {
      const r = this.#ring[(this.#next - i + this.#ring.length) % this.#ring.length]
      if (r !== undefined) out.push(r)
    }
    return out
  }
}

/** Peer ids and multihashes read best in base58btc (as users paste them); other keys in hex. */
function showKey (key: Uint8Array): string {
  const isMultihash = key.length >= 2 && key[1] === key.length - 2 && (key[0] === 0x12 || key[0] === 0x00)
  const text = isMultihash ? base58btc.encode(key).slice(1) : '0x' + toHex(key)
  return text.length > MAX_KEY_CHARS ? text.slice(0, MAX_KEY_CHARS - 1) + '…' : text
}
