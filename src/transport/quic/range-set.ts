/**
 * A bounded set of integers kept as sorted, disjoint, inclusive ranges: received packet
 * numbers (for ACK frames) and acknowledged stream bytes. When more than `maxRanges` ranges
 * accumulate, the lowest range is forgotten: for packet numbers that only means an old gap is
 * no longer reported, which RFC 9000 13.2.3 allows.
 */
export class RangeSet {
  /** [lo0, hi0, lo1, hi1, ...] ascending. */
  readonly #r: number[] = []
  readonly #maxRanges: number

  constructor (maxRanges = 64) {
    this.#maxRanges = maxRanges
  }

  get rangeCount (): number { return this.#r.length / 2 }
  get isEmpty (): boolean { return this.#r.length === 0 }
  /** Largest value in the set, or -1. */
  get max (): number { return this.#r.length === 0 ? -1 : this.#r[this.#r.length - 1] }
  /** Smallest value still remembered, or -1. */
  get min (): number { return this.#r.length === 0 ? -1 : this.#r[0] }
  /** End (exclusive) of the range starting at `start`, or `start` when `start` is not in the set. */
  contiguousEnd (start: number): number {
    const r = this.#r
    for (let i = 0; i < r.length; i += 2) {
      if (r[i] <= start && start <= r[i + 1]) return r[i + 1] + 1
    }
    return start
  }

  has (value: number): boolean {
    const r = this.#r
    for (let i = r.length - 2; i >= 0; i -= 2) {
      if (value > r[i + 1]) return false
      if (value >= r[i]) return true
    }
    return false
  }

  /** Adds [lo, hi] (inclusive). */
  add (lo: number, hi: number = lo): void {
    const r = this.#r
    // Fast path: appending at or just after the top (the common, in-order case).
    const n = r.length
    if (n === 0 || lo > r[n - 1] + 1) {
      r.push(lo, hi)
    } else if (lo >= r[n - 2] && hi >= r[n - 1]) {
      r[n - 1] = hi
      if (lo < r[n - 2]) r[n - 2] = lo
    } else {
      // General case: find the ranges that overlap or touch [lo, hi] and merge them.
      let i = 0
      while (i < r.length && r[i + 1] + 1 < lo) i += 2
      let j = i
      let newLo = lo
      let newHi = hi
      while (j < r.length && r[j] <= hi + 1) {
        newLo = Math.min(newLo, r[j])
        newHi = Math.max(newHi, r[j + 1])
        j += 2
      }
      r.splice(i, j - i, newLo, newHi)
    }
    if (r.length / 2 > this.#maxRanges) r.splice(0, 2)
  }

  /** Forgets everything below `value`. */
  removeBelow (value: number): void {
    const r = this.#r
    let k = 0
    while (k < r.length && r[k + 1] < value) k += 2
    if (k > 0) r.splice(0, k)
    if (r.length > 0 && r[0] < value) r[0] = value
  }

  /** Ranges newest first as [hi0, lo0, hi1, lo1, ...], the order ACK frames use. */
  descending (): number[] {
    const r = this.#r
    const out: number[] = new Array(r.length)
    for (let i = r.length - 2, o = 0; i >= 0; i -= 2, o += 2) {
      out[o] = r[i + 1]
      out[o + 1] = r[i]
    }
    return out
  }
}
