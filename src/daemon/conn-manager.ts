/**
 * The daemon's connection manager: p2pd's CONNMANAGER requests (TAG_PEER, UNTAG_PEER, TRIM) and
 * its `-connManager -connLo -connHi -connGrace` watermarks, with go-libp2p's BasicConnMgr
 * behaviour as the reference (specs/CM.md says only what the requests carry):
 *
 * - A peer's value is the sum of its tag weights (any int64 weight a client sends, as Go; we
 *   clamp to JavaScript's safe integers).
 * - TRIM (and the automatic trim when a connection takes the count above the high watermark)
 *   closes every connection of the lowest-valued peers until the count of connections that are
 *   candidates reaches the low watermark. A peer whose first connection is younger than the
 *   grace period is not a candidate, and when fewer than `lowWater` connections are candidates
 *   nothing is closed (they have not had the chance to show their value yet). Among equal values:
 *   peers with no open stream first, then peers that dialed us.
 * - The automatic trim runs at most once per silence period (Go's 10 s), so a burst of
 *   connections does not trigger a storm of trims.
 *
 * Tags live here, not in the peer store (whose tag values are 0-100); the sum is mirrored into
 * the peer store as one tag, clamped to 0-100, so the node's own pruning (its hard connection
 * limit) sees the client's preferences too.
 */
import type { Libp2p } from '../interface/libp2p.ts'
import type { Connection } from '../interface/connection.ts'
import type { PeerId } from '../interface/peer-id.ts'
import { logger } from '../util/logger.ts'
import { Libp2pError } from '../util/errors.ts'

const log = logger('ts-libp2p:daemon:connmgr')

/** The peer-store tag the sum of a peer's daemon tags is mirrored into. */
export const DAEMON_TAG = 'daemon-connmgr'
/** Go's connmgr default silence period between automatic trims. */
export const TRIM_SILENCE_MS = 10_000
/** Distinct tags per peer and tagged peers at most: a client cannot grow the table without bound. */
export const MAX_TAGS_PER_PEER = 256
export const MAX_TAGGED_PEERS = 65_536

export interface Watermarks {
  lowWater: number
  highWater: number
  gracePeriodMs: number
}

/** p2pd's flag defaults (-connLo 256 -connHi 512 -connGrace 120s). */
export const P2PD_WATERMARKS: Watermarks = { lowWater: 256, highWater: 512, gracePeriodMs: 120_000 }
/** go-libp2p's default manager, which p2pd runs without -connManager (160/192, 1 minute). */
export const GO_DEFAULT_WATERMARKS: Watermarks = { lowWater: 160, highWater: 192, gracePeriodMs: 60_000 }

/** A client tried to keep more tags than the table holds. */
export class TagLimitError extends Libp2pError {
  static readonly code = 'ERR_DAEMON_TAG_LIMIT'
  constructor (message: string) {
    super(message, TagLimitError.code)
    this.name = 'TagLimitError'
  }
}

interface Candidate { peer: string, value: number, connections: Connection[], streams: number, inbound: boolean }

export class DaemonConnectionManager {
  readonly #node: Libp2p
  readonly watermarks: Watermarks
  readonly #tags = new Map<string, Map<string, number>>()
  #lastAutoTrim = 0
  #trimming: Promise<number> | undefined
  readonly #onOpen = (): void => { this.#maybeTrim() }

  constructor (node: Libp2p, watermarks: Watermarks) {
    this.#node = node
    this.watermarks = watermarks
  }

