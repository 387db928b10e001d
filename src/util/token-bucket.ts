/**
 * A token bucket: a budget of `burst` events that refills at `perSecond`. Used where a remote
 * can make us do work per message and one message is cheap for it (streams opened and reset at
 * once, failed protocol negotiations): an honest peer stays far below the rate, a flood runs the
 * bucket dry and the caller cuts the connection. Two numbers and no timer per bucket.
 */
export class TokenBucket {
  readonly burst: number
  readonly perSecond: number
  #tokens: number
  #last: number

  constructor (burst: number, perSecond: number, now = performance.now()) {
    this.burst = burst
    this.perSecond = perSecond
    this.#tokens = burst
    this.#last = now
  }

  /** Takes one token; false when the bucket is empty (the event is over budget). */
  take (now = performance.now()): boolean {
    const refill = (now - this.#last) * this.perSecond / 1000
    if (refill > 0) {
      this.#tokens = Math.min(this.burst, this.#tokens + refill)
      this.#last = now
    }
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }
}
