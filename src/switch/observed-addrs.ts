/**
 * Observed addresses: what other peers tell us (identify's `observedAddr`) about the address
 * they see us at, turned into external address candidates.
 *
 * Rules (go-libp2p's, for the reasons its users found):
 * - Only the thin waist of an observation is trusted (`/ip4|ip6/<ip>/tcp|udp/<port>`): the
 *   IP and port a NAT chose. The rest of the protocol stack (`/ws`, `/quic-v1`, ...) comes
 *   from our own listen address the connection arrived on.
 * - Only connections whose local address is one of our listen addresses count: the port a NAT
 *   shows for an outgoing connection from an ephemeral port is useless to anyone dialing in.
 * - Relayed observations and port 0 are never used (go-libp2p 3057: `/tcp/0` was advertised).
 * - An address becomes a candidate only after `minObservers` distinct observers reported it,
 *   observers grouped by IPv4 address or IPv6 /56 (one host, or one home network, cannot make
 *   an address up by opening many connections or peer ids).
 * - At most `maxPerListenAddr` candidates per listen address (the most observed), at most
 *   `maxTracked` addresses tracked, at most `maxObserversPerAddr` observer groups each, and an
 *   observer's report expires after `observationTtl`: state stays bounded under any input.
 *
 * A candidate is not advertised by itself: the address manager waits for AutoNAT to confirm it.
 */
import { CODE_IP4, CODE_IP6, CODE_TCP, CODE_UDP, multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ObservingConnection } from '../interface/address-manager.ts'
import { parseIp, prefixKey } from '../util/ip.ts'
import { ipOf, isRelayed, isWildcardIp, withoutPeerId } from '../util/multiaddr.ts'


export interface ObservedAddrsInit {
  /** The addresses our listeners are bound to (wildcards expanded). */
  getListenAddrs(): Multiaddr[]
  /** Distinct observer groups needed before an address is a candidate (default 4, as go). */
  minObservers?: number
  /** Candidates kept per listen address, the most observed first (default 3, as go). */
  maxPerListenAddr?: number
  /** External addresses tracked at most; the least recently observed go first (default 64). */
  maxTracked?: number
  /** Observer groups remembered per address (default 16). */
  maxObserversPerAddr?: number
  /** An observer's report counts this long after it was last made, in ms (default 30 min). */
  observationTtl?: number
  /** The clock (tests use a fake one). */
  now?(): number
}

interface Tracked {
  /** The external address: observed thin waist + our listen address's upper protocols. */
  addr: Multiaddr
  /** Which listen address it maps to (its string). */
  listenKey: string
  /** Observer group -> when it last reported this address. */
  observers: Map<string, number>
}

export const DEFAULT_MIN_OBSERVERS = 4

export class ObservedAddrs {
  readonly #init: ObservedAddrsInit
  readonly #tracked = new Map<string, Tracked>()
  readonly #minObservers: number
  readonly #maxPerListenAddr: number
  readonly #maxTracked: number
  readonly #maxObserversPerAddr: number
  readonly #ttl: number
  readonly #now: () => number

  constructor (init: ObservedAddrsInit) {
    this.#init = init
    this.#minObservers = init.minObservers ?? DEFAULT_MIN_OBSERVERS
    this.#maxPerListenAddr = init.maxPerListenAddr ?? 3
    this.#maxTracked = init.maxTracked ?? 64
    this.#maxObserversPerAddr = init.maxObserversPerAddr ?? 16
    this.#ttl = init.observationTtl ?? 30 * 60_000
    this.#now = init.now ?? Date.now
  }

  /**
   * Records that the peer at `connection.remoteAddr` sees us at `observed`. Returns false when
   * the observation is not usable (relayed, port 0, not a thin-waist address, or the connection
   * did not arrive on a listen address).
   */
  record (observed: Multiaddr, connection: ObservingConnection): boolean {
    if (isRelayed(observed) || isRelayed(connection.remoteAddr)) return false
    const waist = thinWaist(observed)
    if (waist === undefined || waist.port === '0') return false
    const local = connection.localAddr
    if (local === undefined) return false
    const listen = this.#matchListenAddr(local)
    if (listen === undefined || listen.transport !== waist.transport) return false
    const group = observerGroup(connection.remoteAddr)
    if (group === undefined) return false

    const external = multiaddr(`/${waist.family}/${waist.ip}/${waist.transport}/${waist.port}${listen.upper}`)
    const key = external.toString()
    let tracked = this.#tracked.get(key)
    if (tracked === undefined) {
      if (this.#tracked.size >= this.#maxTracked) this.#evictOne()
      tracked = { addr: external, listenKey: listen.key, observers: new Map() }
    } else {
      // Re-insert: the map's order stays least recently observed first.
      this.#tracked.delete(key)
    }
    this.#tracked.set(key, tracked)
    const now = this.#now()
    if (tracked.observers.has(group) || tracked.observers.size < this.#maxObserversPerAddr) {
      tracked.observers.delete(group)
      tracked.observers.set(group, now)
    } else {
      // Full: the stalest observer makes room (its report is the least worth keeping).
      const stalest = tracked.observers.keys().next().value
      if (stalest !== undefined) tracked.observers.delete(stalest)
      tracked.observers.set(group, now)
    }
    return true
  }

