/**
 * The dialer: turns "reach this peer" into one Connection.
 *
 * - One dial in flight per peer: concurrent requests for the same peer (or the same address
 *   list) join it; each caller may give up through its own signal, and the dial itself is
 *   aborted only when every caller has. A `force` dial asks for a new connection, so it
 *   neither joins nor can be joined.
 * - Addresses come from the request or the peer store, are filtered (wrong /p2p id, our own
 *   addresses, no transport, denied by the gater), ranked (loopback, private, public; plain TCP
 *   first) and tried a few at a time, staggered: the next address starts when one fails or
 *   after `dialStagger` ms without an answer. The first connection wins; the other attempts
 *   are aborted and any connection they still produce is closed.
 * - Each address has its own timeout (`addressDialTimeout`, covering transport dial and
 *   upgrade) inside the dial's overall budget (`dialTimeout`); a global semaphore bounds
 *   attempts node-wide (`maxParallelDials`).
 * - Addresses from the peer store that failed lately are skipped (./dial-backoff.ts).
 * - Addresses that name hosts (`/dns4`, `/dnsaddr`, ...) are resolved to IP ones first
 *   (../dns/), keeping only the dialed peer's; a name that fails is one more failure listed.
 * - When nothing connects, DialError names every address and why it failed.
 */
