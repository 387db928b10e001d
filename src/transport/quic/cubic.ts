/**
 * CUBIC congestion avoidance (RFC 9438) for recovery.ts: after a congestion event the window
 * follows W(t) = C·(t − K)³ + W_max (segments, seconds since the event), concave up to the
 * window where the loss happened and convex past it, never slower than the Reno-friendly
 * estimate (4.3). Slow start and the recovery period stay recovery.ts's (RFC 9002).
 */

/** RFC 9438 4.1 and 4.6: C and β_cubic. */
const C = 0.4
const BETA = 0.7
/** RFC 9438 4.3: the Reno-friendly additive increase for β = 0.7. */
const ALPHA = 3 * (1 - BETA) / (1 + BETA)

export type CongestionControl = 'newreno' | 'cubic'

export class Cubic {
  /** Window (bytes) before the last reduction. */
  #wMax = 0
  /** Seconds from the event until W(t) is back at W_max. */
  #k = 0
  /** When congestion avoidance began (ms); -1 until it has. */
  #epoch = -1
  /** Reno-friendly estimate (bytes). */
  #wEst = 0

  /** A congestion event: the reduced window (bytes). */
  onCongestionEvent (cwnd: number, mss: number, minimum: number): number {
    // Fast convergence (4.7): a flow whose window keeps shrinking lets newcomers have room.
    this.#wMax = cwnd < this.#wMax ? cwnd * (1 + BETA) / 2 : cwnd
    const reduced = Math.max(Math.floor(cwnd * BETA), minimum)
    this.#k = Math.cbrt(Math.max(this.#wMax - reduced, 0) / mss / C)
    this.#epoch = -1
    this.#wEst = reduced
    return reduced
  }

  /** The window after `acked` bytes were acknowledged in congestion avoidance. */
  onAck (cwnd: number, acked: number, mss: number, now: number, rttMs: number): number {
    if (this.#epoch < 0) {
      this.#epoch = now
      if (this.#wMax < cwnd) { this.#wMax = cwnd; this.#k = 0 }
      this.#wEst = cwnd
    }
    const t = (now - this.#epoch + rttMs) / 1000
    let target = (C * (t - this.#k) ** 3) * mss + this.#wMax
    if (target < cwnd) target = cwnd
    else if (target > 1.5 * cwnd) target = 1.5 * cwnd
    this.#wEst += ALPHA * mss * acked / cwnd
    if (this.#wEst > target) target = this.#wEst
    return cwnd + (target - cwnd) * acked / cwnd
  }
}
