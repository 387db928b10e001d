/**
 * The address manager: which addresses we listen on (configuration), which we tell peers about,
 * always ending in /p2p/<our id>.
 *
 * Announced: the bound listener addresses (or the configured announce list), appendAnnounce,
 * and external addresses that were CONFIRMED, minus noAnnounce. External addresses come from
 * two sources: observed addresses (./observed-addrs.ts: identify's observedAddr after enough
 * distinct observers) and candidates others add (`addCandidate(addr, 'upnp')` for a port
 * mapping). Neither is advertised on its word alone: a NAT's mapping may not accept inbound
 * connections, and a peer can lie. AutoNAT (or anything that dialed us back) confirms one with
 * `setAddrReachability(addr, 'public')`; 'private' withdraws it. `onChange` runs whenever the
 * announced list actually changes (the node turns it into one `self:peer:update`).
 *
 * What counts as public is decided in one place, util/multiaddr.ts's reachabilityOf, with the
 * extra ranges of `publicCidrs` (labs, private networks); `reachabilityOf` here applies them.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AddrReachability, AddressManager, AddressCandidate, ObservingConnection } from '../interface/address-manager.ts'
import type { PeerId } from '../interface/peer-id.ts'
import { parsePublicRanges, reachabilityOf, withoutPeerId } from '../util/multiaddr.ts'
import type { PublicRanges, Reachability } from '../util/multiaddr.ts'
import { ObservedAddrs } from './observed-addrs.ts'
import type { ObservedAddrsInit } from './observed-addrs.ts'

export interface AddressesConfig {
  /** Addresses to listen on, e.g. '/ip4/0.0.0.0/tcp/0'. */
  listen?: Array<string | Multiaddr>
  /** When set, announced instead of the bound listener addresses. */
  announce?: Array<string | Multiaddr>
  /** Never announced (matched without /p2p). */
  noAnnounce?: Array<string | Multiaddr>
  /** Announced in addition to the others. */
  appendAnnounce?: Array<string | Multiaddr>
  /**
   * IP ranges treated as public although the RFCs call them private or loopback (e.g.
   * '11.0.0.0/8' for a lab's internet, '127.0.0.0/8' for AutoNAT between local processes).
   */
  publicCidrs?: string[]
  /** Observed-address rules: distinct observers needed (default 4), bounds, TTL (./observed-addrs.ts). */
  observed?: Omit<ObservedAddrsInit, 'getListenAddrs' | 'now'>
}

export interface AddressManagerInit extends AddressesConfig {
  peerId: PeerId
  /** The addresses listeners are bound to (wildcards already expanded by the transport). */
  getBoundAddrs(): Multiaddr[]
  /** Called when the announced set changed. */
  onChange?(): void
  /** Candidates added with addCandidate kept at most (default 16); the oldest go first. */
  maxCandidates?: number
  /** The clock (tests use a fake one). */
  now?(): number
}

interface Verdict {
  status: Exclude<AddrReachability, 'unknown'>
  at: number
}

/** Verdicts kept at most; those of addresses that are no longer candidates go first. */
const MAX_VERDICTS = 64

const toMultiaddr = (a: string | Multiaddr): Multiaddr => typeof a === 'string' ? multiaddr(a) : a

export class DefaultAddressManager implements AddressManager {
  readonly #init: AddressManagerInit
  readonly #listen: Multiaddr[]
  readonly #announce: Multiaddr[]
  readonly #appendAnnounce: Multiaddr[]
  readonly #noAnnounce: Set<string>
  readonly #peerSuffix: string
  readonly #publicRanges: PublicRanges
  readonly #observed: ObservedAddrs
  /** addCandidate's addresses by string, oldest first. */
  readonly #candidates = new Map<string, { addr: Multiaddr, source: string }>()
  /** What AutoNAT (or another prover) last said about an address, by string. */
  readonly #verdicts = new Map<string, Verdict>()
  readonly #now: () => number
  /** The confirmed external addresses when onChange last ran, to report only real changes. */
  #lastConfirmed = ''

  constructor (init: AddressManagerInit) {
    this.#init = init
    this.#listen = (init.listen ?? []).map(toMultiaddr)
    this.#announce = (init.announce ?? []).map(toMultiaddr)
    this.#appendAnnounce = (init.appendAnnounce ?? []).map(toMultiaddr)
    this.#noAnnounce = new Set((init.noAnnounce ?? []).map(a => withoutPeerId(toMultiaddr(a)).toString()))
    this.#peerSuffix = `/p2p/${init.peerId.toString()}`
    this.#publicRanges = parsePublicRanges(init.publicCidrs)
    this.#now = init.now ?? Date.now
    this.#observed = new ObservedAddrs({ ...init.observed, getListenAddrs: () => init.getBoundAddrs(), now: this.#now })
  }

