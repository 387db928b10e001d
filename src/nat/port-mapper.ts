/**
 * The port mapper: opens our listening ports on the LAN's gateway and keeps them open. It
 * finds a gateway (UPnP IGD, then NAT-PMP, through `findGateway`), reads its external address
 * and refuses to go on behind a double NAT (no external address, or a private / CGNAT one:
 * a mapping there would make nobody able to reach us), maps each IPv4 TCP/UDP listen address
 * on our LAN address, renews every lease at half its lifetime, and removes the mappings on
 * stop(). A UPnP conflict (error 718: the external port is taken) makes it try another
 * external port; NAT-PMP gateways choose one themselves. Mapped addresses go to `onMapped`:
 * the service hands them to the address manager as candidates, announced only once AutoNAT
 * confirms them. Every gateway exchange runs under a deadline and the stop signal.
 * Browser-safe: the gateway clients are injected.
 */
import { multiaddr, CODE_IP4, CODE_TCP, CODE_UDP } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../interface/logger.ts'
import { withDeadline } from '../util/deadline.ts'
import { ServiceStoppedError } from '../util/errors.ts'
import { parseIp } from '../util/ip.ts'
import { unrefTimeout } from '../util/timers.ts'
import { DoubleNatError, UPnPActionError } from './errors.ts'
import type { GatewayClient, Mapping, MappingProtocol } from './mapping-client.ts'

/** UPnP's ConflictInMappingEntry: another client holds the external port. */
const UPNP_CONFLICT_IN_MAPPING_ENTRY = 718
const MIN_RANDOM_PORT = 1024
const MAX_PORT = 65535

export interface PortMapperOptions {
  /** Lease asked for, in seconds (default 720, renewed at half-life). */
  leaseSeconds?: number
  /** Budget of one gateway exchange, ms (default 10 s). */
  requestTimeout?: number
  /** Budget of finding a gateway, ms (default 5 s). */
  discoveryTimeout?: number
  /** How long stop() waits for the gateway to remove the mappings, ms (default 3 s). */
  stopTimeout?: number
  /** Other external ports tried after a UPnP conflict (718) before giving up (default 8). */
  maxConflictRetries?: number
  /** After a failed search or renewal, try again this much later, ms (default 60 s). */
  retryInterval?: number
  /** The description stored with UPnP mappings (default 'ts-libp2p'). */
  description?: string
  /** Picks the next external port after a conflict (default uniform in 1024..65535). */
  randomPort?: () => number
}

export interface PortMapperInit extends PortMapperOptions {
  /** Finds the gateway (rejects with GatewayNotFoundError when none answers). */
  findGateway(signal: AbortSignal): Promise<GatewayClient>
  /** Our listen addresses (bound, without /p2p). */
  listenAddrs(): Multiaddr[]
  /** True when the gateway's external IP can be reached from the internet (not private / CGNAT). */
  isPublicIp(ip: string): boolean
  /** A mapping now forwards `external` to `internal`. */
  onMapped(external: Multiaddr, internal: Multiaddr, gateway: GatewayClient): void
  /** `external` no longer forwards (removed, expired, or the external address changed). */
  onUnmapped(external: Multiaddr): void
  /** A lease was renewed (the address stays the same). */
  onRenewed?(external: Multiaddr): void
  /** The state changed (with the error that caused it, for 'failed', 'no-gateway', 'double-nat'). */
  onState?(state: PortMapperState, error?: unknown): void
  log: Logger
}

/** What the mapper is doing, for the service's status and the tests. */
export type PortMapperState = 'idle' | 'searching' | 'mapping' | 'mapped' | 'no-gateway' | 'double-nat' | 'failed' | 'stopped'

interface ActiveMapping {
  mapping: Mapping
  internal: Multiaddr
  external: Multiaddr
  renewTimer?: ReturnType<typeof unrefTimeout>
  /** When the lease runs out (ms since the epoch), 0 for a permanent one. */
  expiresAt: number
}

