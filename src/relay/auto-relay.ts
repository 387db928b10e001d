/**
 * Auto-relay: a node that others cannot dial keeps reservations on a few relays it finds by
 * itself. Listening on the bare address `/p2p-circuit` turns it on (as in js-libp2p).
 *
 * - When: once AutoNAT reports `reachability` 'private' (by default; `onlyWhenPrivate: false`
 *   keeps reservations whatever the reachability). 'public' releases them: the node's own
 *   addresses serve.
 * - Where: peers in the peer store whose identify listed the hop protocol. When those are too
 *   few, a random walk of the node's peer routing (the DHT: a lookup of a random key, at most
 *   one at a time and one per `discoveryInterval`) meets more peers: the lookup connects to
 *   them, identify tells which are relays, and each one identified is considered. Relays we
 *   already reserve on for a configured listen address are not taken twice.
 * - How many: `reservations` (default 2). A relay that refuses, cannot be reached, or drops
 *   our reservation is released and left alone for `failureCooldown` (default 10 min), and the
 *   next candidate takes its place.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { multiaddr } from '@multiformats/multiaddr'
import type { NodeComponents } from '../interface/components.ts'
import type { Logger } from '../interface/logger.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { IdentifyResult, ReachabilityUpdate, RelayReservationEvent } from '../interface/events.ts'
import type { PeerRouting } from '../interface/routing.ts'
import { Deadline } from '../util/deadline.ts'
import { unrefTimeout, type TimerHandle } from '../util/timers.ts'
import { HOP_PROTOCOL } from './messages.ts'
import type { ReservationManager } from './reservations.ts'

export const DEFAULT_AUTO_RELAY_RESERVATIONS = 2
export const DEFAULT_FAILURE_COOLDOWN = 10 * 60_000

export interface AutoRelayOptions {
  /** Relays to keep a reservation on (default 2). */
  reservations?: number
  /** Reserve only while AutoNAT says we are private (default true). */
  onlyWhenPrivate?: boolean
  /** How long a relay that failed us is skipped, in ms (default 10 min). */
  failureCooldown?: number
  /** Least time between two random walks looking for relays, in ms (default 60 s). */
  discoveryInterval?: number
  /** Budget of one random walk, in ms (default 30 s). */
  discoveryTimeout?: number
}

export const DEFAULT_DISCOVERY_INTERVAL = 60_000
export const DEFAULT_DISCOVERY_TIMEOUT = 30_000

export type AutoRelayComponents = Pick<NodeComponents, 'peerId' | 'peerStore' | 'events' | 'logger'> & {
  /** Where to look for more peers when the peer store holds too few relays (optional). */
  peerRouting?: Pick<PeerRouting, 'getClosestPeers'>
}

export class AutoRelay {
  readonly #components: AutoRelayComponents
  readonly #reservations: ReservationManager
  readonly #want: number
  readonly #onlyWhenPrivate: boolean
  readonly #cooldown: number
  readonly #log: Logger
  /** Relay peer id -> the address we reserve with (`/p2p/<relay>`). */
  readonly #relays = new Map<string, Multiaddr>()
  /** Relay peer id -> until when it is skipped (ms since epoch). */
  readonly #failed = new Map<string, number>()
  #listening = false
  #private = false
  #filling = false
  #fillAgain = false
  readonly #discoveryInterval: number
  readonly #discoveryTimeout: number
  /** The random walk under way, if any. */
  #walk: Deadline | undefined
  /** When the last walk started (ms since epoch), and the timer of the next one. */
  #lastWalk = -Infinity
  #walkTimer: TimerHandle | undefined

  readonly #onReachability = (evt: CustomEvent<ReachabilityUpdate>): void => {
    const wasPrivate = this.#private
    this.#private = evt.detail.status === 'private'
    if (this.#private && !wasPrivate) void this.#fill()
    if (!this.#private && evt.detail.status === 'public' && this.#onlyWhenPrivate) this.#releaseAll('we are publicly reachable')
  }

  readonly #onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    if (evt.detail.protocols.includes(HOP_PROTOCOL) && this.#relays.size < this.#want) void this.#fill()
  }

