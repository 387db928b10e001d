/**
 * The AutoNAT service: finds out whether others can dial us, per address (v2) and as a node
 * (v1), serves both protocols to others, and tells the node what it learned.
 *
 * What the user gets:
 * - addresses proven dialable are confirmed to the address manager (and so announced, with a
 *   `self:peer:update`); addresses proven undialable are withdrawn;
 * - a `reachability` event `{ status: 'public' | 'private' | 'unknown', addrs }` whenever the
 *   node's verdict changes (the DHT picks its mode from it, auto-relay reserves when private);
 * - verdicts that hold until the evidence changes (./confidence.ts), so nothing flaps.
 *
 * Schedule (go's v1 timings): the first check `bootDelay` after start (15 s: identify must have
 * told us who serves AutoNAT and what they observe), then every `retryInterval` (90 s) while
 * something is undecided, else every `refreshInterval` (15 min). A new peer that serves
 * AutoNAT, or a new candidate address, brings an undecided check forward (to `retryDelay`).
 *
 * Which addresses are tested: the address manager's candidates (public listen addresses,
 * observed ones, UPnP mappings) that are public by util/multiaddr's classifier with the node's
 * public CIDRs. v2 asks one server per request, each server at most once per address per
 * cycle; v1 asks one server per cycle about the node as a whole (it dials our observed IP only).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '../../interface/connection.ts'
import type { IdentifyResult, ReachabilityUpdate } from '../../interface/events.ts'
import type { Logger } from '../../interface/logger.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import type { Startable } from '../../interface/components.ts'
import { isRelayed, withoutPeerId } from '../../util/multiaddr.ts'
import { unrefTimeout } from '../../util/timers.ts'
import type { TimerHandle } from '../../util/timers.ts'
import { ReachabilityConfidence } from './confidence.ts'
import type { Verdict } from './confidence.ts'
import type { AutoNATComponents } from './components.ts'
import { NoAutoNATServersError } from './errors.ts'
import { AutoNATv2Client } from './v2-client.ts'
import type { AutoNATv2ClientOptions } from './v2-client.ts'
import { AutoNATv2Server } from './v2-server.ts'
import type { AutoNATv2ServerOptions } from './v2-server.ts'
import { DIAL_BACK_PROTOCOL, DIAL_REQUEST_PROTOCOL, MAX_REQUEST_ADDRS } from './v2-messages.ts'
import { AUTONAT_V1_PROTOCOL } from './v1-messages.ts'
import { AutoNATv1Client } from './v1-client.ts'
import type { AutoNATv1ClientOptions } from './v1-client.ts'
import { AutoNATv1Server } from './v1-server.ts'
import type { AutoNATv1ServerOptions } from './v1-server.ts'

export interface AutoNATOptions {
  /** Ask others about our addresses (default true). */
  client?: boolean
  /** Answer others' requests (default true). */
  server?: boolean
  /** Speak AutoNAT v1 (`/libp2p/autonat/1.0.0`) too (default true). */
  v1?: boolean
  /** Speak AutoNAT v2 (default true). */
  v2?: boolean
  /** First check after start, in ms (default 15 s). */
  bootDelay?: number
  /** Next check while something is undecided, in ms (default 90 s). */
  retryInterval?: number
  /** Next check once everything is decided, in ms (default 15 min). */
  refreshInterval?: number
  /** How soon a new server brings an undecided check forward, in ms (default 1 s). */
  retryDelay?: number
  /** Least time between the end of one check and a check brought forward, in ms (default 15 s). */
  minInterval?: number
  /** Servers asked per cycle at most (default 4). */
  maxServersPerCycle?: number
  v2Server?: AutoNATv2ServerOptions
  v2Client?: AutoNATv2ClientOptions
  v1Server?: AutoNATv1ServerOptions
  v1Client?: AutoNATv1ClientOptions
}

/** Per-address verdicts kept at most; addresses that stopped being candidates go first. */
const MAX_TRACKED_ADDRS = 64