  /** Forgets an address (e.g. AutoNAT proved it wrong and the caller wants it re-observed). */
  remove (addr: Multiaddr): void {
    this.#tracked.delete(withoutPeerId(addr).toString())
  }

  /** Every tracked address with its number of current observer groups. */
  all (): Array<{ multiaddr: Multiaddr, observers: number }> {
    this.#expire()
    return [...this.#tracked.values()].map(t => ({ multiaddr: t.addr, observers: t.observers.size }))
  }

  /** The candidates: enough observers, at most `maxPerListenAddr` per listen address. */
  candidates (): Multiaddr[] {
    this.#expire()
    const byListen = new Map<string, Tracked[]>()
    for (const t of this.#tracked.values()) {
      if (t.observers.size < this.#minObservers) continue
      let list = byListen.get(t.listenKey)
      if (list === undefined) byListen.set(t.listenKey, list = [])
      list.push(t)
    }
    const out: Multiaddr[] = []
    for (const list of byListen.values()) {
      list.sort((a, b) => b.observers.size - a.observers.size)
      for (const t of list.slice(0, this.#maxPerListenAddr)) out.push(t.addr)
    }
    return out
  }

  /** Drops observer reports older than the TTL, and addresses nobody observes any more. */
  #expire (): void {
    const oldest = this.#now() - this.#ttl
    for (const [key, t] of this.#tracked) {
      for (const [group, at] of t.observers) {
        if (at < oldest) t.observers.delete(group)
      }
      if (t.observers.size === 0) this.#tracked.delete(key)
    }
  }

  /** Makes room: the least observed address goes, the least recently observed among equals. */
  #evictOne (): void {
    let victim: string | undefined
    let fewest = Infinity
    for (const [key, t] of this.#tracked) {
      if (t.observers.size < fewest) { fewest = t.observers.size; victim = key }
    }
    if (victim !== undefined) this.#tracked.delete(victim)
  }

  /** The bound listen address our end of a connection is, by thin waist and upper protocols. */
  #matchListenAddr (local: Multiaddr): { key: string, transport: string, upper: string } | undefined {
    const localWaist = thinWaist(local)
    if (localWaist === undefined) return undefined
    const localUpper = upperProtocols(withoutPeerId(local))
    for (const listen of this.#init.getListenAddrs()) {
      const waist = thinWaist(listen)
      if (waist === undefined || waist.family !== localWaist.family || waist.transport !== localWaist.transport || waist.port !== localWaist.port) continue
      if (waist.ip !== localWaist.ip && !isWildcardIp(waist.ip)) continue
      const upper = upperProtocols(withoutPeerId(listen))
      // A listener's upper protocols may carry more than the connection's local address shows
      // (e.g. a certhash); the connection's own must be a prefix of them.
      if (!upper.startsWith(localUpper)) continue
      return { key: withoutPeerId(listen).toString(), transport: waist.transport, upper }
    }
    return undefined
  }
}

interface ThinWaist { family: 'ip4' | 'ip6', ip: string, transport: 'tcp' | 'udp', port: string }

/** The `/ip4|ip6/<ip>/tcp|udp/<port>` start of an address, or undefined if it has none. */
export function thinWaist (addr: Multiaddr): ThinWaist | undefined {
  const [host, transport] = addr.getComponents()
  if (host === undefined || transport === undefined || host.value === undefined || transport.value === undefined) return undefined
  if (host.code !== CODE_IP4 && host.code !== CODE_IP6) return undefined
  if (transport.code !== CODE_TCP && transport.code !== CODE_UDP) return undefined
  return {
    family: host.code === CODE_IP4 ? 'ip4' : 'ip6',
    ip: host.value,
    transport: transport.code === CODE_TCP ? 'tcp' : 'udp',
    port: transport.value
  }
}

/** The part of an address after its thin waist, as text (`/ws`, `/quic-v1`, or ''). */
function upperProtocols (addr: Multiaddr): string {
  const components = addr.getComponents().slice(2)
  return components.map(c => c.value === undefined ? `/${c.name}` : `/${c.name}/${c.value}`).join('')
}

/**
 * The observer's group: its IPv4 address, or its IPv6 /56 (one home network usually gets a
 * /56 or /48, so its hosts count once). Undefined when the address carries no IP.
 */
export function observerGroup (remoteAddr: Multiaddr): string | undefined {
  const ip = ipOf(remoteAddr)
  if (ip === undefined) return undefined
  const bytes = parseIp(ip)
  if (bytes === undefined) return undefined
  return bytes.length === 4 ? prefixKey(bytes, 32) : prefixKey(bytes, 56)
}
