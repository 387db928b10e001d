/**
 * Inbound admission: which accepted sockets may start a handshake, and the table of handshakes
 * in progress.
 *
 * A handshake costs the node a socket, a timer and crypto state until it finishes or its
 * deadline cuts it, so a peer that opens sockets and stays silent (or sends one byte a second)
 * could hold every handshake slot for the whole deadline and lock honest peers out. Three rules
 * keep the table honest:
 *
 * - per host: at most `inboundConnectionThreshold` new sockets a second;
 * - per address (IPv4 /32, IPv6 /64) and, for public addresses, per subnet (/24, /48): at
 *   most a few handshakes pending at once, so one address or range cannot fill the table
 *   (private and link-local ranges are counted per address only, as the resource manager
 *   does: a LAN puts many honest peers in one subnet);
 * - when the table is full, the oldest pending handshake is evicted for the newcomer once it
 *   has been pending longer than an honest handshake takes (`pendingEvictionAge`, 500 ms:
 *   a Noise handshake and the muxer round are about two round trips). While the oldest is
 *   younger than that (a burst of handshakes, honest or not) the newcomer waits, unread, in a
 *   queue as long as the table, and is admitted when a place frees or the oldest may be
 *   evicted; only when the queue is full too is it refused. Evicting the oldest keeps a
 *   newcomer safe longest, so an honest handshake finishes even while a flood churns.
 *
 * Hosts on the allow list skip all three. Loopback addresses skip the rate and the per-address
 * rules unless `limitLoopback`: every local process shares 127.0.0.1, tests and local tools
 * (doctor, benchmarks, a daemon's clients) dial it in bursts, and a flood from loopback comes
 * from someone already on the machine. They still count against the table and its queue.
 */
import type { RawConnection } from '../interface/transport.ts'
import { ConnectionDeniedError } from '../util/errors.ts'
import { isLoopbackBytes, parseIp, prefixKey } from '../util/ip.ts'
import { ipOf, isLanIpBytes, isRelayed } from '../util/multiaddr.ts'
import { unrefTimeout } from '../util/timers.ts'

export const DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS = 32
export const DEFAULT_MAX_PENDING_PER_ADDRESS = 4
export const DEFAULT_MAX_PENDING_PER_SUBNET = 16
export const DEFAULT_PENDING_EVICTION_AGE = 500
export const DEFAULT_INBOUND_CONNECTION_THRESHOLD = 5

export interface InboundAdmissionOptions {
  /** Inbound handshakes in progress at once (default 32); past it the oldest is evicted or the newcomer refused. */
  maxIncomingPendingConnections?: number
  /** Handshakes pending at once from one IPv4 address or IPv6 /64 (default 4). */
  maxPendingPerAddress?: number
  /** Handshakes pending at once from one IPv4 /24 or IPv6 /48 (default 16). */
  maxPendingPerSubnet?: number
  /** A pending handshake this old (ms) may be evicted for a newcomer when the table is full (default 500 ms). */
  pendingEvictionAge?: number
  /** Inbound connections accepted per second from one host (default 5). */
  inboundConnectionThreshold?: number
  /** Hosts (IP strings) exempt from every admission rule. */
  allow?: string[]
  /** Apply the per-address rules to loopback addresses too (default false). */
  limitLoopback?: boolean
  /** Apply the per-subnet rule to private and link-local addresses too (default false). */
  limitPrivateSubnets?: boolean
}

/** One handshake in the table; `signal` aborts when it is evicted or the node stops. */
export interface PendingHandshake {
  readonly signal: AbortSignal
  /** Takes it out of the table (the upgrade finished either way). Idempotent. */
  done(): void
}

interface Entry {
  readonly controller: AbortController
  readonly started: number
  readonly address?: string
  readonly subnet?: string
}

interface Waiter {
  readonly onAdmitted: (handshake: PendingHandshake) => void
  readonly address?: string
  readonly subnet?: string
}

interface RateWindow { start: number, count: number }

/** Hosts tracked for the rate rule at most; the map is reset when it grows past this. */
const MAX_RATE_HOSTS = 4096

export class InboundAdmission {
  readonly #options: InboundAdmissionOptions
  readonly #allow: Set<string>
  /** Insertion order is age order: the first entry is the oldest handshake. */
  readonly #pending = new Map<RawConnection, Entry>()
  /** Sockets waiting for a place, in arrival order; they count against their address's cap. */
  readonly #waiting = new Map<RawConnection, Waiter>()
  readonly #perKey = new Map<string, number>()
  readonly #rates = new Map<string, RateWindow>()
  #waitTimer: ReturnType<typeof setTimeout> | undefined

  constructor (options: InboundAdmissionOptions = {}) {
    this.#options = options
    this.#allow = new Set(options.allow ?? [])
  }