  getListenAddrs (): Multiaddr[] {
    return [...this.#listen]
  }

  getAnnounceAddrs (): Multiaddr[] {
    return [...this.#announce]
  }

  /** The extra ranges counted as public (from `publicCidrs`). */
  get publicRanges (): PublicRanges {
    return this.#publicRanges
  }

  reachabilityOf (addr: Multiaddr): Reachability {
    return reachabilityOf(addr, this.#publicRanges)
  }

  /** Every tracked observed address and how many distinct observer groups reported it. */
  getObservedAddrs (): Array<{ multiaddr: Multiaddr, observers: number }> {
    return this.#observed.all()
  }

  addObservedAddr (addr: Multiaddr, connection?: ObservingConnection): void {
    if (connection === undefined) return
    if (this.#observed.record(withoutPeerId(addr), connection)) this.#checkChange()
  }

  removeObservedAddr (addr: Multiaddr): void {
    this.#observed.remove(addr)
    this.#checkChange()
  }

  addCandidate (addr: Multiaddr, source: string): void {
    const bare = withoutPeerId(addr)
    const key = bare.toString()
    this.#candidates.delete(key)
    if (this.#candidates.size >= (this.#init.maxCandidates ?? 16)) {
      const oldest = this.#candidates.keys().next().value
      if (oldest !== undefined) this.#candidates.delete(oldest)
    }
    this.#candidates.set(key, { addr: bare, source })
    this.#checkChange()
  }

  removeCandidate (addr: Multiaddr): void {
    const key = withoutPeerId(addr).toString()
    if (!this.#candidates.delete(key)) return
    this.#verdicts.delete(key)
    this.#checkChange()
  }

  getCandidates (): AddressCandidate[] {
    const out: AddressCandidate[] = []
    const seen = new Set<string>()
    const push = (addr: Multiaddr, source: string): void => {
      const key = addr.toString()
      if (seen.has(key)) return
      seen.add(key)
      out.push({ multiaddr: addr, source, reachability: this.#verdicts.get(key)?.status ?? 'unknown' })
    }
    for (const addr of this.#init.getBoundAddrs()) {
      const bare = withoutPeerId(addr)
      // Loopback and private listen addresses are reachable where they are meant to be; only
      // ones that claim to be public need proof.
      if (this.reachabilityOf(bare) === 'public') push(bare, 'listen')
    }
    for (const addr of this.#observed.candidates()) push(addr, 'observed')
    for (const { addr, source } of this.#candidates.values()) push(addr, source)
    return out
  }

  setAddrReachability (addr: Multiaddr, status: AddrReachability): void {
    const key = withoutPeerId(addr).toString()
    if (status === 'unknown') {
      this.#verdicts.delete(key)
    } else {
      this.#verdicts.delete(key)
      if (this.#verdicts.size >= MAX_VERDICTS) this.#dropOneVerdict()
      this.#verdicts.set(key, { status, at: this.#now() })
    }
    this.#checkChange()
  }

  getAddrReachability (addr: Multiaddr): AddrReachability {
    return this.#verdicts.get(withoutPeerId(addr).toString())?.status ?? 'unknown'
  }

  /** Makes room for a verdict: one about a non-candidate goes first, else the oldest. */
  #dropOneVerdict (): void {
    const current = new Set(this.getCandidates().map(c => c.multiaddr.toString()))
    for (const key of this.#verdicts.keys()) {
      if (!current.has(key)) { this.#verdicts.delete(key); return }
    }
    const oldest = this.#verdicts.keys().next().value
    if (oldest !== undefined) this.#verdicts.delete(oldest)
  }

  getAddresses (): Multiaddr[] {
    const base = this.#announce.length > 0 ? this.#announce : this.#init.getBoundAddrs()
    const out: Multiaddr[] = []
    const seen = new Set<string>()
    for (const candidate of [...base, ...this.#appendAnnounce, ...this.#confirmedExternal()]) {
      const bare = withoutPeerId(candidate)
      const key = bare.toString()
      if (seen.has(key) || this.#noAnnounce.has(key)) continue
      seen.add(key)
      out.push(bare.encapsulate(this.#peerSuffix))
    }
    return out
  }

  /** External (observed or added) candidates proven public. */
  #confirmedExternal (): Multiaddr[] {
    return this.getCandidates().filter(c => c.source !== 'listen' && c.reachability === 'public').map(c => c.multiaddr)
  }

  /**
   * Runs onChange when the confirmed external addresses changed (changes of the bound
   * listener addresses are reported by the transport manager).
   */
  #checkChange (): void {
    const now = this.#confirmedExternal().map(String).join(' ')
    if (now === this.#lastConfirmed) return
    this.#lastConfirmed = now
    this.#init.onChange?.()
  }
}
