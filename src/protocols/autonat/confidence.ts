/**
 * A reachability verdict that holds until the evidence changes (no flapping).
 *
 * Users' complaint about go-libp2p (issues 2046, 2602): reachability flipped on every odd
 * result, and the DHT switched client/server with it. Here each result moves a score by one,
 * capped at +-`cap`; the verdict becomes 'public' only when the score reaches +`threshold`,
 * 'private' only at -`threshold`, and otherwise stays what it was. So a settled verdict needs
 * `cap + threshold` contrary results in a row to flip, and a single stray result never does.
 *
 * Settings used: per address (v2) threshold 2, cap 3 (go's "successes - failures >= 2",
 * confidence capped at 3); the node as a whole (v1) threshold 1, cap 3 (go's v1 flips after 4
 * contrary results once fully confident, and decides on the first result when it knows nothing).
 */

export type Verdict = 'public' | 'private' | 'unknown'

export interface ConfidenceOptions {
  /** Net results needed to decide (default 2). */
  threshold?: number
  /** How far the score can run ahead (default 3). */
  cap?: number
}

export class ReachabilityConfidence {
  readonly #threshold: number
  readonly #cap: number
  #score = 0
  #verdict: Verdict = 'unknown'

  constructor (options: ConfidenceOptions = {}) {
    this.#threshold = options.threshold ?? 2
    this.#cap = Math.max(options.cap ?? 3, this.#threshold)
  }

  get verdict (): Verdict { return this.#verdict }
  get score (): number { return this.#score }

  /** Adds one result; returns true when the verdict changed. */
  record (result: 'public' | 'private'): boolean {
    this.#score = result === 'public' ? Math.min(this.#score + 1, this.#cap) : Math.max(this.#score - 1, -this.#cap)
    const before = this.#verdict
    if (this.#score >= this.#threshold) this.#verdict = 'public'
    else if (this.#score <= -this.#threshold) this.#verdict = 'private'
    return this.#verdict !== before
  }

  /** Forgets everything (the address went away, or the network changed under us). */
  reset (): void {
    this.#score = 0
    this.#verdict = 'unknown'
  }
}