  /** Handshakes in progress. */
  get pending (): number { return this.#pending.size }

  /** Sockets waiting for a place in the table. */
  get waiting (): number { return this.#waiting.size }

  /**
   * Admits `raw` into the table now or later (`onAdmitted` runs then, at once or from a timer),
   * or returns why not (the caller refuses the socket).
   */
  admit (raw: RawConnection, onAdmitted: (handshake: PendingHandshake) => void, now = Date.now()): string | undefined {
    // A relayed connection comes from the relay's IP but from a peer of its own: it counts by
    // its circuit address (which names that peer), not against the relay's address.
    const host = isRelayed(raw.remoteAddr) ? raw.remoteAddr.toString() : ipOf(raw.remoteAddr) ?? raw.remoteAddr.toString()
    if (this.#allow.has(host)) {
      onAdmitted(this.#add(raw, now, undefined, undefined))
      return undefined
    }
    const ip = parseIp(host)
    const perHostRules = ip === undefined || this.#options.limitLoopback === true || !isLoopbackBytes(ip)
    const threshold = this.#options.inboundConnectionThreshold ?? DEFAULT_INBOUND_CONNECTION_THRESHOLD
    if (perHostRules && !this.#withinRate(host, now, threshold)) return `more than ${threshold} connections per second from ${host}`
    let address: string | undefined
    let subnet: string | undefined
    if (ip !== undefined && perHostRules) {
      address = prefixKey(ip, ip.length === 4 ? 32 : 64)
      if (this.#options.limitPrivateSubnets === true || !isLanIpBytes(ip)) subnet = prefixKey(ip, ip.length === 4 ? 24 : 48)
      const perAddress = this.#options.maxPendingPerAddress ?? DEFAULT_MAX_PENDING_PER_ADDRESS
      if ((this.#perKey.get(address) ?? 0) >= perAddress) return `${perAddress} handshakes already pending from ${host}`
      const perSubnet = this.#options.maxPendingPerSubnet ?? DEFAULT_MAX_PENDING_PER_SUBNET
      if (subnet !== undefined && (this.#perKey.get(subnet) ?? 0) >= perSubnet) return `${perSubnet} handshakes already pending from ${host}'s subnet`
    }
    if (this.#waiting.size === 0 && this.#makeRoom(now)) {
      this.#count(address, subnet, 1)
      onAdmitted(this.#add(raw, now, address, subnet))
      return undefined
    }
    const max = this.#max
    if (this.#waiting.size >= max) return `${max} inbound handshakes in progress and ${max} waiting`
    this.#count(address, subnet, 1)
    this.#waiting.set(raw, { onAdmitted, address, subnet })
    this.#scheduleWaiters(now)
    return undefined
  }

  get #max (): number {
    return this.#options.maxIncomingPendingConnections ?? DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS
  }

  /** True when the table has a place, evicting the oldest handshake if it may be. */
  #makeRoom (now: number): boolean {
    const max = this.#max
    if (this.#pending.size < max) return true
    const [oldestRaw, oldest] = this.#pending.entries().next().value!
    const age = now - oldest.started
    if (age < (this.#options.pendingEvictionAge ?? DEFAULT_PENDING_EVICTION_AGE)) return false
    this.#remove(oldestRaw)
    oldest.controller.abort(new ConnectionDeniedError(`evicted after ${age} ms: the oldest of ${max} pending inbound handshakes`))
    return true
  }

  /** Moves waiters into the table while there is room; re-arms the timer for the rest. */
  #admitWaiters (now = Date.now()): void {
    for (const [raw, waiter] of this.#waiting) {
      if (!this.#makeRoom(now)) break
      this.#waiting.delete(raw)
      waiter.onAdmitted(this.#add(raw, now, waiter.address, waiter.subnet))
    }
    if (this.#waiting.size > 0) this.#scheduleWaiters(now)
  }

  /** Wakes the queue when the oldest handshake becomes evictable. */
  #scheduleWaiters (now: number): void {
    if (this.#waitTimer !== undefined) return
    const oldest = this.#pending.values().next().value
    const due = oldest === undefined ? 0 : oldest.started + (this.#options.pendingEvictionAge ?? DEFAULT_PENDING_EVICTION_AGE) - now
    this.#waitTimer = unrefTimeout(() => {
      this.#waitTimer = undefined
      this.#admitWaiters()
    }, Math.max(1, due))
  }

  /** Aborts every pending handshake (the node stops). */
  abortAll (reason: Error): void {
    const entries = [...this.#pending.values()]
    const waiting = [...this.#waiting.keys()]
    this.#pending.clear()
    this.#waiting.clear()
    this.#perKey.clear()
    this.#rates.clear()
    if (this.#waitTimer !== undefined) clearTimeout(this.#waitTimer)
    this.#waitTimer = undefined
    for (const entry of entries) entry.controller.abort(reason)
    for (const raw of waiting) raw.abort(reason)
  }

  /** Puts `raw` in the table (its address and subnet were counted when it arrived). */
  #add (raw: RawConnection, now: number, address: string | undefined, subnet: string | undefined): PendingHandshake {
    const entry: Entry = { controller: new AbortController(), started: now, address, subnet }
    this.#pending.set(raw, entry)
    return {
      signal: entry.controller.signal,
      done: () => {
        if (this.#pending.get(raw) !== entry) return
        this.#remove(raw)
        if (this.#waiting.size > 0) this.#admitWaiters()
      }
    }
  }

  #remove (raw: RawConnection): void {
    const entry = this.#pending.get(raw)
    if (entry === undefined) return
    this.#pending.delete(raw)
    this.#count(entry.address, entry.subnet, -1)
  }

  #count (address: string | undefined, subnet: string | undefined, delta: 1 | -1): void {
    for (const key of [address, subnet]) {
      if (key === undefined) continue
      const n = (this.#perKey.get(key) ?? 0) + delta
      if (n <= 0) this.#perKey.delete(key)
      else this.#perKey.set(key, n)
    }
  }

  #withinRate (host: string, now: number, threshold: number): boolean {
    let window = this.#rates.get(host)
    if (window === undefined || now - window.start >= 1000) {
      if (window === undefined && this.#rates.size >= MAX_RATE_HOSTS) this.#rates.clear()
      window = { start: now, count: 0 }
      this.#rates.set(host, window)
    }
    return ++window.count <= threshold
  }
}