  readonly #onReservation = (evt: CustomEvent<RelayReservationEvent>): void => {
    if (evt.detail.status !== 'lost') return
    const key = evt.detail.relay.toString()
    const addr = this.#relays.get(key)
    if (addr === undefined) return
    this.#fail(key, addr, 'it dropped our reservation')
    void this.#fill()
  }

  constructor (components: AutoRelayComponents, reservations: ReservationManager, options: AutoRelayOptions = {}) {
    this.#components = components
    this.#reservations = reservations
    this.#want = options.reservations ?? DEFAULT_AUTO_RELAY_RESERVATIONS
    this.#onlyWhenPrivate = options.onlyWhenPrivate ?? true
    this.#cooldown = options.failureCooldown ?? DEFAULT_FAILURE_COOLDOWN
    this.#discoveryInterval = options.discoveryInterval ?? DEFAULT_DISCOVERY_INTERVAL
    this.#discoveryTimeout = options.discoveryTimeout ?? DEFAULT_DISCOVERY_TIMEOUT
    this.#log = components.logger('relay:auto')
  }

  /** Starts looking (when reachability allows); resolves after the first round of attempts. */
  async listen (): Promise<void> {
    if (this.#listening) return
    this.#listening = true
    const events = this.#components.events
    events.addEventListener('reachability', this.#onReachability)
    events.addEventListener('peer:identify', this.#onIdentify)
    events.addEventListener('relay:reservation', this.#onReservation)
    await this.#fill()
  }

  close (): void {
    if (!this.#listening) return
    this.#listening = false
    const events = this.#components.events
    events.removeEventListener('reachability', this.#onReachability)
    events.removeEventListener('peer:identify', this.#onIdentify)
    events.removeEventListener('relay:reservation', this.#onReservation)
    this.#walk?.abort(new Error('auto-relay stopped'))
    if (this.#walkTimer !== undefined) clearTimeout(this.#walkTimer)
    this.#walkTimer = undefined
    this.#releaseAll('auto-relay stopped')
  }

  /** Our circuit addresses on the auto relays. */
  getAddrs (): Multiaddr[] {
    return [...this.#relays.values()].flatMap(a => this.#reservations.circuitAddrsOf(a))
  }

  /** Relays we currently reserve on (or try to). */
  get relays (): string[] {
    return [...this.#relays.keys()]
  }

  #active (): boolean {
    return this.#listening && (this.#private || !this.#onlyWhenPrivate)
  }

  async #fill (): Promise<void> {
    if (this.#filling) {
      this.#fillAgain = true
      return
    }
    this.#filling = true
    try {
      do {
        this.#fillAgain = false
        await this.#fillOnce()
      } while (this.#fillAgain && this.#active())
    } catch (err) {
      this.#log('looking for relays failed: %s', err)
    } finally {
      this.#filling = false
    }
  }

  async #fillOnce (): Promise<void> {
    if (!this.#active() || this.#relays.size >= this.#want) return
    const now = Date.now()
    const taken = new Set(this.#reservations.relayAddrs().map(a => a.toString()))
    const candidates = await this.#components.peerStore.all({
      filter: peer => peer.protocols.includes(HOP_PROTOCOL) && !peer.id.equals(this.#components.peerId)
    })
    for (const peer of candidates) {
      if (!this.#active() || this.#relays.size >= this.#want) return
      const key = peer.id.toString()
      if (this.#relays.has(key) || (this.#failed.get(key) ?? 0) > now) continue
      const addr = multiaddr(`/p2p/${key}`)
      if (taken.has(addr.toString()) || this.#configured(peer.id)) continue
      this.#relays.set(key, addr)
      this.#log('reserving on relay %s', key)
      await this.#reservations.add(addr)
      if (this.#reservations.circuitAddrsOf(addr).length === 0 && this.#relays.get(key) === addr) {
        this.#fail(key, addr, 'the reservation failed')
      }
    }
    if (this.#active() && this.#relays.size < this.#want) this.#scheduleWalk()
  }

  /** A random walk soon: now if the last one is `discoveryInterval` old, else when it will be. */
  #scheduleWalk (): void {
    if (this.#components.peerRouting === undefined || this.#walk !== undefined || this.#walkTimer !== undefined) return
    const wait = Math.max(0, this.#lastWalk + this.#discoveryInterval - Date.now())
    this.#walkTimer = unrefTimeout(() => {
      this.#walkTimer = undefined
      void this.#randomWalk()
    }, wait)
  }

  /**
   * Looks up a random key: the lookup connects to the peers on its way, whose identify then
   * reaches #onIdentify (relays among them fill our reservations). The peers it returns are
   * connected too (the lookup asked them).
   */
  async #randomWalk (): Promise<void> {
    const routing = this.#components.peerRouting
    if (routing === undefined || !this.#active() || this.#relays.size >= this.#want) return
    this.#lastWalk = Date.now()
    const walk = new Deadline(this.#discoveryTimeout, undefined, 'the random walk for relays timed out')
    this.#walk = walk
    let met = 0
    try {
      const key = crypto.getRandomValues(new Uint8Array(32))
      this.#log('too few relays (%d of %d): a random walk of the DHT', this.#relays.size, this.#want)
      for await (const _peer of routing.getClosestPeers(key, { signal: walk.signal })) {
        met++
        if (!this.#active() || this.#relays.size >= this.#want) break
      }
    } catch (err) {
      this.#log('the random walk for relays failed: %s', (err as Error).message)
    } finally {
      walk.clear()
      this.#walk = undefined
    }
    this.#log('the random walk met %d peers', met)
    // identify of the peers met runs on; whatever it brings fills through #onIdentify
    if (this.#active() && this.#relays.size < this.#want) void this.#fill()
  }

  /** True when a configured listen address already reserves on this relay. */
  #configured (relay: PeerId): boolean {
    return this.#reservations.relays().some(r => r.equals(relay)) && !this.#relays.has(relay.toString())
  }

  #fail (key: string, addr: Multiaddr, why: string): void {
    this.#log('relay %s failed us (%s): trying another', key, why)
    this.#relays.delete(key)
    this.#failed.set(key, Date.now() + this.#cooldown)
    this.#reservations.remove(addr)
  }

  #releaseAll (why: string): void {
    if (this.#relays.size === 0) return
    this.#log('releasing %d auto relays: %s', this.#relays.size, why)
    const addrs = [...this.#relays.values()]
    this.#relays.clear()
    for (const addr of addrs) this.#reservations.remove(addr)
  }
}
