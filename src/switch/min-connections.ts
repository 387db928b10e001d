/**
 * Keeps the node above `minConnections`: when it has fewer connections, it dials peers it
 * knows from the peer store (those with addresses, most valuable first by tag value), a few at
 * a time. A peer whose dial failed waits before it is tried again (exponential backoff per
 * peer, bounded), so an unreachable address book cannot turn into a dial loop. Checks run at
 * start, when a connection closes, and on an unreferenced interval; overlapping triggers
 * coalesce into one check.
 */
import type { Peer, PeerStore } from '../interface/peer-store.ts'
import type { PeerId } from '../interface/peer-id.ts'
import { logger } from '../util/logger.ts'
import { unrefInterval } from '../util/timers.ts'
import { ServiceStoppedError } from '../util/errors.ts'

const log = logger('connection-manager:min-connections')

export const DEFAULT_MIN_CONNECTIONS_CHECK_INTERVAL = 10_000
/** Dials at once while below the minimum. */
const MAX_PARALLEL_DIALS = 8
const FIRST_BACKOFF_MS = 5_000
const MAX_BACKOFF_MS = 5 * 60_000
/** Peers remembered in backoff at most; the oldest entry goes first. */
const MAX_BACKOFF_ENTRIES = 1024

export interface MinConnectionsInit {
  minConnections: number
  selfId: PeerId
  peerStore: Pick<PeerStore, 'all'>
  /** Open connections now. */
  connectionCount(): number
  isConnected(peerId: PeerId): boolean
  dial(peerId: PeerId, signal: AbortSignal): Promise<unknown>
  checkInterval?: number
}

export class MinConnectionsKeeper {
  readonly #init: MinConnectionsInit
  readonly #backoff = new Map<string, { until: number, delay: number }>()
  #interval: ReturnType<typeof setInterval> | undefined
  #controller = new AbortController()
  #checking: Promise<void> | undefined
  #checkAgain = false

  constructor (init: MinConnectionsInit) {
    this.#init = init
  }

  start (): void {
    if (this.#init.minConnections <= 0 || this.#interval !== undefined) return
    this.#controller = new AbortController()
    this.#interval = unrefInterval(() => { this.check() }, this.#init.checkInterval ?? DEFAULT_MIN_CONNECTIONS_CHECK_INTERVAL)
    this.check()
  }

  stop (): void {
    if (this.#interval !== undefined) clearInterval(this.#interval)
    this.#interval = undefined
    this.#controller.abort(new ServiceStoppedError('the connection manager stopped'))
    this.#backoff.clear()
  }

  /** Dials known peers if the node is below the minimum; coalesces with a check in flight. */
  check (): void {
    if (this.#interval === undefined) return
    if (this.#checking !== undefined) {
      this.#checkAgain = true
      return
    }
    this.#checking = this.#run().catch((err: Error) => { log.error('keeping the minimum failed: %s', err.message) }).finally(() => {
      this.#checking = undefined
      if (this.#checkAgain && this.#interval !== undefined) {
        this.#checkAgain = false
        this.check()
      }
    })
  }

  /** Settles when no check is running (for tests and orderly shutdown). */
  async idle (): Promise<void> {
    while (this.#checking !== undefined) await this.#checking
  }

  async #run (): Promise<void> {
    const signal = this.#controller.signal
    const needed = this.#init.minConnections - this.#init.connectionCount()
    if (needed <= 0) return
    const now = Date.now()
    const self = this.#init.selfId
    const candidates = await this.#init.peerStore.all({
      signal,
      filter: (peer) => peer.addresses.length > 0 && !peer.id.equals(self) && !this.#init.isConnected(peer.id) && (this.#backoff.get(peer.id.toString())?.until ?? 0) <= now
    })
    if (candidates.length === 0) return
    candidates.sort((a, b) => tagValue(b, now) - tagValue(a, now))
    const batch = candidates.slice(0, Math.min(needed, MAX_PARALLEL_DIALS))
    log('%d connections below the minimum of %d: dialing %d known peers', needed, this.#init.minConnections, batch.length)
    await Promise.all(batch.map(async (peer) => {
      const key = peer.id.toString()
      try {
        await this.#init.dial(peer.id, signal)
        this.#backoff.delete(key)
      } catch (err) {
        if (signal.aborted) return
        const delay = Math.min((this.#backoff.get(key)?.delay ?? FIRST_BACKOFF_MS / 2) * 2, MAX_BACKOFF_MS)
        this.#backoff.delete(key)
        if (this.#backoff.size >= MAX_BACKOFF_ENTRIES) this.#backoff.delete(this.#backoff.keys().next().value!)
        this.#backoff.set(key, { until: Date.now() + delay, delay })
        log('dialing %s to keep the minimum failed (%s); next try in %d ms', key, (err as Error).message, delay)
      }
    }))
    // Still short after this batch (dials failed or more are needed): go on with the next one.
    if (!signal.aborted && this.#init.connectionCount() < this.#init.minConnections && batch.length === Math.min(needed, MAX_PARALLEL_DIALS) && candidates.length > batch.length) this.#checkAgain = true
  }
}

function tagValue (peer: Peer, now: number): number {
  let value = 0
  for (const tag of peer.tags.values()) if (tag.expires === undefined || tag.expires > now) value += tag.value
  return value
}
