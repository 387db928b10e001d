/**
 * The serving half of Bitswap: a peer's wantlist entries answered from the block store.
 *
 * Entries are kept per peer (at most `maxWantlistSize`; more are dropped and counted, so a flood
 * of wants costs a bounded amount of memory) and answered by one loop per peer, highest priority
 * first: a want-have with HAVE (or DONT_HAVE when asked for it), a want-block with the block (or
 * DONT_HAVE). Unanswered entries stay until cancelled, so the HAVE or the block goes out when the
 * block arrives later. Blocks are sent in
 * messages of about `maxBatchBytes`, each with the bytes still queued for the peer as
 * `pendingBytes`; the loop waits for the stream to drain between messages, so a slow reader
 * holds at most one batch in our memory.
 */
import type { Logger } from '../../interface/logger.ts'
import type { Blockstore } from '../blockstore.ts'
import type { BitswapPeer, PeerWant } from './peer.ts'
import { cidPrefix } from '../cid.ts'
import { emptyMessage, PRESENCE_DONT_HAVE, PRESENCE_HAVE, WANT_HAVE, type BitswapMessage } from './message.ts'

export interface ServerOptions {
  maxBatchBytes: number
}

export class BitswapServer {
  readonly #blockstore: Blockstore
  readonly #log: Logger
  readonly #options: ServerOptions
  /** Peers whose wantlist has entries not answered yet. */
  readonly #dirty = new Map<BitswapPeer, Set<string>>()
  readonly #running = new Set<BitswapPeer>()

  constructor (blockstore: Blockstore, log: Logger, options: ServerOptions) {
    this.#blockstore = blockstore
    this.#log = log
    this.#options = options
  }

  /** Marks entries of `peer`'s wantlist to be answered, and starts its loop if idle. */
  schedule (peer: BitswapPeer, keys: Iterable<string>): void {
    let set = this.#dirty.get(peer)
    if (set === undefined) { set = new Set(); this.#dirty.set(peer, set) }
    for (const k of keys) set.add(k)
    if (set.size === 0 || this.#running.has(peer)) return
    this.#running.add(peer)
    this.#serve(peer).catch(err => {
      this.#log('serving %s stopped: %s', peer.key, (err as Error).message)
    }).finally(() => {
      this.#running.delete(peer)
      // entries that arrived after the loop's last look
      if ((this.#dirty.get(peer)?.size ?? 0) > 0) this.schedule(peer, [])
    })
  }

  /** Forget a peer (it disconnected). */
  drop (peer: BitswapPeer): void {
    this.#dirty.delete(peer)
  }

  async #serve (peer: BitswapPeer): Promise<void> {
    for (;;) {
      const keys = this.#dirty.get(peer)
      if (keys === undefined || keys.size === 0) return
      this.#dirty.delete(peer)
      const entries: Array<[string, PeerWant]> = []
      for (const k of keys) {
        const want = peer.wants.get(k)
        if (want !== undefined) entries.push([k, want])
      }
      entries.sort((a, b) => b[1].priority - a[1].priority)
      let msg = emptyMessage()
      let batchBytes = 0
      let queuedBytes = 0
      const pendingBlocks: Array<{ key: string, want: PeerWant, bytes: Uint8Array }> = []
      for (const [key, want] of entries) {
        if (!peer.canCarry(want.cid)) { peer.wants.delete(key); continue }
        if (want.wantType === WANT_HAVE) {
          const has = await this.#blockstore.has(want.cid)
          if (has) {
            msg.presences.push({ cid: want.cidBytes, type: PRESENCE_HAVE })
            // answered: the peer asks for the block if it wants it
            peer.wants.delete(key)
          } else if (want.sendDontHave) {
            // the entry stays until cancelled: a HAVE follows if the block arrives
            msg.presences.push({ cid: want.cidBytes, type: PRESENCE_DONT_HAVE })
          }
          continue
        }
        const bytes = await this.#blockstore.get(want.cid)
        if (bytes === undefined) {
          if (want.sendDontHave) msg.presences.push({ cid: want.cidBytes, type: PRESENCE_DONT_HAVE })
          continue
        }
        pendingBlocks.push({ key, want, bytes })
        queuedBytes += bytes.length
      }
      for (const { key, want, bytes } of pendingBlocks) {
        // the peer may have cancelled while we read the store or sent the previous batch
        if (peer.wants.get(key) !== want) { queuedBytes -= bytes.length; continue }
        if (batchBytes > 0 && batchBytes + bytes.length > this.#options.maxBatchBytes) {
          msg.pendingBytes = queuedBytes
          await this.#send(peer, msg)
          msg = emptyMessage()
          batchBytes = 0
        }
        msg.blocks.push({ prefix: cidPrefix(want.cid), data: bytes })
        peer.wants.delete(key)
        batchBytes += bytes.length
        queuedBytes -= bytes.length
        peer.stats.blocksSent++
        peer.stats.bytesSent += bytes.length
      }
      if (msg.blocks.length > 0 || msg.presences.length > 0) {
        msg.pendingBytes = queuedBytes
        await this.#send(peer, msg)
      }
    }
  }

  async #send (peer: BitswapPeer, msg: BitswapMessage): Promise<void> {
    await peer.send(msg)
  }
}
