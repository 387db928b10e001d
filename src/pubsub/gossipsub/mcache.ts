/**
 * The GossipSub message cache (gossipsub-v1.0.md "Message Cache"): the messages of the last
 * `length` heartbeats, of which the ids of the last `gossip` are advertised in IHAVE. Also
 * counts how often each peer asked for a message by IWANT, so a peer cannot make us resend one
 * message forever (go's GossipRetransmission).
 */
import type { PubSubRpcMessage } from '../rpc.ts'

interface CacheEntry {
  msg: PubSubRpcMessage
  /** IWANT requests per peer key. */
  iwant?: Map<string, number>
}

export class MessageCache {
  readonly #msgs = new Map<string, CacheEntry>()
  /** Newest window first; each holds [msgIdKey, topic] pairs. */
  readonly #windows: Array<Array<[string, string]>>
  readonly #gossip: number

  constructor (length: number, gossip: number) {
    if (gossip > length) throw new RangeError('mcache gossip window exceeds its length')
    this.#windows = Array.from({ length }, () => [])
    this.#gossip = gossip
  }

  get size (): number { return this.#msgs.size }

  /** Adds a validated message; false if it is already cached. */
  put (key: string, msg: PubSubRpcMessage): boolean {
    if (this.#msgs.has(key)) return false
    this.#msgs.set(key, { msg })
    this.#windows[0].push([key, msg.topic])
    return true
  }

  has (key: string): boolean {
    return this.#msgs.has(key)
  }

  get (key: string): PubSubRpcMessage | undefined {
    return this.#msgs.get(key)?.msg
  }

  /** The message for an IWANT from `peerKey`, with how many times that peer asked for it. */
  getForPeer (key: string, peerKey: string): { msg: PubSubRpcMessage, count: number } | undefined {
    const entry = this.#msgs.get(key)
    if (entry === undefined) return undefined
    entry.iwant ??= new Map()
    const count = (entry.iwant.get(peerKey) ?? 0) + 1
    entry.iwant.set(peerKey, count)
    return { msg: entry.msg, count }
  }

  /** Ids of `topic` messages in the gossip windows. */
  gossipIds (topic: string): string[] {
    const out: string[] = []
    for (let i = 0; i < this.#gossip; i++) {
      for (const [key, t] of this.#windows[i]) if (t === topic) out.push(key)
    }
    return out
  }

  /** Topics with messages in the gossip windows. */
  gossipTopics (): Set<string> {
    const out = new Set<string>()
    for (let i = 0; i < this.#gossip; i++) for (const [, t] of this.#windows[i]) out.add(t)
    return out
  }

  /** Ages the cache by one heartbeat, forgetting the oldest window. */
  shift (): void {
    const last = this.#windows.pop() ?? []
    for (const [key] of last) this.#msgs.delete(key)
    this.#windows.unshift([])
  }
}
