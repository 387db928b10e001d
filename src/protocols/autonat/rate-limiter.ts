/**
 * The AutoNAT server's request budget: requests per minute overall and per peer, requests
 * that cost a dial-data exchange per minute, and concurrent requests per peer (go's defaults:
 * 60, 12, 12 and 2). An AutoNAT server dials whatever it is asked to, so without a budget it
 * is a free scanner and connection amplifier for anyone.
 *
 * Sliding one-minute windows of timestamps; state is bounded by the budgets themselves (at
 * most `perMinute` timestamps overall, and only peers with a request in the last minute or
 * one in flight are remembered).
 */

export interface RateLimits {
  /** Requests accepted per minute from everyone (default 60). */
  perMinute?: number
  /** Requests accepted per minute from one peer (default 12). */
  perPeerPerMinute?: number
  /** Requests that ask for dial data, per minute (default 12). */
  dialDataPerMinute?: number
  /** Requests of one peer served at once (default 2). */
  concurrentPerPeer?: number
}

const MINUTE = 60_000

export class RequestRateLimiter {
  readonly #perMinute: number
  readonly #perPeerPerMinute: number
  readonly #dialDataPerMinute: number
  readonly #concurrentPerPeer: number
  readonly #now: () => number
  readonly #all: number[] = []
  readonly #dialData: number[] = []
  readonly #peers = new Map<string, { times: number[], inFlight: number }>()

  constructor (limits: RateLimits = {}, now: () => number = Date.now) {
    this.#perMinute = limits.perMinute ?? 60
    this.#perPeerPerMinute = limits.perPeerPerMinute ?? 12
    this.#dialDataPerMinute = limits.dialDataPerMinute ?? 12
    this.#concurrentPerPeer = limits.concurrentPerPeer ?? 2
    this.#now = now
  }

  /**
   * Takes a request slot for `peer`, or returns false when a budget is spent. A taken slot is
   * given back with `release(peer)` when the request ends (the per-minute counts stay).
   */
  accept (peer: string): boolean {
    const now = this.#now()
    this.#prune(now)
    if (this.#all.length >= this.#perMinute) return false
    let state = this.#peers.get(peer)
    if (state !== undefined && (state.inFlight >= this.#concurrentPerPeer || state.times.length >= this.#perPeerPerMinute)) return false
    if (state === undefined) this.#peers.set(peer, state = { times: [], inFlight: 0 })
    state.times.push(now)
    state.inFlight++
    this.#all.push(now)
    return true
  }

  /**
   * The admission both servers apply before any work: a request over a limited (relayed)
   * connection is refused ('relayed'), then the budget (`accept`) decides ('rate-limited').
   * undefined: admitted, and the slot must be given back with `release`.
   */
  admit (connection: { limits?: unknown, remotePeer: { toString(): string } }): 'relayed' | 'rate-limited' | undefined {
    if (connection.limits !== undefined) return 'relayed'
    return this.accept(connection.remotePeer.toString()) ? undefined : 'rate-limited'
  }

  /** Ends a request taken with accept() or admit(). */
  release (peer: string): void {
    const state = this.#peers.get(peer)
    if (state === undefined) return
    state.inFlight = Math.max(0, state.inFlight - 1)
    if (state.inFlight === 0 && state.times.length === 0) this.#peers.delete(peer)
  }

  /** Takes a dial-data slot, or returns false when too many were asked for in the last minute. */
  acceptDialData (): boolean {
    const now = this.#now()
    this.#prune(now)
    if (this.#dialData.length >= this.#dialDataPerMinute) return false
    this.#dialData.push(now)
    return true
  }

  /** Peers remembered (for tests of boundedness). */
  get trackedPeers (): number {
    this.#prune(this.#now())
    return this.#peers.size
  }

  #prune (now: number): void {
    const oldest = now - MINUTE
    dropOlder(this.#all, oldest)
    dropOlder(this.#dialData, oldest)
    for (const [peer, state] of this.#peers) {
      dropOlder(state.times, oldest)
      if (state.times.length === 0 && state.inFlight === 0) this.#peers.delete(peer)
    }
  }
}

/** Drops leading timestamps at or before `oldest` (the arrays are in time order). */
function dropOlder (times: number[], oldest: number): void {
  let n = 0
  while (n < times.length && times[n] <= oldest) n++
  if (n > 0) times.splice(0, n)
}
