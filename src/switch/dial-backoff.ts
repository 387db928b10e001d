/**
 * Dial backoff per peer and address: an address of a peer that failed to connect is not tried
 * again for a while (5 s, doubling with each further failure up to 5 min), so automatic dials
 * (minConnections, the DHT, discovery) neither hammer a dead address nor spend a dial slot on
 * it each time. A success with the peer forgets its backoffs. Only dials that take their
 * addresses from the peer store are held back; an address the caller names is always tried.
 */
import { Libp2pError } from '../util/errors.ts'

export const DEFAULT_DIAL_BACKOFF = 5_000
export const DEFAULT_MAX_DIAL_BACKOFF = 300_000

/** Peers tracked at most; the oldest entry goes first past this. */
const MAX_PEERS = 4096
/** Addresses tracked per peer at most (more than a dial considers). */
const MAX_ADDRS_PER_PEER = 64

interface Entry { until: number, failures: number }

export interface DialBackoffOptions {
  /** First backoff after a failed address, in ms (default 5 s; 0 turns backoff off). */
  dialBackoff?: number
  /** Longest backoff, in ms (default 5 min). */
  maxDialBackoff?: number
}

/** The address is in backoff; the DialError lists it with this. */
export class DialBackoffError extends Libp2pError {
  static readonly code = 'ERR_DIAL_BACKOFF'
  readonly until: number

  constructor (until: number) {
    super(`in dial backoff for another ${Math.max(0, until - Date.now())} ms after failing`, DialBackoffError.code)
    this.name = 'DialBackoffError'
    this.until = until
  }
}

export class DialBackoff {
  readonly #base: number
  readonly #max: number
  readonly #peers = new Map<string, Map<string, Entry>>()

  constructor (options: DialBackoffOptions = {}) {
    this.#base = options.dialBackoff ?? DEFAULT_DIAL_BACKOFF
    this.#max = Math.max(this.#base, options.maxDialBackoff ?? DEFAULT_MAX_DIAL_BACKOFF)
  }

  /** Until when `addr` of `peer` is in backoff, or undefined when it may be dialed. */
  blockedUntil (peer: string, addr: string, now = Date.now()): number | undefined {
    const entry = this.#peers.get(peer)?.get(addr)
    return entry !== undefined && entry.until > now ? entry.until : undefined
  }

  failed (peer: string, addr: string, now = Date.now()): void {
    if (this.#base <= 0) return
    let addrs = this.#peers.get(peer)
    if (addrs === undefined) {
      if (this.#peers.size >= MAX_PEERS) this.#peers.delete(this.#peers.keys().next().value!)
      addrs = new Map()
      this.#peers.set(peer, addrs)
    }
    const failures = (addrs.get(addr)?.failures ?? 0) + 1
    if (!addrs.has(addr) && addrs.size >= MAX_ADDRS_PER_PEER) addrs.delete(addrs.keys().next().value!)
    addrs.set(addr, { failures, until: now + Math.min(this.#max, this.#base * 2 ** Math.min(failures - 1, 30)) })
  }

  /** Peers with an address in backoff (or out of it but not yet forgotten). */
  get size (): number { return this.#peers.size }

  /** The peer connected: forget its backoffs. */
  succeeded (peer: string): void {
    this.#peers.delete(peer)
  }
}
