/**
 * The time side of a QUIC connection: when it last heard from and sent to the remote, the idle
 * timeout (RFC 9000 10.1), the handshake bound, keep-alives and the closing period (10.2), and
 * the one timer that wakes the connection at the earliest of its deadlines. The connection
 * decides what each deadline means; this only keeps the times and the single timer handle,
 * so re-arming for the same or a later deadline costs nothing and `cancel()` leaves nothing behind.
 */
import { unrefTimeout } from '../../util/timers.ts'
import type { TimerHandle } from '../../util/timers.ts'
import type { QuicConfig } from './config.ts'

/** Bound of the closing/draining period (ms), whatever the RTT estimate says. */
const MAX_CLOSING_PERIOD = 3000

export class ConnectionClock {
  /** The idle timeout in force: ours, then the smaller of both peers' (ms). */
  idleTimeout: number
  /** Last time a datagram of the remote was processed. */
  lastActivity = performance.now()
  /** Last time a send pass put something on the wire. */
  lastSend = performance.now()
  /** End of the closing or draining period; 0 while the connection is not closing. */
  closeDeadline = 0
  readonly handshakeDeadline: number
  readonly #keepAlivePeriod: number
  readonly #onFire: () => void
  #timer: TimerHandle | undefined
  #timerAt = Infinity

  constructor (config: QuicConfig, onFire: () => void) {
    this.idleTimeout = config.maxIdleTimeout
    this.#keepAlivePeriod = config.keepAlivePeriod
    this.handshakeDeadline = performance.now() + config.handshakeTimeout
    this.#onFire = onFire
  }

  get idleDeadline (): number { return this.lastActivity + this.idleTimeout }

  /** When a keep-alive PING is due (Infinity when keep-alives are off). */
  get keepAliveDeadline (): number {
    if (this.#keepAlivePeriod <= 0) return Infinity
    return Math.max(this.lastSend, this.lastActivity) + Math.min(this.#keepAlivePeriod, this.idleTimeout / 2)
  }

  /** Three PTOs, bounded, to answer a late packet with our CONNECTION_CLOSE again. */
  startClosingPeriod (smoothedRtt: number, rttVar: number): void {
    this.closeDeadline = performance.now() + Math.min(3 * (smoothedRtt + 4 * rttVar + 25), MAX_CLOSING_PERIOD)
  }

  /**
   * Wakes the connection at `deadline` (a performance.now() time; Infinity: never) or earlier.
   * A timer already due before `deadline` is kept: the connection re-arms when it fires and
   * finds nothing due. Deadlines mostly move later (every datagram pushes the idle and loss
   * deadlines), and replacing the timer each send pass cost a clearTimeout and a new Timeout.
   */
  arm (deadline: number): void {
    if (deadline >= this.#timerAt) return
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timerAt = deadline
    if (deadline === Infinity) { this.#timer = undefined; return }
    this.#timer = unrefTimeout(() => { this.#fired() }, Math.max(0, deadline - performance.now()))
  }

  cancel (): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#timerAt = Infinity
  }

  #fired (): void {
    this.#timer = undefined
    this.#timerAt = Infinity
    this.#onFire()
  }
}