export class PortMapper {
  readonly #init: PortMapperInit
  readonly #mappings = new Map<string, ActiveMapping>()
  readonly #shutdown = new AbortController()
  #gateway: GatewayClient | undefined
  #externalIp = ''
  #state: PortMapperState = 'idle'
  #lastError: unknown
  #retryTimer: ReturnType<typeof unrefTimeout> | undefined
  #running: Promise<void> | undefined
  #again = false

  constructor (init: PortMapperInit) {
    this.#init = init
  }

  get state (): PortMapperState { return this.#state }

  #setState (state: PortMapperState, error?: unknown): void {
    if (error !== undefined) this.#lastError = error
    if (state === this.#state) return
    this.#state = state
    this.#init.onState?.(state, error)
  }
  get lastError (): unknown { return this.#lastError }
  get gateway (): GatewayClient | undefined { return this.#gateway }
  get externalIp (): string { return this.#externalIp }
  /** The mappings in force: external address and the listen address it forwards to. */
  get mappings (): Array<{ external: Multiaddr, internal: Multiaddr, mapping: Mapping }> {
    return [...this.#mappings.values()].map(m => ({ external: m.external, internal: m.internal, mapping: m.mapping }))
  }

  /**
   * Brings the mappings in line with the listen addresses (finding the gateway first if need
   * be). Calls while one runs are folded into one more run; never rejects.
   */
  async sync (): Promise<void> {
    if (this.#shutdown.signal.aborted) return
    if (this.#running !== undefined) {
      this.#again = true
      return await this.#running
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false
          await this.#syncOnce()
        } while (this.#again && !this.#shutdown.signal.aborted)
      } finally {
        this.#running = undefined
      }
    })()
    return await this.#running
  }

  async #syncOnce (): Promise<void> {
    try {
      const gateway = await this.#ensureGateway()
      if (gateway === undefined) return
      if (!await this.#checkExternalIp(gateway)) return
      this.#setState('mapping')
      const wanted = this.#wantedMappings(gateway)
      for (const [key, active] of this.#mappings) {
        if (!wanted.has(key)) await this.#remove(key, active)
      }
      for (const [key, internal] of wanted) {
        if (this.#shutdown.signal.aborted) return
        if (!this.#mappings.has(key)) await this.#create(key, internal, gateway)
      }
      this.#setState('mapped')
    } catch (err) {
      if (this.#shutdown.signal.aborted) return
      this.#setState('failed', err)
      this.#init.log('port mapping failed: %s', (err as Error).message)
      // With nothing mapped there is nothing to keep this gateway for: the retry searches
      // again (the network may have changed under us).
      if (this.#mappings.size === 0 && !(err instanceof UPnPActionError)) {
        this.#gateway?.close()
        this.#gateway = undefined
      }
      this.#scheduleRetry()
    }
  }

  async #ensureGateway (): Promise<GatewayClient | undefined> {
    if (this.#gateway !== undefined) return this.#gateway
    this.#setState('searching')
    try {
      this.#gateway = await withDeadline(this.#init.discoveryTimeout ?? 5000, this.#shutdown.signal, 'no port-mapping gateway answered in time',
        async (signal) => await this.#init.findGateway(signal))
    } catch (err) {
      if (this.#shutdown.signal.aborted) return undefined
      this.#setState('no-gateway', err)
      this.#init.log('no port-mapping gateway: %s', (err as Error).message)
      this.#scheduleRetry()
      return undefined
    }
    this.#init.log('port-mapping gateway %s (%s), our address there %s', this.#gateway.gateway, this.#gateway.kind, this.#gateway.localAddress)
    return this.#gateway
  }

  /** Reads the external address; behind a double NAT withdraws every mapping and returns false. */
  async #checkExternalIp (gateway: GatewayClient): Promise<boolean> {
    const ip = await this.#exchange(async (signal) => await gateway.externalAddress({ signal }))
    const usable = parseIp(ip)?.length === 4 && this.#init.isPublicIp(ip)
    if (!usable) {
      const refusal = new DoubleNatError(ip === '' ? 'the gateway reports no external address (double NAT?)' : `the gateway's external address ${ip} is not public (double NAT)`)
      this.#init.log('%s: not mapping', refusal.message)
      for (const [key, active] of this.#mappings) await this.#remove(key, active)
      this.#externalIp = ip
      this.#setState('double-nat', refusal)
      return false
    }
    if (ip !== this.#externalIp && this.#mappings.size > 0) {
      // The external address moved: every announced address changes with it.
      for (const active of this.#mappings.values()) {
        this.#init.onUnmapped(active.external)
        active.external = externalAddr(active.internal, ip, active.mapping.externalPort)
        this.#init.onMapped(active.external, active.internal, gateway)
      }
    }
    this.#externalIp = ip
    return true
  }

  /** protocol:port -> listen address, for our IPv4 listen addresses on the gateway's network. */
  #wantedMappings (gateway: GatewayClient): Map<string, Multiaddr> {
    const wanted = new Map<string, Multiaddr>()
    for (const addr of this.#init.listenAddrs()) {
      const parts = thinWaist(addr)
      if (parts === undefined || parts.ip !== gateway.localAddress) continue
      const key = `${parts.protocol}:${parts.port}`
      if (!wanted.has(key)) wanted.set(key, addr)
    }
    return wanted
  }

  async #create (key: string, internal: Multiaddr, gateway: GatewayClient): Promise<void> {
    const parts = thinWaist(internal)!
    const mapping = await this.#mapWithConflicts(gateway, parts.protocol, parts.port, parts.port)
    const active: ActiveMapping = { mapping, internal, external: externalAddr(internal, this.#externalIp, mapping.externalPort), expiresAt: 0 }
    this.#mappings.set(key, active)
    this.#leaseGranted(key, active)
    this.#init.log('mapped %s -> %s (lease %d s)', active.external.toString(), internal.toString(), mapping.lifetimeSeconds)
    this.#init.onMapped(active.external, internal, gateway)
  }

  /** Maps, trying other external ports while UPnP says another client holds the one asked for. */
  async #mapWithConflicts (gateway: GatewayClient, protocol: MappingProtocol, internalPort: number, firstExternalPort: number): Promise<Mapping> {
    const retries = this.#init.maxConflictRetries ?? 8
    let externalPort = firstExternalPort
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#exchange(async (signal) => await gateway.map({
          protocol,
          internalHost: gateway.localAddress,
          internalPort,
          externalPort,
          lifetimeSeconds: this.#init.leaseSeconds ?? 720,
          description: this.#init.description ?? 'ts-libp2p'
        }, { signal }))
      } catch (err) {
        if (!(err instanceof UPnPActionError) || err.upnpErrorCode !== UPNP_CONFLICT_IN_MAPPING_ENTRY || attempt >= retries) throw err
        const taken = externalPort
        externalPort = this.#init.randomPort?.() ?? (MIN_RANDOM_PORT + Math.floor(Math.random() * (MAX_PORT - MIN_RANDOM_PORT + 1)))
        this.#init.log('external port %d is taken (UPnP 718), trying %d', taken, externalPort)
      }
    }
  }

  /** Arms the renewal at half the granted lifetime (none for a permanent lease). */
  #leaseGranted (key: string, active: ActiveMapping): void {
    const seconds = active.mapping.lifetimeSeconds
    active.expiresAt = seconds > 0 ? Date.now() + seconds * 1000 : 0
    if (seconds > 0) active.renewTimer = unrefTimeout(() => { void this.#renew(key, active) }, seconds * 500)
  }

  async #renew (key: string, active: ActiveMapping): Promise<void> {
    active.renewTimer = undefined
    const gateway = this.#gateway
    if (gateway === undefined || this.#mappings.get(key) !== active || this.#shutdown.signal.aborted) return
    try {
      if (!await this.#checkExternalIp(gateway) || this.#mappings.get(key) !== active) return
      const old = active.mapping
      active.mapping = await this.#mapWithConflicts(gateway, old.protocol, old.internalPort, old.externalPort)
      if (active.mapping.externalPort !== old.externalPort) {
        this.#init.onUnmapped(active.external)
        active.external = externalAddr(active.internal, this.#externalIp, active.mapping.externalPort)
        this.#init.onMapped(active.external, active.internal, gateway)
      }
      this.#init.log('renewed %s (lease %d s)', active.external.toString(), active.mapping.lifetimeSeconds)
      this.#init.onRenewed?.(active.external)
      this.#leaseGranted(key, active)
    } catch (err) {
      if (this.#shutdown.signal.aborted || this.#mappings.get(key) !== active) return
      this.#lastError = err
      const left = active.expiresAt - Date.now()
      this.#init.log('renewing %s failed: %s', active.external.toString(), (err as Error).message)
      if (left <= 1000) {
        // The lease ran out: the address no longer forwards.
        this.#mappings.delete(key)
        this.#init.onUnmapped(active.external)
        this.#scheduleRetry()
      } else {
        active.renewTimer = unrefTimeout(() => { void this.#renew(key, active) }, Math.min(left / 2, this.#init.retryInterval ?? 60_000))
      }
    }
  }

  async #remove (key: string, active: ActiveMapping): Promise<void> {
    this.#mappings.delete(key)
    if (active.renewTimer !== undefined) clearTimeout(active.renewTimer)
    this.#init.onUnmapped(active.external)
    const gateway = this.#gateway
    if (gateway === undefined) return
    try {
      await this.#exchange(async (signal) => { await gateway.unmap(active.mapping, { signal }) })
    } catch (err) {
      this.#init.log('removing %s failed: %s', active.external.toString(), (err as Error).message)
    }
  }

  #scheduleRetry (): void {
    if (this.#retryTimer !== undefined || this.#shutdown.signal.aborted) return
    this.#retryTimer = unrefTimeout(() => { this.#retryTimer = undefined; void this.sync() }, this.#init.retryInterval ?? 60_000)
  }

  async #exchange<T> (operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return await withDeadline(this.#init.requestTimeout ?? 10_000, this.#shutdown.signal, 'the gateway did not answer in time', operation)
  }

  /** Removes every mapping from the gateway (within stopTimeout) and releases everything. */
  async stop (): Promise<void> {
    if (this.#state === 'stopped') return
    this.#shutdown.abort(new ServiceStoppedError('the port mapper stopped'))
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
    await this.#running?.catch(() => {})
    const gateway = this.#gateway
    const removals = [...this.#mappings.values()].map(async (active) => {
      if (active.renewTimer !== undefined) clearTimeout(active.renewTimer)
      this.#init.onUnmapped(active.external)
      if (gateway === undefined) return
      try {
        await withDeadline(this.#init.stopTimeout ?? 3000, undefined, 'removing the mapping timed out', async (signal) => { await gateway.unmap(active.mapping, { signal }) })
        this.#init.log('removed %s', active.external.toString())
      } catch (err) {
        this.#init.log('removing %s on stop failed: %s', active.external.toString(), (err as Error).message)
      }
    })
    this.#mappings.clear()
    await Promise.all(removals)
    gateway?.close()
    this.#setState('stopped')
  }
}

interface ThinWaistParts { ip: string, protocol: MappingProtocol, port: number }

/** `/ip4/<ip>/tcp|udp/<port>/...` split up; undefined for anything else (IPv6, DNS, relayed, port 0). */
function thinWaist (addr: Multiaddr): ThinWaistParts | undefined {
  const [host, transport] = addr.getComponents()
  if (host?.code !== CODE_IP4 || transport === undefined || (transport.code !== CODE_TCP && transport.code !== CODE_UDP)) return undefined
  const port = Number(transport.value)
  if (!Number.isInteger(port) || port <= 0 || port > MAX_PORT || host.value === undefined) return undefined
  return { ip: host.value, protocol: transport.code === CODE_TCP ? 'tcp' : 'udp', port }
}

/** The listen address with the external IP and port in place of ours (the rest, /ws, /quic-v1..., kept). */
function externalAddr (internal: Multiaddr, ip: string, port: number): Multiaddr {
  const [, transport, ...rest] = internal.getComponents()
  let text = `/ip4/${ip}/${transport.code === CODE_TCP ? 'tcp' : 'udp'}/${port}`
  for (const c of rest) text += `/${c.name}${c.value !== undefined ? `/${c.value}` : ''}`
  return multiaddr(text)
}