export class AutoNATService implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/autonat']
  readonly serviceDependencies: readonly string[] = ['@libp2p/identify']
  readonly #components: AutoNATComponents
  readonly #options: AutoNATOptions
  readonly #log: Logger
  readonly v2Client: AutoNATv2Client
  readonly v2Server: AutoNATv2Server
  readonly v1Client: AutoNATv1Client
  readonly v1Server: AutoNATv1Server
  /** Per-address verdicts (v2, and v1's "dialed you at X"), by address string. */
  readonly #addrs = new Map<string, { addr: Multiaddr, confidence: ReachabilityConfidence }>()
  /** The node-level verdict from v1. */
  readonly #v1 = new ReachabilityConfidence({ threshold: 1, cap: 3 })
  #status: ReachabilityUpdate = { status: 'unknown', addrs: [] }
  #timer: TimerHandle | undefined
  #running: Promise<void> | undefined
  #started = false

  constructor (components: AutoNATComponents, options: AutoNATOptions = {}) {
    this.#components = components
    this.#options = options
    this.#log = components.logger('autonat')
    this.v2Client = new AutoNATv2Client(components, options.v2Client)
    this.v2Server = new AutoNATv2Server(components, options.v2Server)
    this.v1Client = new AutoNATv1Client(components, options.v1Client)
    this.v1Server = new AutoNATv1Server(components, options.v1Server)
  }

  /** The node's current verdict and the addresses it rests on. */
  get reachability (): ReachabilityUpdate { return this.#status }

  /** What is known about one address. */
  getAddrReachability (addr: Multiaddr): Verdict {
    return this.#addrs.get(withoutPeerId(addr).toString())?.confidence.verdict ?? 'unknown'
  }

  start (): void {
    const { registrar } = this.#components
    const v1 = this.#options.v1 !== false
    const v2 = this.#options.v2 !== false
    if (this.#options.server !== false) {
      // On limited connections too, but only to refuse: a reset would look like a broken server.
      if (v2) registrar.handle(DIAL_REQUEST_PROTOCOL, this.v2Server.handle, { runOnLimitedConnection: true, maxInboundStreams: 2 })
      if (v1) registrar.handle(AUTONAT_V1_PROTOCOL, this.v1Server.handle, { runOnLimitedConnection: true, maxInboundStreams: 2 })
    }
    if (this.#options.client !== false && v2) registrar.handle(DIAL_BACK_PROTOCOL, this.v2Client.handleDialBack, { maxInboundStreams: 4 })
    this.#started = true
    if (this.#options.client !== false) {
      this.#components.events.addEventListener('peer:identify', this.#onIdentify)
      this.#schedule(this.#options.bootDelay ?? 15_000)
    }
  }

  async stop (): Promise<void> {
    this.#started = false
    this.#components.events.removeEventListener('peer:identify', this.#onIdentify)
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    const { registrar } = this.#components
    for (const protocol of [DIAL_REQUEST_PROTOCOL, AUTONAT_V1_PROTOCOL, DIAL_BACK_PROTOCOL]) {
      if (registrar.getHandler(protocol) !== undefined) registrar.unhandle(protocol)
    }
    this.v2Client.stop()
    this.v2Server.stop()
    this.v1Client.stop()
    this.v1Server.stop()
    await this.#running?.catch(() => {})
  }

  /**
   * A peer that serves AutoNAT (or one that just observed us) may settle what is undecided:
   * bring the next check forward, but never closer than `minInterval` to the last one (a busy
   * node identifies peers all the time; that must not become a check per peer).
   */
  readonly #onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { protocols } = evt.detail
    const v2 = this.#options.v2 !== false && protocols.includes(DIAL_REQUEST_PROTOCOL)
    const v1 = this.#options.v1 !== false && protocols.includes(AUTONAT_V1_PROTOCOL)
    if (!v1 && !v2) return
    const undecided = (v2 && this.#hasUndecided()) || (v1 && this.#v1.verdict === 'unknown')
    if (!undecided) return
    const earliest = this.#lastCycleEnd + (this.#options.minInterval ?? 15_000) - Date.now()
    this.#schedule(Math.max(this.#options.retryDelay ?? 1_000, earliest), true)
  }

  /** When the last check ended (ms since epoch). */
  #lastCycleEnd = -Infinity

  /** Arms the next check in `ms`; with `sooner`, only if that is earlier than the armed one. */
  #schedule (ms: number, sooner = false): void {
    if (!this.#started) return
    const at = Date.now() + ms
    if (sooner && this.#timer !== undefined && this.#nextAt <= at) return
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#nextAt = at
    this.#timer = unrefTimeout(() => {
      this.#timer = undefined
      void this.checkNow().catch(err => { this.#log('check failed: %s', (err as Error).message) })
    }, ms)
  }

  #nextAt = 0

  /**
   * Runs one check round now (also what the timer runs), after any round under way, and
   * resolves with the verdict when it is done. Throws NoAutoNATServersError when no connected
   * peer serves AutoNAT.
   */
  async checkNow (options: { signal?: AbortSignal } = {}): Promise<ReachabilityUpdate> {
    // A round already under way may have started before what the caller waits for (a server
    // just identified, a candidate just added): let it end, then run a fresh one.
    while (this.#running !== undefined) await this.#running.catch(() => {})
    const run = this.#cycle(options.signal)
    this.#running = run
    try {
      await run
    } finally {
      this.#running = undefined
      this.#lastCycleEnd = Date.now()
      this.#schedule(this.#hasUndecided() || this.#status.status === 'unknown'
        ? this.#options.retryInterval ?? 90_000
        : this.#options.refreshInterval ?? 15 * 60_000)
    }
    return this.#status
  }

  async #cycle (signal?: AbortSignal): Promise<void> {
    const servers = await this.#servers()
    if (servers.v1.length === 0 && servers.v2.length === 0) throw new NoAutoNATServersError()
    const maxServers = this.#options.maxServersPerCycle ?? 4
    if (this.#options.v2 !== false) {
      const asked = new Map<string, Set<string>>()
      let used = 0
      for (const server of servers.v2) {
        if (used >= maxServers) break
        const addrs = this.#addrsToTest().filter(a => asked.get(a.toString())?.has(server.remotePeer.toString()) !== true)
        if (addrs.length === 0) break
        used++
        try {
          const result = await this.v2Client.check(server, addrs.slice(0, MAX_REQUEST_ADDRS), { signal })
          const key = result.addr.toString()
          let set = asked.get(key)
          if (set === undefined) asked.set(key, set = new Set())
          set.add(server.remotePeer.toString())
          if (result.reachability !== 'unknown') this.#recordAddr(result.addr, result.reachability)
        } catch (err) {
          this.#log('v2 check with %s failed: %s', server.remotePeer, (err as Error).message)
        }
        if (signal?.aborted === true) break
      }
    }
    if (this.#options.v1 !== false && servers.v1.length > 0) {
      const server = servers.v1[Math.floor(Math.random() * servers.v1.length)]
      try {
        const result = await this.v1Client.check(server, this.#v1Addrs(), { signal })
        this.#v1.record(result.reachability)
        if (result.reachability === 'public' && result.addr !== undefined && this.#isCandidate(result.addr)) this.#recordAddr(result.addr, 'public')
      } catch (err) {
        this.#log('v1 check with %s failed: %s', server.remotePeer, (err as Error).message)
      }
    }
    this.#update()
  }

  /** Connections to peers that serve AutoNAT, direct ones only, one per peer, shuffled. */
  async #servers (): Promise<{ v1: Connection[], v2: Connection[] }> {
    const byPeer = new Map<string, Connection>()
    for (const connection of this.#components.connectionManager.getConnections()) {
      if (connection.limits !== undefined || connection.status !== 'open') continue
      if (!byPeer.has(connection.remotePeer.toString())) byPeer.set(connection.remotePeer.toString(), connection)
    }
    const v1: Connection[] = []
    const v2: Connection[] = []
    for (const connection of byPeer.values()) {
      const protocols = await this.#protocolsOf(connection.remotePeer)
      if (protocols.includes(DIAL_REQUEST_PROTOCOL)) v2.push(connection)
      if (protocols.includes(AUTONAT_V1_PROTOCOL)) v1.push(connection)
    }
    return { v1: shuffle(v1), v2: shuffle(v2) }
  }

  async #protocolsOf (peer: PeerId): Promise<string[]> {
    try {
      return (await this.#components.peerStore.get(peer)).protocols
    } catch {
      return []
    }
  }

  /** Candidates that are public addresses (undecided first), without relayed ones. */
  #addrsToTest (): Multiaddr[] {
    const candidates = this.#components.addressManager.getCandidates()
      .map(c => c.multiaddr)
      .filter(a => !isRelayed(a) && this.#components.addressManager.reachabilityOf(a) === 'public')
    const undecided = candidates.filter(a => this.getAddrReachability(a) === 'unknown')
    const decided = candidates.filter(a => this.getAddrReachability(a) !== 'unknown')
    return [...undecided, ...decided]
  }

  /** What v1 sends: every announced and candidate address (the server picks those on our IP). */
  #v1Addrs (): Multiaddr[] {
    const seen = new Set<string>()
    const out: Multiaddr[] = []
    const all = [...this.#components.addressManager.getAddresses(), ...this.#components.addressManager.getCandidates().map(c => c.multiaddr)]
    for (const addr of all) {
      const bare = withoutPeerId(addr)
      if (isRelayed(bare) || seen.has(bare.toString())) continue
      seen.add(bare.toString())
      out.push(bare)
    }
    return out.slice(0, 16)
  }

  #isCandidate (addr: Multiaddr): boolean {
    const key = withoutPeerId(addr).toString()
    return this.#components.addressManager.getCandidates().some(c => c.multiaddr.toString() === key)
  }

  #hasUndecided (): boolean {
    return this.#addrsToTest().some(a => this.getAddrReachability(a) === 'unknown')
  }

  /** One result about one address; a changed verdict goes to the address manager. */
  #recordAddr (addr: Multiaddr, result: 'public' | 'private'): void {
    const bare = withoutPeerId(addr)
    const key = bare.toString()
    let entry = this.#addrs.get(key)
    if (entry === undefined) {
      if (this.#addrs.size >= MAX_TRACKED_ADDRS) this.#forgetOne()
      entry = { addr: bare, confidence: new ReachabilityConfidence({ threshold: 2, cap: 3 }) }
      this.#addrs.set(key, entry)
    }
    if (entry.confidence.record(result)) {
      this.#log('%s is now %s', key, entry.confidence.verdict)
      this.#components.addressManager.setAddrReachability(bare, entry.confidence.verdict)
    }
  }

  #forgetOne (): void {
    const current = new Set(this.#components.addressManager.getCandidates().map(c => c.multiaddr.toString()))
    for (const key of this.#addrs.keys()) {
      if (!current.has(key)) { this.#addrs.delete(key); return }
    }
    const oldest = this.#addrs.keys().next().value
    if (oldest !== undefined) this.#addrs.delete(oldest)
  }

  /** Recomputes the node's verdict; dispatches `reachability` when it changed. */
  #update (): void {
    const candidates = new Set(this.#addrsToTest().map(String))
    const tracked = [...this.#addrs.values()].filter(e => candidates.has(e.addr.toString()))
    const publicAddrs = tracked.filter(e => e.confidence.verdict === 'public').map(e => e.addr)
    const privateAddrs = tracked.filter(e => e.confidence.verdict === 'private').map(e => e.addr)
    let next: ReachabilityUpdate
    if (publicAddrs.length > 0) next = { status: 'public', addrs: publicAddrs }
    else if (this.#v1.verdict === 'public') next = { status: 'public', addrs: [] }
    else if (this.#v1.verdict === 'private' || (privateAddrs.length > 0 && privateAddrs.length === candidates.size)) next = { status: 'private', addrs: privateAddrs }
    else next = { status: 'unknown', addrs: [] }
    const same = next.status === this.#status.status && next.addrs.map(String).join(' ') === this.#status.addrs.map(String).join(' ')
    if (same) return
    this.#log('reachability %s -> %s', this.#status.status, next.status)
    this.#status = next
    this.#components.events.safeDispatch('reachability', next)
  }
}

function shuffle<T> (list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = list[i]; list[i] = list[j]; list[j] = t
  }
  return list
}

/** Service factory: `services: { autonat: autoNAT() }` (needs identify). */
export function autoNAT (options: AutoNATOptions = {}): (components: AutoNATComponents) => AutoNATService {
  return (components) => new AutoNATService(components, options)
}