import type { Counter, Histogram, Metrics } from '../interface/metrics.ts'
import { errorLabel, transportName } from '../metrics/labels.ts'
import type { Multiaddr } from '@multiformats/multiaddr'
import { isMultiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../interface/common.ts'
import type { Connection } from '../interface/connection.ts'
import type { ConnectionGater } from '../interface/connection-gater.ts'
import type { DialTarget, HandshakeRole } from '../interface/connection-manager.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { PeerStore } from '../interface/peer-store.ts'
import type { RawConnection, TransportDialOptions } from '../interface/transport.ts'
import { peerIdFromString } from '../peer/peer-id.ts'
import { raceSignal } from '../util/abort.ts'
import { AbortError, ConnectionDeniedError, InvalidMultiaddrError, InvalidParametersError, NotStartedError, UnexpectedPeerError } from '../util/errors.ts'
import { logger } from '../util/logger.ts'
import { isRelayed, needsDnsResolution, peerIdStringOf, withoutPeerId } from '../util/multiaddr.ts'
import { rankAddresses } from './address-ranking.ts'
import { Deadline } from '../util/deadline.ts'
import type { DialAttemptFailure } from './errors.ts'
import { DialError } from './errors.ts'
import { Semaphore } from './semaphore.ts'
import { DialBackoff, DialBackoffError, type DialBackoffOptions } from './dial-backoff.ts'
import type { DnsaddrLimits, DnsResolver } from '../dns/index.ts'

const log = logger('dialer')

export const DEFAULT_DIAL_TIMEOUT = 30_000
export const DEFAULT_ADDRESS_DIAL_TIMEOUT = 5_000
export const DEFAULT_MAX_PARALLEL_DIALS = 100
export const DEFAULT_MAX_DIALS_PER_PEER = 5
export const DEFAULT_DIAL_STAGGER = 250
export const DEFAULT_MAX_PEER_ADDRS_TO_DIAL = 25

export interface DialerOptions extends DialBackoffOptions {
  /** Overall budget of one dial, all addresses included, in ms (default 30 s). */
  dialTimeout?: number
  /** Budget of one address (transport dial + upgrade), in ms (default 5 s). */
  addressDialTimeout?: number
  /** Address attempts running at once node-wide (default 100). */
  maxParallelDials?: number
  /** Addresses of one peer tried at once (default 5). */
  maxDialsPerPeer?: number
  /** Delay before trying the next address while earlier ones are pending, in ms (default 250). */
  dialStagger?: number
  /** Addresses of one peer considered at most, best ranked first (default 25). */
  maxPeerAddrsToDial?: number
  /**
   * Resolves host names in dial addresses (default: the runtime's resolver, made on first
   * use); `false` leaves `/dns*` addresses to the transports and cannot dial `/dnsaddr`.
   */
  dns?: DnsResolver | false
  /** Depth, address count and time limits of one address's resolution. */
  dnsaddrLimits?: DnsaddrLimits
}

export interface DialerInit extends DialerOptions {
  peerId: PeerId
  peerStore: Pick<PeerStore, 'get'>
  transports: {
    transportForDial(addr: Multiaddr): unknown
    dial(addr: Multiaddr, options?: TransportDialOptions): Promise<RawConnection>
  }
  upgrader: {
    upgradeOutbound(raw: RawConnection, options: AbortOptions & { remotePeer?: PeerId }): Promise<Connection>
    /** For a dial whose handshakes this side answers (a hole punch's responder). */
    upgradeInbound(raw: RawConnection, options: AbortOptions & { remotePeer?: PeerId }): Promise<Connection>
  }
  connectionGater?: ConnectionGater
  /** Our own addresses (any form); never dialed. */
  getOwnAddrs(): Multiaddr[]
  /** Dial outcomes and phase times (one observation per dial and per address attempt). */
  metrics?: Metrics
}

interface DialJob {
  promise: Promise<Connection>
  deadline: Deadline
  callers: number
}

/** A dial request normalised: the peer (when known) and explicit addresses (when given). */
export interface ResolvedTarget {
  peerId?: PeerId
  /** The peer id as the addresses spell it (saves encoding `peerId` to compare them). */
  peerIdText?: string
  addrs?: Multiaddr[]
}

/** Peer ids parsed from dial addresses lately: parsing one costs ~20 us, and PeerIds are immutable. */
const PARSED_PEER_IDS_SIZE = 256
const parsedPeerIds = new Map<string, PeerId>()

function parsePeerId (text: string): PeerId {
  let peerId = parsedPeerIds.get(text)
  if (peerId !== undefined) {
    parsedPeerIds.delete(text)
  } else {
    peerId = peerIdFromString(text)
    if (parsedPeerIds.size >= PARSED_PEER_IDS_SIZE) parsedPeerIds.delete(parsedPeerIds.keys().next().value!)
  }
  parsedPeerIds.set(text, peerId)
  return peerId
}

export function resolveDialTarget (target: DialTarget): ResolvedTarget {
  if (isMultiaddr(target)) target = [target]
  if (Array.isArray(target)) {
    if (target.length === 0) throw new InvalidParametersError('no address to dial')
    const ids = new Set<string>()
    for (const addr of target) {
      if (!isMultiaddr(addr)) throw new InvalidParametersError('dial target list must contain multiaddrs only')
      const id = peerIdStringOf(addr)
      if (id !== undefined) ids.add(id)
    }
    if (ids.size > 1) throw new InvalidParametersError(`the addresses name ${ids.size} different peers`)
    const [id] = ids
    return id === undefined ? { addrs: target } : { peerId: parsePeerId(id), peerIdText: id, addrs: target }
  }
  if (typeof target !== 'object' || target === null || !(target.bytes instanceof Uint8Array)) {
    throw new InvalidParametersError('dial target must be a PeerId, a Multiaddr or a list of Multiaddrs')
  }
  return { peerId: target }
}

export class Dialer {
  readonly #init: DialerInit
  readonly #pending = new Map<string, DialJob>()
  readonly #slots: Semaphore
  readonly #backoff: DialBackoff
  #dns: DnsResolver | undefined
  #stopController = new AbortController()
  readonly #metrics: DialMetrics | undefined

  constructor (init: DialerInit) {
    this.#init = init
    this.#metrics = init.metrics === undefined ? undefined : dialMetrics(init.metrics)
    this.#slots = new Semaphore(init.maxParallelDials ?? DEFAULT_MAX_PARALLEL_DIALS)
    this.#backoff = new DialBackoff(init)
  }

  /** Dials in flight (one per peer or address list). */
  get pendingDials (): number { return this.#pending.size }

  start (): void {
    if (this.#stopController.signal.aborted) this.#stopController = new AbortController()
  }

  /** Aborts every dial in flight. */
  stop (): void {
    this.#stopController.abort(new NotStartedError('the node is stopping'))
  }

  async dial (target: DialTarget, options: AbortOptions & { force?: boolean, handshakeRole?: HandshakeRole, separateSocket?: boolean } = {}): Promise<Connection> {
    return await this.dialResolved(resolveDialTarget(target), options)
  }

  /** `dial` for a target already passed through resolveDialTarget (parsing it costs ~20 us). */
  async dialResolved (resolved: ResolvedTarget, options: AbortOptions & { force?: boolean, handshakeRole?: HandshakeRole, separateSocket?: boolean } = {}): Promise<Connection> {
    const { peerId, addrs } = resolved
    if (peerId?.equals(this.#init.peerId) === true) throw new InvalidParametersError('a node cannot dial itself')
    if (options.force === true) return await this.#dialAlone(resolved, options.signal, options.handshakeRole ?? 'initiator', options.separateSocket === true)
    const key = peerId?.toString() ?? addrs!.map(a => a.toString()).sort().join(' ')
    let job = this.#pending.get(key)
    if (job === undefined) {
      const deadline = new Deadline(this.#init.dialTimeout ?? DEFAULT_DIAL_TIMEOUT, this.#stopController.signal, 'dial budget exhausted')
      const started: DialJob = {
        deadline,
        callers: 0,
        promise: this.#run(resolved, deadline.signal).finally(() => {
          deadline.clear()
          if (this.#pending.get(key) === started) this.#pending.delete(key)
        })
      }
      // Nobody may be left waiting when every caller gave up; the rejection then has no reader.
      started.promise.catch(() => {})
      this.#pending.set(key, started)
      job = started
    }
    job.callers++
    try {
      return await raceSignal(job.promise, options.signal)
    } catch (err) {
      if (options.signal?.aborted === true && --job.callers === 0) job.deadline.abort(options.signal.reason ?? new AbortError())
      throw err
    }
  }

  /** A dial of its own, for one caller (force): not shared with concurrent dials. */
  async #dialAlone (resolved: ResolvedTarget, callerSignal: AbortSignal | undefined, role: HandshakeRole, separateSocket: boolean): Promise<Connection> {
    const deadline = new Deadline(this.#init.dialTimeout ?? DEFAULT_DIAL_TIMEOUT, this.#stopController.signal, 'dial budget exhausted')
    const onAbort = (): void => { deadline.abort(callerSignal?.reason ?? new AbortError()) }
    if (callerSignal?.aborted === true) onAbort()
    else callerSignal?.addEventListener('abort', onAbort, { once: true })
    try {
      return await this.#run(resolved, deadline.signal, role, separateSocket)
    } catch (err) {
      throw callerSignal?.aborted === true ? callerSignal.reason ?? err : err
    } finally {
      callerSignal?.removeEventListener('abort', onAbort)
      deadline.clear()
    }
  }

  async #run (resolved: ResolvedTarget, signal: AbortSignal, role: HandshakeRole = 'initiator', separateSocket = false): Promise<Connection> {
    const metrics = this.#metrics
    if (metrics === undefined) return await this.#runDial(resolved, signal, role, separateSocket)
    const startedAt = performance.now()
    let outcome = 'success'
    try {
      return await this.#runDial(resolved, signal, role, separateSocket)
    } catch (err) {
      outcome = signal.aborted ? 'aborted' : 'error'
      throw err
    } finally {
      metrics.dials.inc({ outcome })
      metrics.duration.observe((performance.now() - startedAt) / 1000, { outcome })
    }
  }

  async #runDial (resolved: ResolvedTarget, signal: AbortSignal, role: HandshakeRole, separateSocket: boolean): Promise<Connection> {
    const { peerId, addrs: explicit } = resolved
    // Only errors name the target; building the name costs a base58 encoding per dial.
    const targetName = (): string => peerId?.toString() ?? explicit!.map(String).join(', ')
    const peerIdText = peerId === undefined ? undefined : resolved.peerIdText ?? peerId.toString()
    const gater = this.#init.connectionGater
    // (a hook is awaited only when there is one: each await is a turn of the microtask queue)
    if (peerId !== undefined && gater?.denyDialPeer !== undefined && await gater.denyDialPeer(peerId) === true) {
      throw new ConnectionDeniedError(`the connection gater denied dialing ${peerId.toString()}`)
    }
    const failures: DialAttemptFailure[] = []
    let addrs = explicit ?? await this.#knownAddrs(peerId!)
    if (this.#init.dns !== false && addrs.some(needsDnsResolution)) {
      const resolvingAt = performance.now()
      addrs = await this.#resolveHostNames(addrs, peerIdText, failures, signal)
      this.#metrics?.phase.observe((performance.now() - resolvingAt) / 1000, { phase: 'dns', transport: 'any' })
    }
    const own = new Set(this.#init.getOwnAddrs().map(a => withoutPeerId(a).toString()))
    const candidates: Multiaddr[] = []
    const now = Date.now()
    for (const addr of addrs) {
      const addrPeer = peerIdStringOf(addr)
      const backoffUntil = explicit === undefined ? this.#backoff.blockedUntil(peerIdText!, withoutPeerId(addr).toString(), now) : undefined
      if (backoffUntil !== undefined) {
        failures.push({ multiaddr: addr, error: new DialBackoffError(backoffUntil) })
      } else if (peerIdText !== undefined && addrPeer !== undefined && addrPeer !== peerIdText) {
        failures.push({ multiaddr: addr, error: new UnexpectedPeerError(`the address belongs to ${addrPeer}`) })
      } else if (own.size > 0 && !isRelayed(addr) && own.has(withoutPeerId(addr).toString())) {
        // (A relayed address names its target after the relay's circuit, which our own
        // reservation on the same relay shares: only the target's /p2p tells them apart.)
        failures.push({ multiaddr: addr, error: new InvalidMultiaddrError('the address is one of our own') })
      } else if (this.#init.transports.transportForDial(addr) === undefined) {
        failures.push({ multiaddr: addr, error: new InvalidMultiaddrError('no configured transport can dial it') })
      } else if (gater?.denyDialMultiaddr !== undefined && await gater.denyDialMultiaddr(addr, peerId) === true) {
        failures.push({ multiaddr: addr, error: new ConnectionDeniedError('the connection gater denied the address') })
      } else {
        candidates.push(addr)
      }
    }
    const ranked = rankAddresses(candidates).slice(0, this.#init.maxPeerAddrsToDial ?? DEFAULT_MAX_PEER_ADDRS_TO_DIAL)
    if (ranked.length === 0) {
      throw new DialError(targetName(), failures, addrs.length > 0 ? 'no dialable address' : failures.length > 0 ? 'no address resolved' : 'no addresses known')
    }
    return await this.#dialRanked(targetName, peerId, ranked, failures, signal, role, separateSocket)
  }

  /** Each host-named address replaced by the IP addresses it stands for; failures are recorded. */
  async #resolveHostNames (addrs: Multiaddr[], peerIdText: string | undefined, failures: DialAttemptFailure[], signal: AbortSignal): Promise<Multiaddr[]> {
    // The runtime's resolver (in browsers DNS-over-HTTPS and the DNS message codec) and the
    // multiaddr resolution are loaded on the first host-named address: a node that only dials
    // IP addresses never downloads them.
    const { dnsResolver, resolveMultiaddr } = await import('../dns/index.ts')
    const resolver = this.#dns ??= (this.#init.dns === undefined ? dnsResolver() : this.#init.dns as DnsResolver)
    const resolved = await Promise.all(addrs.map(async addr => {
      // another peer's address is refused below without asking DNS about it
      if (!needsDnsResolution(addr) || (peerIdText !== undefined && (peerIdStringOf(addr) ?? peerIdText) !== peerIdText)) return [addr]
      try {
        return await resolveMultiaddr(addr, resolver, { ...this.#init.dnsaddrLimits, peerId: peerIdText, signal })
      } catch (err) {
        log('resolving %s failed: %s', addr, (err as Error).message)
        failures.push({ multiaddr: addr, error: err as Error })
        return []
      }
    }))
    return resolved.flat()
  }

  async #knownAddrs (peerId: PeerId): Promise<Multiaddr[]> {
    try {
      const peer = await this.#init.peerStore.get(peerId)
      const now = Date.now()
      return peer.addresses.filter(a => a.expires === undefined || a.expires > now).map(a => a.multiaddr)
    } catch {
      return []
    }
  }

  #dialRanked (targetName: () => string, peerId: PeerId | undefined, addrs: Multiaddr[], failures: DialAttemptFailure[], signal: AbortSignal, role: HandshakeRole, separateSocket: boolean): Promise<Connection> {
    const perPeer = Math.max(1, this.#init.maxDialsPerPeer ?? DEFAULT_MAX_DIALS_PER_PEER)
    const stagger = this.#init.dialStagger ?? DEFAULT_DIAL_STAGGER
    return new Promise((resolve, reject) => {
      const attempts = new Set<Deadline>()
      let next = 0
      let active = 0
      let done = false
      let staggerTimer: ReturnType<typeof setTimeout> | undefined

      const clearStagger = (): void => {
        if (staggerTimer !== undefined) clearTimeout(staggerTimer)
        staggerTimer = undefined
      }
      const fail = (): void => {
        done = true
        clearStagger()
        const summary = signal.aborted ? `${(signal.reason as Error)?.message ?? 'aborted'}, ${failures.length} addresses failed` : undefined
        reject(new DialError(targetName(), failures, summary, { cause: signal.aborted ? signal.reason : undefined }))
      }
      const launch = (): void => {
        clearStagger()
        if (done) return
        if (signal.aborted || next >= addrs.length) {
          if (active === 0) fail()
          return
        }
        if (active >= perPeer) return
        const addr = addrs[next++]
        const timeoutMs = this.#init.addressDialTimeout ?? DEFAULT_ADDRESS_DIAL_TIMEOUT
        const attempt = new Deadline(timeoutMs, signal, () => `dialing ${addr.toString()} timed out after ${timeoutMs} ms`)
        attempts.add(attempt)
        active++
        this.#attempt(addr, peerId, attempt.signal, role, separateSocket).then(connection => {
          active--
          attempts.delete(attempt)
          attempt.clear()
          // (the peer id's text costs a base58 encoding per connection: only when there is something to forget)
          if (this.#backoff.size > 0) this.#backoff.succeeded(connection.remotePeer.toString())
          if (done) {
            log('closing the extra connection to %s from %s', connection.remotePeer, addr)
            connection.close().catch(() => {})
            return
          }
          done = true
          clearStagger()
          for (const other of attempts) other.abort(new AbortError('another address connected first'))
          resolve(connection)
        }, (err: Error) => {
          active--
          attempts.delete(attempt)
          attempt.clear()
          failures.push({ multiaddr: addr, error: err })
          log('dial %s failed: %s', addr, err.message)
          // an attempt cut because the dial ended (a caller gave up, another address won) says
          // nothing about the address
          if (peerId !== undefined && !done && !signal.aborted) this.#backoff.failed(peerId.toString(), withoutPeerId(addr).toString())
          launch()
        })
        if (next < addrs.length && active < perPeer) staggerTimer = setTimeout(launch, stagger)
      }
      launch()
    })
  }

  async #attempt (addr: Multiaddr, peerId: PeerId | undefined, signal: AbortSignal, role: HandshakeRole, separateSocket: boolean): Promise<Connection> {
    try {
      await this.#slots.acquire(signal)
      try {
        const connectingAt = this.#metrics === undefined ? 0 : performance.now()
        const raw = await this.#init.transports.dial(addr, separateSocket ? { signal, separateSocket } : { signal })
        this.#metrics?.phase.observe((performance.now() - connectingAt) / 1000, { phase: 'connect', transport: transportName(addr) })
        return role === 'initiator'
          ? await this.#init.upgrader.upgradeOutbound(raw, { signal, remotePeer: peerId })
          : await this.#init.upgrader.upgradeInbound(raw, { signal, remotePeer: peerId })
      } finally {
        this.#slots.release()
      }
    } catch (err) {
      this.#metrics?.failedAttempts.inc({ transport: transportName(addr), error: signal.aborted ? 'aborted' : errorLabel(err) })
      throw signal.aborted ? signal.reason as Error : err
    }
  }
}

interface DialMetrics { dials: Counter, duration: Histogram, phase: Histogram, failedAttempts: Counter }

function dialMetrics (metrics: Metrics): DialMetrics {
  return {
    dials: metrics.counter({ name: 'libp2p_dials_total', help: 'Dials (all addresses of one target) by outcome', labelNames: ['outcome'] }),
    duration: metrics.histogram({ name: 'libp2p_dial_duration_seconds', help: 'Time of whole dials, all addresses included', labelNames: ['outcome'] }),
    phase: metrics.histogram({ name: 'libp2p_dial_phase_seconds', help: 'Time of dial phases (dns: resolving host names; connect: the transport dial of one address)', labelNames: ['phase', 'transport'] }),
    failedAttempts: metrics.counter({ name: 'libp2p_dial_attempt_failures_total', help: 'Failed dials of one address, by transport and error code', labelNames: ['transport', 'error'] })
  }
}