  start (): void { this.#node.addEventListener('connection:open', this.#onOpen) }
  stop (): void { this.#node.removeEventListener('connection:open', this.#onOpen) }

  /** Sets `tag` on `peer` to `weight` (Go's TagPeer overwrites). */
  async tagPeer (peer: PeerId, tag: string, weight: number): Promise<void> {
    const key = peer.toString()
    let tags = this.#tags.get(key)
    if (tags === undefined) {
      if (this.#tags.size >= MAX_TAGGED_PEERS) throw new TagLimitError(`more than ${MAX_TAGGED_PEERS} tagged peers`)
      tags = new Map()
      this.#tags.set(key, tags)
    }
    if (!tags.has(tag) && tags.size >= MAX_TAGS_PER_PEER) throw new TagLimitError(`more than ${MAX_TAGS_PER_PEER} tags on one peer`)
    tags.set(tag, clampSafe(weight))
    await this.#mirror(peer)
  }

  async untagPeer (peer: PeerId, tag: string): Promise<void> {
    const key = peer.toString()
    const tags = this.#tags.get(key)
    if (tags === undefined || !tags.delete(tag)) return
    if (tags.size === 0) this.#tags.delete(key)
    await this.#mirror(peer)
  }

  /** The sum of the peer's tag weights (0 when untagged). */
  value (peer: PeerId | string): number {
    let sum = 0
    for (const w of this.#tags.get(peer.toString())?.values() ?? []) sum = clampSafe(sum + w)
    return sum
  }

  /**
   * Closes the lowest-valued peers' connections down to the low watermark (see the file
   * comment); resolves with the number of connections closed. Concurrent calls share one run.
   */
  async trim (signal?: AbortSignal): Promise<number> {
    this.#trimming ??= this.#trimOnce(signal).finally(() => { this.#trimming = undefined })
    return await this.#trimming
  }

  #maybeTrim (): void {
    if (this.#node.getConnections().length <= this.watermarks.highWater) return
    const now = Date.now()
    if (now - this.#lastAutoTrim < TRIM_SILENCE_MS) return
    this.#lastAutoTrim = now
    this.trim().catch((err: Error) => { log('automatic trim failed: %s', err.message) })
  }

  async #trimOnce (signal?: AbortSignal): Promise<number> {
    const { lowWater, highWater, gracePeriodMs } = this.watermarks
    if (lowWater <= 0 || highWater <= 0) return 0
    const connections = this.#node.getConnections().filter(c => c.status === 'open')
    if (connections.length <= lowWater) return 0
    const graceStart = Date.now() - gracePeriodMs
    const byPeer = new Map<string, Candidate>()
    for (const c of connections) {
      const peer = c.remotePeer.toString()
      let entry = byPeer.get(peer)
      if (entry === undefined) {
        entry = { peer, value: this.value(peer), connections: [], streams: 0, inbound: false }
        byPeer.set(peer, entry)
      }
      entry.connections.push(c)
      entry.streams += c.streams.length
      entry.inbound ||= c.direction === 'inbound'
    }
    // a peer is in its grace period while its oldest connection is younger than the period
    const candidates = [...byPeer.values()].filter(p => Math.min(...p.connections.map(c => c.timeline.open)) <= graceStart)
    const candidateCount = candidates.reduce((n, p) => n + p.connections.length, 0)
    if (candidateCount < lowWater) return 0
    candidates.sort(compareForTrim)
    let target = candidateCount - lowWater
    const selected: Connection[] = []
    for (const p of candidates) {
      if (target <= 0) break
      selected.push(...p.connections)
      target -= p.connections.length
    }
    signal?.throwIfAborted()
    log('trimming %d of %d connections', selected.length, connections.length)
    await Promise.all(selected.map(async c => {
      try {
        await c.close({ signal })
      } catch (err) {
        c.abort(err as Error)
      }
    }))
    return selected.length
  }

  async #mirror (peer: PeerId): Promise<void> {
    const sum = this.value(peer)
    const tag = this.#tags.has(peer.toString()) ? { value: Math.max(0, Math.min(100, sum)) } : undefined
    await this.#node.peerStore.merge(peer, { tags: { [DAEMON_TAG]: tag } })
  }
}

function clampSafe (n: number): number {
  return Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Math.trunc(n)))
}

/** Lowest value first; then peers without open streams; then peers that dialed us. */
function compareForTrim (a: Candidate, b: Candidate): number {
  if (a.value !== b.value) return a.value - b.value
  if (a.streams !== b.streams && (a.streams === 0 || b.streams === 0)) return a.streams - b.streams
  if (a.inbound !== b.inbound) return a.inbound ? -1 : 1
  return a.streams - b.streams
}
