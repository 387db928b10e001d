/**
 * Our reservations on relays (the client side of RESERVE), one entry per relay we listen on:
 *
 * - The first attempt runs when the relay is added; a relay that is down, refuses or answers
 *   badly is retried with exponential backoff, never an error thrown at the node's start.
 * - A reservation is refreshed before it ends (5 min before, or halfway for short ones). The
 *   old reservation and its address stay until it really expires, so a refresh that fails or
 *   is slow leaves no gap in the advertised address; failed refreshes are retried meanwhile.
 * - A reservation lives only as long as the connection to its relay: when the relay
 *   disconnects the reservation is lost (event, address withdrawn) and remade as soon as the
 *   relay is reachable again: at once when it reconnects, else by the backoff's dials.
 * - Every timer goes through unrefLongTimeout, so a relay granting a far-future expiry does
 *   not overflow setTimeout into an immediate refresh loop.
 * - The relay is tagged `keep-alive-circuit-relay` in the peer store while we hold a
 *   reservation, so connection pruning does not cut the connection the reservation lives on.
 *
 * Changes are reported as `relay:reservation` node events and through `onChange` (the
 * transport's listening addresses changed).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { NodeComponents } from '../interface/components.ts'
import type { Logger } from '../interface/logger.ts'
import type { PeerId } from '../interface/peer-id.ts'
import { peerIdFromString } from '../peer/peer-id.ts'
import { withDeadline } from '../util/deadline.ts'
import { ConnectionDeniedError, ServiceStoppedError } from '../util/errors.ts'
import { isRelayed, peerIdStringOf, withoutPeerId } from '../util/multiaddr.ts'
import { unrefLongTimeout } from '../util/timers.ts'
import type { LongTimeout } from '../util/timers.ts'
import { reserve } from './hop-client.ts'
import type { ReservationGrant } from './hop-client.ts'

export const RELAY_KEEP_ALIVE_TAG = 'keep-alive-circuit-relay'
export const DEFAULT_RESERVE_TIMEOUT = 30_000
export const DEFAULT_RETRY_INITIAL = 1_000
export const DEFAULT_RETRY_MAX = 5 * 60_000
/** Refresh this long before expiry (js-libp2p's margin), or halfway for shorter reservations. */
export const REFRESH_MARGIN = 5 * 60_000

export interface ReservationOptions {
  /** Bound on dialing the relay plus the RESERVE exchange, in ms (default 30 s). */
  reserveTimeout?: number
  /** First retry delay after a failure, in ms (default 1 s); doubles up to `retryMax`. */
  retryInitial?: number
  /** Longest retry delay, in ms (default 5 min). */
  retryMax?: number
}

export type ReservationComponents = Pick<NodeComponents, 'peerId' | 'connectionManager' | 'peerStore' | 'events' | 'logger'>

interface RelayEntry {
  /** The relay's address as given (without /p2p-circuit); may be just /p2p/<relay>. */
  readonly relayAddr: Multiaddr
  relayPeer: PeerId | undefined
  grant: ReservationGrant | undefined
  failures: number
  timer: LongTimeout | undefined
  running: Promise<void> | undefined
  removed: boolean
}

