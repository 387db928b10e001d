/**
 * The DHT's mode from the node's reachability (issue 10; go-libp2p's users' complaint 2046,
 * 2602: the DHT flapped between client and server with every AutoNAT result).
 *
 * 'public' asks for server mode, 'private' for client mode, 'unknown' asks for nothing (the
 * current mode stays). The verdict itself already holds until the evidence changes (AutoNAT's
 * confidence counter); on top of that a switch is at least `holdMs` after the previous one (a
 * wish that arrives sooner is carried out when the hold ends, if it still stands). The first
 * switch is immediate. An explicit `mode` option of the DHT turns all of this off.
 */
import type { Libp2pEvents, ReachabilityUpdate, TypedEvents } from '../interface/events.ts'
import { unrefTimeout } from '../util/timers.ts'
import type { TimerHandle } from '../util/timers.ts'

export type DhtMode = 'server' | 'client'

export interface DhtModeSwitchInit {
  events: TypedEvents<Libp2pEvents>
  /** The mode now. */
  getMode(): DhtMode
  /** Changes the mode. */
  setMode(mode: DhtMode): void
  /** Least time between two switches, in ms (default 5 min). */
  holdMs?: number
  now?(): number
}

export class DhtModeSwitch {
  readonly #init: DhtModeSwitchInit
  readonly #hold: number
  readonly #now: () => number
  #lastSwitch = -Infinity
  #wanted: DhtMode | undefined
  #timer: TimerHandle | undefined

  constructor (init: DhtModeSwitchInit) {
    this.#init = init
    this.#hold = init.holdMs ?? 5 * 60_000
    this.#now = init.now ?? Date.now
  }

  start (): void {
    this.#init.events.addEventListener('reachability', this.#onReachability)
  }

  stop (): void {
    this.#init.events.removeEventListener('reachability', this.#onReachability)
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  readonly #onReachability = (evt: CustomEvent<ReachabilityUpdate>): void => {
    const status = evt.detail.status
    if (status === 'unknown') return
    this.#wanted = status === 'public' ? 'server' : 'client'
    this.#apply()
  }

  #apply (): void {
    const wanted = this.#wanted
    if (wanted === undefined || wanted === this.#init.getMode()) return
    const wait = this.#lastSwitch + this.#hold - this.#now()
    if (wait > 0) {
      if (this.#timer === undefined) {
        this.#timer = unrefTimeout(() => { this.#timer = undefined; this.#apply() }, wait)
      }
      return
    }
    this.#lastSwitch = this.#now()
    this.#init.setMode(wanted)
  }
}
