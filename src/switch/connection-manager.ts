/**
 * The connection manager: the node's table of open connections and its policy.
 *
 * - `openConnection` reuses an open connection to the peer (unless `force`), otherwise dials.
 * - Inbound raw connections are admitted only while the pending-upgrade count, the per-host
 *   rate and the connection limit allow, then upgraded.
 * - Events: 'peer:connect' with a peer's first connection, 'connection:open' for every one;
 *   'connection:close' for every close and 'peer:disconnect' when a peer's last one closed.
 * - Above `maxConnections` (the high watermark) connections are pruned down to
 *   `lowWatermark`: lowest-value peers first (value = sum of the peer's tag values in the peer
 *   store), newest connection first among equals. Protected peers (a tag whose name starts
 *   with 'keep-alive', or `protect()`) are never pruned, and neither is a connection younger
 *   than `pruneGracePeriod` (it has not had the chance to show its value yet).
 * - Below `minConnections` the node dials peers it knows (./min-connections.ts).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../interface/common.ts'
import type { Connection } from '../interface/connection.ts'
import type { ConnectionManager, DialOptions, DialTarget } from '../interface/connection-manager.ts'
import type { Libp2pEvents, TypedEvents } from '../interface/events.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { PeerStore } from '../interface/peer-store.ts'
import type { RawConnection } from '../interface/transport.ts'
import { raceSignal } from '../util/abort.ts'
import { ConnectionDeniedError, NotStartedError } from '../util/errors.ts'
import { logger } from '../util/logger.ts'
import { Deadline } from '../util/deadline.ts'
import { ipOf } from '../util/multiaddr.ts'
import { Dialer, resolveDialTarget } from './dialer.ts'
import type { DialerInit, DialerOptions } from './dialer.ts'
import { MinConnectionsKeeper } from './min-connections.ts'
import type { ConnectionResources, ResourceManager } from './resource-manager/index.ts'

const log = logger('connection-manager')

/** Tags whose name starts with this protect a peer from pruning (js-libp2p's KEEP_ALIVE). */
export const KEEP_ALIVE = 'keep-alive'

export const DEFAULT_MAX_CONNECTIONS = 300
export const DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS = 10
export const DEFAULT_INBOUND_CONNECTION_THRESHOLD = 5
export const DEFAULT_STOP_TIMEOUT = 5_000
export const DEFAULT_PRUNE_GRACE_PERIOD = 20_000

export interface ConnectionManagerOptions extends DialerOptions {
  /** High watermark: above this many connections, pruning starts (default 300). */
  maxConnections?: number
  /** Pruning stops at this many connections (default 90% of maxConnections). */
  lowWatermark?: number
  /** Inbound connections being upgraded at once (default 10); more are dropped. */
  maxIncomingPendingConnections?: number
  /** Inbound connections accepted per second from one host (default 5). */
  inboundConnectionThreshold?: number
  /** Hosts (IP strings) exempt from the inbound rate and connection limits. */
  allow?: string[]
  /** Bound for closing every connection on stop before they are aborted (default 5 s). */
  stopTimeout?: number
  /** Connections younger than this (ms) are never pruned (default 20 s). */
  pruneGracePeriod?: number
  /** Below this many connections, the node dials peers from its peer store (default 0: off). */
  minConnections?: number
  /** How often the minimum is checked besides on every close, in ms (default 10 s). */
  minConnectionsCheckInterval?: number
  // The time limits of the connections it manages (applied by the upgrader and connections):
  /** Whole inbound upgrade (security + muxer), in ms (default 10 s). */
  inboundUpgradeTimeout?: number
  /** Whole outbound upgrade, in ms (default 10 s; a dial's addressDialTimeout also bounds it). */
  outboundUpgradeTimeout?: number
  /** multistream-select on each new stream, in ms (default 10 s). */
  protocolNegotiationTimeout?: number
  /** Graceful close of one connection before it is aborted, in ms (default 5 s). */
  connectionCloseTimeout?: number
}

export interface ConnectionManagerInit extends ConnectionManagerOptions, Omit<DialerInit, 'peerStore' | 'upgrader'> {
  events: TypedEvents<Libp2pEvents>
  /** Connections reserve from it (system, transient, per address, per peer) for their life. */
  resourceManager?: Pick<ResourceManager, 'openConnection'>
  peerStore: PeerStore
  upgrader: DialerInit['upgrader'] & {
    upgradeInbound(raw: RawConnection, options?: AbortOptions): Promise<Connection>
  }
}