export class ReservationManager {
  readonly #components: ReservationComponents
  readonly #options: Required<ReservationOptions>
  readonly #onChange: () => void
  readonly #log: Logger
  readonly #entries = new Map<string, RelayEntry>()
  #shutdown = new AbortController()
  #listening = false
  readonly #onConnect = (evt: CustomEvent<PeerId>): void => {
    for (const entry of this.#entries.values()) {
      if (entry.grant === undefined && entry.relayPeer?.equals(evt.detail) === true) {
        this.#log('relay %s reconnected: reserving again', evt.detail)
        entry.failures = 0
        this.#runSoon(entry)
      }
    }
  }

  readonly #onDisconnect = (evt: CustomEvent<PeerId>): void => {
    for (const entry of this.#entries.values()) {
      if (entry.relayPeer?.equals(evt.detail) !== true) continue
      if (entry.grant !== undefined) this.#lose(entry, 'the relay disconnected')
      entry.failures = Math.max(entry.failures, 1)
      this.#schedule(entry)
    }
  }

  constructor (components: ReservationComponents, onChange: () => void, options: ReservationOptions = {}) {
    this.#components = components
    this.#onChange = onChange
    this.#log = components.logger('relay:reservations')
    this.#options = {
      reserveTimeout: options.reserveTimeout ?? DEFAULT_RESERVE_TIMEOUT,
      retryInitial: options.retryInitial ?? DEFAULT_RETRY_INITIAL,
      retryMax: options.retryMax ?? DEFAULT_RETRY_MAX
    }
  }

  start (): void {
    if (this.#listening) return
    this.#listening = true
    if (this.#shutdown.signal.aborted) this.#shutdown = new AbortController()
    this.#components.events.addEventListener('peer:connect', this.#onConnect)
    this.#components.events.addEventListener('peer:disconnect', this.#onDisconnect)
  }

  stop (): void {
    if (!this.#listening) return
    this.#listening = false
    this.#components.events.removeEventListener('peer:connect', this.#onConnect)
    this.#components.events.removeEventListener('peer:disconnect', this.#onDisconnect)
    this.#shutdown.abort(new ServiceStoppedError('the relay transport stopped'))
    for (const entry of [...this.#entries.values()]) this.#drop(entry)
  }

  /** Starts reserving on `relayAddr`; resolves after the first attempt, whatever its outcome. */
  async add (relayAddr: Multiaddr): Promise<void> {
    const key = relayAddr.toString()
    if (this.#entries.has(key)) return await this.#entries.get(key)?.running
    const relayId = peerIdStringOf(relayAddr)
    const entry: RelayEntry = {
      relayAddr,
      relayPeer: relayId === undefined ? undefined : peerIdFromString(relayId),
      grant: undefined,
      failures: 0,
      timer: undefined,
      running: undefined,
      removed: false
    }
    this.#entries.set(key, entry)
    await this.#run(entry)
  }

  /** Stops reserving on `relayAddr` and withdraws its addresses. */
  remove (relayAddr: Multiaddr): void {
    const entry = this.#entries.get(relayAddr.toString())
    if (entry !== undefined) this.#drop(entry)
  }

  /** Relays we currently hold a live reservation on. */
  relays (): PeerId[] {
    const now = Date.now()
    return [...this.#entries.values()].filter(e => e.grant !== undefined && e.grant.expires > now).map(e => e.grant!.relay)
  }

  /** Relay addresses being reserved on (with or without a live reservation). */
  relayAddrs (): Multiaddr[] {
    return [...this.#entries.values()].map(e => e.relayAddr)
  }

  /** Our circuit listening addresses on one relay address entry (`<relay addr>/p2p/<relay>/p2p-circuit`). */
  circuitAddrsOf (relayAddr: Multiaddr): Multiaddr[] {
    const entry = this.#entries.get(relayAddr.toString())
    const grant = entry?.grant
    if (grant === undefined || grant.expires <= Date.now()) return []
    // A relay may offer no address it thinks we can use (go offers only public ones by
    // default); the address we reached it at then stands in, when it is more than /p2p/<id>.
    const relayAddrs = grant.relayAddrs.length > 0 || entry!.relayAddr.getComponents().length < 2
      ? grant.relayAddrs
      : [withoutPeerId(entry!.relayAddr).encapsulate(`/p2p/${grant.relay.toString()}`)]
    return relayAddrs.map(a => a.encapsulate('/p2p-circuit'))
  }

  #drop (entry: RelayEntry): void {
    entry.removed = true
    entry.timer?.cancel()
    entry.timer = undefined
    this.#entries.delete(entry.relayAddr.toString())
    if (entry.grant !== undefined) this.#lose(entry, 'no longer listening on the relay')
  }

  #runSoon (entry: RelayEntry): void {
    entry.timer?.cancel()
    entry.timer = unrefLongTimeout(() => { void this.#run(entry) }, 0)
  }

  async #run (entry: RelayEntry): Promise<void> {
    if (entry.running !== undefined) return await entry.running
    entry.timer?.cancel()
    entry.timer = undefined
    entry.running = this.#attempt(entry).finally(() => {
      entry.running = undefined
      if (!entry.removed && this.#listening) this.#schedule(entry)
    })
    return await entry.running
  }

  async #attempt (entry: RelayEntry): Promise<void> {
    if (entry.removed || !this.#listening) return
    try {
      const grant = await withDeadline(this.#options.reserveTimeout, this.#shutdown.signal, `reserving on ${entry.relayAddr.toString()} timed out`, async (signal) => {
        const target = entry.relayPeer !== undefined && entry.relayAddr.getComponents().length === 1 ? entry.relayPeer : entry.relayAddr
        const connection = await this.#components.connectionManager.openConnection(target, { signal })
        if (isRelayed(connection.remoteAddr)) throw new ConnectionDeniedError('a relay reached through another relay cannot hold our reservation')
        entry.relayPeer = connection.remotePeer
        return await reserve(connection, { self: this.#components.peerId, signal })
      })
      if (entry.removed || !this.#listening) return
      const renewed = entry.grant !== undefined
      entry.grant = grant
      entry.failures = 0
      this.#log('%s on %s until %s', renewed ? 'refreshed' : 'reserved', grant.relay, new Date(grant.expires).toISOString())
      await this.#components.peerStore.merge(grant.relay, { tags: { [RELAY_KEEP_ALIVE_TAG]: { value: 1 } } }).catch(err => {
        this.#log('could not tag relay %s: %s', grant.relay, err)
      })
      this.#emit(entry, renewed ? 'refreshed' : 'reserved')
      this.#onChange()
    } catch (err) {
      entry.failures++
      this.#log('reservation on %s failed (%d in a row): %s', entry.relayAddr, entry.failures, err)
    }
  }

  /** Arms the entry's next action: refresh, retry, or the end of a reservation not refreshed in time. */
  #schedule (entry: RelayEntry): void {
    entry.timer?.cancel()
    const now = Date.now()
    const grant = entry.grant
    let at: number
    if (grant !== undefined && entry.failures === 0) {
      const left = grant.expires - now
      at = grant.expires - Math.min(REFRESH_MARGIN, left / 2)
    } else {
      const backoff = Math.min(this.#options.retryMax, this.#options.retryInitial * 2 ** Math.max(0, entry.failures - 1))
      at = now + backoff
      // A reservation still valid is kept until it really ends, even while refreshes fail.
      if (grant !== undefined && grant.expires < at) at = grant.expires
    }
    entry.timer = unrefLongTimeout(() => {
      entry.timer = undefined
      if (entry.grant !== undefined && entry.grant.expires <= Date.now()) this.#lose(entry, 'it expired before a refresh succeeded')
      void this.#run(entry)
    }, Math.max(0, at - now))
  }

  #lose (entry: RelayEntry, why: string): void {
    const grant = entry.grant
    if (grant === undefined) return
    entry.grant = undefined
    this.#log('reservation on %s lost: %s', grant.relay, why)
    this.#components.peerStore.merge(grant.relay, { tags: { [RELAY_KEEP_ALIVE_TAG]: undefined } }).catch(() => {})
    this.#components.events.safeDispatch('relay:reservation', { relay: grant.relay, status: 'lost', addrs: [], expires: 0 })
    this.#onChange()
  }

  #emit (entry: RelayEntry, status: 'reserved' | 'refreshed'): void {
    const grant = entry.grant!
    const suffix = `/p2p/${this.#components.peerId.toString()}`
    const addrs = this.circuitAddrsOf(entry.relayAddr).map(a => a.encapsulate(suffix))
    this.#components.events.safeDispatch('relay:reservation', { relay: grant.relay, status, addrs, expires: grant.expires })
  }
}
