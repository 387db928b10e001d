/**
 * The address manager: which addresses we listen on (configuration), which we tell peers about
 * (bound listener addresses, or the configured announce list, plus observed addresses that
 * several peers confirmed, minus noAnnounce), always ending in /p2p/<our id>.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AddressManager } from '../interface/address-manager.ts'
import type { PeerId } from '../interface/peer-id.ts'
import { withoutPeerId } from '../util/multiaddr.ts'

export interface AddressesConfig {
  /** Addresses to listen on, e.g. '/ip4/0.0.0.0/tcp/0'. */
  listen?: Array<string | Multiaddr>
  /** When set, announced instead of the bound listener addresses. */
  announce?: Array<string | Multiaddr>
  /** Never announced (matched without /p2p). */
  noAnnounce?: Array<string | Multiaddr>
  /** Announced in addition to the others. */
  appendAnnounce?: Array<string | Multiaddr>
}

export interface AddressManagerInit extends AddressesConfig {
  peerId: PeerId
  /** The addresses listeners are bound to (wildcards already expanded by the transport). */
  getBoundAddrs(): Multiaddr[]
  /** Called when the announced set may have changed. */
  onChange?(): void
  /** How many distinct peers must report an observed address before we announce it (default 2). */
  observedConfirmations?: number
  /** Observed addresses remembered at most (default 32); the oldest are forgotten first. */
  maxObservedAddrs?: number
}

interface Observation {
  addr: Multiaddr
  reporters: Set<string>
}

/** Reporters remembered per observed address; past this, more confirmations add nothing. */
const MAX_REPORTERS = 8

const toMultiaddr = (a: string | Multiaddr): Multiaddr => typeof a === 'string' ? multiaddr(a) : a

export class DefaultAddressManager implements AddressManager {
  readonly #init: AddressManagerInit
  readonly #listen: Multiaddr[]
  readonly #announce: Multiaddr[]
  readonly #appendAnnounce: Multiaddr[]
  readonly #noAnnounce: Set<string>
  readonly #observed = new Map<string, Observation>()
  readonly #peerSuffix: string

  constructor (init: AddressManagerInit) {
    this.#init = init
    this.#listen = (init.listen ?? []).map(toMultiaddr)
    this.#announce = (init.announce ?? []).map(toMultiaddr)
    this.#appendAnnounce = (init.appendAnnounce ?? []).map(toMultiaddr)
    this.#noAnnounce = new Set((init.noAnnounce ?? []).map(a => withoutPeerId(toMultiaddr(a)).toString()))
    this.#peerSuffix = `/p2p/${init.peerId.toString()}`
  }

  getListenAddrs (): Multiaddr[] {
    return [...this.#listen]
  }

  getAnnounceAddrs (): Multiaddr[] {
    return [...this.#announce]
  }

  /** Observed addresses and how many peers reported each. */
  getObservedAddrs (): Array<{ multiaddr: Multiaddr, confirmations: number }> {
    return [...this.#observed.values()].map(o => ({ multiaddr: o.addr, confirmations: o.reporters.size }))
  }

  addObservedAddr (addr: Multiaddr, reporter?: PeerId): void {
    const bare = withoutPeerId(addr)
    const key = bare.toString()
    let observation = this.#observed.get(key)
    const wasConfirmed = observation !== undefined && this.#isConfirmed(observation)
    if (observation === undefined) {
      const max = this.#init.maxObservedAddrs ?? 32
      if (this.#observed.size >= max) {
        const oldest = this.#observed.keys().next().value
        if (oldest !== undefined) this.#observed.delete(oldest)
      }
      observation = { addr: bare, reporters: new Set() }
    } else {
      // Re-insert so the map's order stays least-recently-seen first.
      this.#observed.delete(key)
    }
    this.#observed.set(key, observation)
    if (observation.reporters.size < MAX_REPORTERS) observation.reporters.add(reporter?.toString() ?? `anonymous-${observation.reporters.size}`)
    if (!wasConfirmed && this.#isConfirmed(observation)) this.#init.onChange?.()
  }

  removeObservedAddr (addr: Multiaddr): void {
    const observation = this.#observed.get(withoutPeerId(addr).toString())
    if (observation === undefined) return
    this.#observed.delete(withoutPeerId(addr).toString())
    if (this.#isConfirmed(observation)) this.#init.onChange?.()
  }

  #isConfirmed (o: Observation): boolean {
    return o.reporters.size >= (this.#init.observedConfirmations ?? 2)
  }

  getAddresses (): Multiaddr[] {
    const base = this.#announce.length > 0 ? this.#announce : this.#init.getBoundAddrs()
    const candidates = [...base, ...this.#appendAnnounce]
    for (const o of this.#observed.values()) if (this.#isConfirmed(o)) candidates.push(o.addr)
    const out: Multiaddr[] = []
    const seen = new Set<string>()
    for (const candidate of candidates) {
      const bare = withoutPeerId(candidate)
      const key = bare.toString()
      if (seen.has(key) || this.#noAnnounce.has(key)) continue
      seen.add(key)
      out.push(bare.encapsulate(this.#peerSuffix))
    }
    return out
  }
}