interface RateWindow { start: number, count: number }

/** Hosts tracked for inbound rate limiting at most; the map is reset when it grows past this. */
const MAX_RATE_HOSTS = 4096

/** What inbound limits count by: the remote IP, or the whole address when it has none. */
function hostOf (addr: Multiaddr): string {
  return ipOf(addr) ?? addr.toString()
}

export class DefaultConnectionManager implements ConnectionManager {
  readonly #init: ConnectionManagerInit
  readonly #dialer: Dialer
  readonly #connections = new Map<string, Connection[]>()
  readonly #protected = new Map<string, Set<string>>()
  readonly #rates = new Map<string, RateWindow>()
  readonly #allow: Set<string>
  readonly maxConnections: number
  readonly lowWatermark: number
  #started = false
  #pendingInbound = 0
  #inboundController = new AbortController()
  #pruning = false
  #pruneAgain = false
  readonly #minConnections: MinConnectionsKeeper
  /** What each registered connection holds in the resource manager, released when it closes. */
  readonly #resources = new Map<Connection, ConnectionResources>()

  constructor (init: ConnectionManagerInit) {
    this.#init = init
    this.maxConnections = init.maxConnections ?? DEFAULT_MAX_CONNECTIONS
    this.lowWatermark = Math.min(this.maxConnections, init.lowWatermark ?? Math.floor(this.maxConnections * 0.9))
    this.#allow = new Set(init.allow ?? [])
    this.#dialer = new Dialer(init)
    this.#minConnections = new MinConnectionsKeeper({
      minConnections: init.minConnections ?? 0,
      checkInterval: init.minConnectionsCheckInterval,
      selfId: init.peerId,
      peerStore: init.peerStore,
      connectionCount: () => this.#count(),
      isConnected: (peerId) => this.#openConnectionTo(peerId) !== undefined,
      dial: async (peerId, signal) => await this.openConnection(peerId, { signal })
    })
  }

  get started (): boolean { return this.#started }
  /** Dials in flight. */
  get pendingDials (): number { return this.#dialer.pendingDials }

  start (): void {
    this.#started = true
    this.#dialer.start()
    if (this.#inboundController.signal.aborted) this.#inboundController = new AbortController()
    this.#minConnections.start()
  }

  /** Aborts dials and pending upgrades, then closes every connection (gracefully, bounded). */
  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    this.#minConnections.stop()
    this.#dialer.stop()
    this.#inboundController.abort(new NotStartedError('the node is stopping'))
    const deadline = new Deadline(this.#init.stopTimeout ?? DEFAULT_STOP_TIMEOUT)
    try {
      // One budget for the whole stop: close() includes waiting for the transport's FIN
      // exchange, which the signal alone does not bound.
      await Promise.all(this.getConnections().map(async c => {
        try {
          await raceSignal(c.close({ signal: deadline.signal }), deadline.signal)
        } catch (err) {
          c.abort(err as Error)
        }
      }))
    } finally {
      deadline.clear()
    }
    for (const c of this.getConnections()) c.abort(new NotStartedError('the node stopped'))
    this.#rates.clear()
  }

  async openConnection (target: DialTarget, options: DialOptions = {}): Promise<Connection> {
    if (!this.#started) throw new NotStartedError()
    const resolved = resolveDialTarget(target)
    if (resolved.peerId !== undefined && options.force !== true) {
      const existing = this.#openConnectionTo(resolved.peerId)
      if (existing !== undefined) return existing
    }
    const connection = await this.#dialer.dialResolved(resolved, options)
    this.#reserveOutbound(connection)
    this.addConnection(connection)
    if (connection.status !== 'open') throw new ConnectionDeniedError(`the connection to ${connection.remotePeer.toString()} closed right after opening`)
    return connection
  }

  /** An open connection to the peer; a direct one over a limited (relayed) one, so that once
   * a hole punch succeeded, new streams take the direct path. */
  #openConnectionTo (peerId: PeerId): Connection | undefined {
    let limited: Connection | undefined
    for (const c of this.#connections.get(peerId.toString()) ?? []) {
      if (c.status !== 'open') continue
      if (c.limits === undefined) return c
      limited ??= c
    }
    return limited
  }

  getConnections (peerId?: PeerId): Connection[] {
    if (peerId !== undefined) return [...(this.#connections.get(peerId.toString()) ?? [])]
    const all: Connection[] = []
    for (const list of this.#connections.values()) all.push(...list)
    return all
  }

  /** Peers with at least one connection. */
  getPeers (): PeerId[] {
    const peers: PeerId[] = []
    for (const list of this.#connections.values()) if (list.length > 0) peers.push(list[0].remotePeer)
    return peers
  }

  async closeConnections (peerId: PeerId, options: AbortOptions = {}): Promise<void> {
    await Promise.all(this.getConnections(peerId).map(async c => {
      try {
        await c.close(options)
      } catch (err) {
        c.abort(err as Error)
      }
    }))
  }

  /** Protects `peerId` from pruning until every `tag` given for it is unprotected. */
  protect (peerId: PeerId, tag: string = 'default'): void {
    const key = peerId.toString()
    let tags = this.#protected.get(key)
    if (tags === undefined) {
      tags = new Set()
      this.#protected.set(key, tags)
    }
    tags.add(tag)
  }

  unprotect (peerId: PeerId, tag: string = 'default'): boolean {
    const key = peerId.toString()
    const tags = this.#protected.get(key)
    if (tags === undefined) return false
    tags.delete(tag)
    if (tags.size === 0) this.#protected.delete(key)
    return this.#protected.has(key)
  }

  isProtected (peerId: PeerId): boolean {
    return this.#protected.has(peerId.toString())
  }

  // ---- inbound -----------------------------------------------------------------------------

  /** Takes a raw connection a listener accepted: admission checks, upgrade, registration. */
  acceptIncoming (raw: RawConnection): void {
    const reason = this.#refuseInbound(raw)
    if (reason !== undefined) {
      log('refusing inbound connection from %s: %s', raw.remoteAddr, reason)
      raw.abort(new ConnectionDeniedError(reason))
      return
    }
    let resources: ConnectionResources | undefined
    try {
      resources = this.#init.resourceManager?.openConnection('inbound', raw.remoteAddr)
    } catch (err) {
      raw.abort(err as Error)
      return
    }
    this.#pendingInbound++
    this.#init.upgrader.upgradeInbound(raw, { signal: this.#inboundController.signal }).then(connection => {
      if (resources !== undefined && !this.#claim(connection, resources)) return
      this.addConnection(connection)
    }, err => {
      resources?.done()
      log('inbound upgrade from %s failed: %s', raw.remoteAddr, err)
    }).finally(() => {
      this.#pendingInbound--
    })
  }

  #refuseInbound (raw: RawConnection): string | undefined {
    if (!this.#started) return 'the node is not started'
    const host = hostOf(raw.remoteAddr)
    if (this.#allow.has(host)) return undefined
    if (this.#pendingInbound >= (this.#init.maxIncomingPendingConnections ?? DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS)) return 'too many inbound connections being upgraded'
    if (this.#count() >= this.maxConnections) return `at the connection limit (${this.maxConnections})`
    const now = Date.now()
    let window = this.#rates.get(host)
    if (window === undefined || now - window.start >= 1000) {
      if (window === undefined && this.#rates.size >= MAX_RATE_HOSTS) this.#rates.clear()
      window = { start: now, count: 0 }
      this.#rates.set(host, window)
    }
    if (++window.count > (this.#init.inboundConnectionThreshold ?? DEFAULT_INBOUND_CONNECTION_THRESHOLD)) return `more than ${this.#init.inboundConnectionThreshold ?? DEFAULT_INBOUND_CONNECTION_THRESHOLD} connections per second from ${host}`
    return undefined
  }

  #count (): number {
    let n = 0
    for (const list of this.#connections.values()) n += list.length
    return n
  }

  // ---- the table ---------------------------------------------------------------------------

  /** Registers an upgraded connection (idempotent) and announces it. */
  addConnection (connection: Connection): void {
    if (connection.status !== 'open') return
    if (!this.#started) {
      connection.abort(new NotStartedError('the node is not started'))
      return
    }
    const key = connection.remotePeer.toString()
    let list = this.#connections.get(key)
    if (list?.includes(connection) === true) return
    if (list === undefined) {
      list = []
      this.#connections.set(key, list)
    }
    list.push(connection)
    if (connection.direction === 'outbound') {
      // Remember where the peer was reachable so a later dial by peer id finds it.
      this.#init.peerStore.merge(connection.remotePeer, { multiaddrs: [connection.remoteAddr] }).catch(err => { log('could not save %s: %s', connection.remoteAddr, err) })
    }
    if (list.length === 1) this.#init.events.safeDispatch('peer:connect', connection.remotePeer)
    this.#init.events.safeDispatch('connection:open', connection)
    if (this.#count() > this.maxConnections) void this.#prune()
  }

  /** Reserves a dialed connection in the resource manager; a refusal closes it and throws. */
  #reserveOutbound (connection: Connection): void {
    if (this.#init.resourceManager === undefined || this.#resources.has(connection)) return
    let resources: ConnectionResources
    try {
      resources = this.#init.resourceManager.openConnection('outbound', connection.remoteAddr)
    } catch (err) {
      connection.abort(err as Error)
      throw err
    }
    if (!this.#claim(connection, resources)) throw new ConnectionDeniedError(`the connection to ${connection.remotePeer.toString()} was refused by the resource manager`)
  }

  /** Ties `resources` to the connection's peer and life; false (connection aborted) when refused. */
  #claim (connection: Connection, resources: ConnectionResources): boolean {
    try {
      resources.setPeer(connection.remotePeer)
    } catch (err) {
      resources.done()
      connection.abort(err as Error)
      return false
    }
    if (connection.status !== 'open') {
      resources.done()
      return true
    }
    this.#resources.set(connection, resources)
    return true
  }

  /** The connection closed (wired to each Connection's onClose). */
  onConnectionClose (connection: Connection): void {
    const resources = this.#resources.get(connection)
    if (resources !== undefined) {
      this.#resources.delete(connection)
      resources.done()
    }
    const key = connection.remotePeer.toString()
    const list = this.#connections.get(key)
    const index = list?.indexOf(connection) ?? -1
    if (list === undefined || index < 0) return
    list.splice(index, 1)
    this.#init.events.safeDispatch('connection:close', connection)
    if (list.length === 0) {
      this.#connections.delete(key)
      this.#init.events.safeDispatch('peer:disconnect', connection.remotePeer)
    }
    this.#minConnections.check()
  }

  // ---- pruning -----------------------------------------------------------------------------

  async #prune (): Promise<void> {
    if (this.#pruning) {
      this.#pruneAgain = true
      return
    }
    this.#pruning = true
    try {
      do {
        this.#pruneAgain = false
        await this.#pruneOnce()
      } while (this.#pruneAgain && this.#started)
    } catch (err) {
      log.error('pruning failed: %s', err)
    } finally {
      this.#pruning = false
    }
  }

  async #pruneOnce (): Promise<void> {
    const connections = this.getConnections().filter(c => c.status === 'open')
    if (connections.length <= this.maxConnections) return
    const excess = connections.length - this.lowWatermark
    const graceStart = Date.now() - (this.#init.pruneGracePeriod ?? DEFAULT_PRUNE_GRACE_PERIOD)
    const values = new Map<string, number | 'protected'>()
    for (const connection of connections) {
      const key = connection.remotePeer.toString()
      if (!values.has(key)) values.set(key, await this.#peerValue(connection.remotePeer))
    }
    const candidates = connections
      .filter(c => values.get(c.remotePeer.toString()) !== 'protected' && c.timeline.open <= graceStart)
      .sort((a, b) => {
        const va = values.get(a.remotePeer.toString()) as number
        const vb = values.get(b.remotePeer.toString()) as number
        return va - vb || b.timeline.open - a.timeline.open
      })
      .slice(0, excess)
    if (candidates.length === 0) return
    log('pruning %d of %d connections', candidates.length, connections.length)
    await Promise.all(candidates.map(async c => {
      try {
        await c.close()
      } catch (err) {
        c.abort(err as Error)
      }
    }))
  }

  async #peerValue (peerId: PeerId): Promise<number | 'protected'> {
    if (this.isProtected(peerId)) return 'protected'
    let peer
    try {
      peer = await this.#init.peerStore.get(peerId)
    } catch {
      return 0
    }
    const now = Date.now()
    let value = 0
    for (const [name, tag] of peer.tags) {
      if (tag.expires !== undefined && tag.expires <= now) continue
      if (name.startsWith(KEEP_ALIVE)) return 'protected'
      value += tag.value
    }
    return value
  }
}
