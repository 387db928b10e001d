/**
 * The connection manager: the node's table of open connections and its policy.
 *
 * - `openConnection` reuses an open connection to the peer (unless `force`), otherwise dials.
 * - Inbound raw connections go through admission (./inbound-admission.ts: per-host rate,
 *   pending handshakes per address and subnet, the oldest stalled handshake evicted when the
 *   table is full), then are upgraded. At the high watermark a new inbound connection is still
 *   accepted and the least valuable ones are trimmed instead, so connections held open by an
 *   attacker cannot lock honest peers out; only at twice the high watermark (the hard ceiling,
 *   beside the resource manager's own limits) is a newcomer refused.
 * - Events: 'peer:connect' with a peer's first connection, 'connection:open' for every one;
 *   'connection:close' for every close and 'peer:disconnect' when a peer's last one closed.
 * - Above `maxConnections` (the high watermark) connections are pruned down to
 *   `lowWatermark`, least valuable first (./prune-order.ts): unidentified peers (identify never
 *   told us their protocols) before identified ones, then lower tag value (the sum of the
 *   peer's tags in the peer store), then idle (no open stream) before busy, then oldest first.
 *   Protected peers (a tag whose name starts with 'keep-alive', or `protect()`) are never
 *   pruned, and neither is a connection younger than `pruneGracePeriod` (it has not had the
 *   chance to show its value yet).
 * - Below `minConnections` the node dials peers it knows (./min-connections.ts), checked also
 *   whenever a discovery mechanism reports a peer (`peer:discovery`).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../interface/common.ts'
import type { Connection } from '../interface/connection.ts'
import type { ConnectionManager, DialOptions, DialTarget } from '../interface/connection-manager.ts'
import type { Libp2pEvents, TypedEvents } from '../interface/events.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { PeerStore } from '../interface/peer-store.ts'
import type { RawConnection, Transport } from '../interface/transport.ts'
import { raceSignal } from '../util/abort.ts'
import { ConnectionDeniedError, InvalidMultiaddrError, NotStartedError } from '../util/errors.ts'
import { isRelayed } from '../util/multiaddr.ts'
import { logger } from '../util/logger.ts'
import { Deadline } from '../util/deadline.ts'
import { runAfterBatch, unrefTimeout } from '../util/timers.ts'
import { Dialer, resolveDialTarget } from './dialer.ts'
import { SwitchConnection } from './connection.ts'
import type { DialerInit, DialerOptions } from './dialer.ts'
import { MinConnectionsKeeper } from './min-connections.ts'
import type { ConnectionResources, ResourceManager } from './resource-manager/index.ts'
import { InboundAdmission, type InboundAdmissionOptions, type PendingHandshake } from './inbound-admission.ts'
import { pruneCandidates, type PeerWorth } from './prune-order.ts'

const log = logger('connection-manager')

/**
 * What a connection counts against in the resource manager: its address and a descriptor; a
 * relayed one neither (it rides on the relay's connection, and the relay's IP is not the
 * peer's: many peers reach us through one relay).
 */
function resourceKeyOf (addr: Multiaddr): [Multiaddr | undefined, boolean] {
  return isRelayed(addr) ? [undefined, false] : [addr, true]
}

/** Tags whose name starts with this protect a peer from pruning (js-libp2p's KEEP_ALIVE). */
export const KEEP_ALIVE = 'keep-alive'

export const DEFAULT_MAX_CONNECTIONS = 300
export { DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS, DEFAULT_INBOUND_CONNECTION_THRESHOLD } from './inbound-admission.ts'
export const DEFAULT_STOP_TIMEOUT = 5_000
export const DEFAULT_PRUNE_GRACE_PERIOD = 20_000
/** A trim waiting for grace periods to end waits this much longer, to take several at once. */
const PRUNE_BATCH_MS = 500

export interface ConnectionManagerOptions extends DialerOptions, InboundAdmissionOptions {
  /** High watermark: above this many connections, pruning starts (default 300); inbound
   * connections are refused only at twice this many. */
  maxConnections?: number
  /** Pruning stops at this many connections (default 90% of maxConnections). */
  lowWatermark?: number
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

export class DefaultConnectionManager implements ConnectionManager {
  readonly #init: ConnectionManagerInit
  readonly #dialer: Dialer
  readonly #connections = new Map<string, Connection[]>()
  readonly #protected = new Map<string, Set<string>>()
  readonly #admission: InboundAdmission
  readonly maxConnections: number
  readonly lowWatermark: number
  #started = false
  #pruning = false
  #pruneAgain = false
  #pruneTimer: ReturnType<typeof setTimeout> | undefined
  /** A trim is under way: continue to the low watermark. */
  #trimming = false
  readonly #minConnections: MinConnectionsKeeper
  /** What each registered connection holds in the resource manager, released when it closes. */
  readonly #resources = new Map<Connection, ConnectionResources>()

  constructor (init: ConnectionManagerInit) {
    this.#init = init
    this.maxConnections = init.maxConnections ?? DEFAULT_MAX_CONNECTIONS
    this.lowWatermark = Math.min(this.maxConnections, init.lowWatermark ?? Math.floor(this.maxConnections * 0.9))
    this.#admission = new InboundAdmission(init)
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
    this.#minConnections.start()
    this.#init.events.addEventListener('peer:discovery', this.#onDiscovery)
  }

  /** A peer just found (mDNS, rendezvous, ...) is in the peer store: dial it if below the minimum. */
  readonly #onDiscovery = (): void => { this.#minConnections.check() }

  /** Aborts dials and pending upgrades, then closes every connection (gracefully, bounded). */
  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    this.#init.events.removeEventListener('peer:discovery', this.#onDiscovery)
    this.#minConnections.stop()
    if (this.#pruneTimer !== undefined) clearTimeout(this.#pruneTimer)
    this.#pruneTimer = undefined
    this.#dialer.stop()
    this.#admission.abortAll(new NotStartedError('the node is stopping'))
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

  canDial (addr: Multiaddr): boolean {
    return this.#init.transports.transportForDial(addr) !== undefined
  }

  canHolePunch (addr: Multiaddr): boolean {
    return this.#punchingTransport(addr) !== undefined
  }

  async holePunch (addr: Multiaddr, options: Required<AbortOptions>): Promise<void> {
    const transport = this.#punchingTransport(addr)
    if (transport?.holePunch === undefined) throw new InvalidMultiaddrError(`no configured transport can punch a hole to ${addr.toString()}`)
    await transport.holePunch(addr, options)
  }

  #punchingTransport (addr: Multiaddr): Transport | undefined {
    const transport = this.#init.transports.transportForDial(addr) as Transport | undefined
    return typeof transport?.holePunch === 'function' ? transport : undefined
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

  /** Inbound handshakes in progress. */
  get pendingInbound (): number { return this.#admission.pending }
  /** Inbound sockets waiting for a handshake place. */
  get waitingInbound (): number { return this.#admission.waiting }

  /** Takes a raw connection a listener accepted: admission checks, upgrade, registration. */
  acceptIncoming (raw: RawConnection): void {
    const ceiling = 2 * this.maxConnections
    const refusal = !this.#started
      ? 'the node is not started'
      : this.#count() >= ceiling
        ? `at the hard connection ceiling (${ceiling}, twice maxConnections)`
        : this.#admission.admit(raw, handshake => { this.#upgradeInbound(raw, handshake) })
    if (refusal !== undefined) {
      log('refusing inbound connection from %s: %s', raw.remoteAddr, refusal)
      raw.abort(new ConnectionDeniedError(refusal))
    }
  }

  /** The admitted connection reserves its resources and is upgraded, until `handshake` ends. */
  #upgradeInbound (raw: RawConnection, handshake: PendingHandshake): void {
    let resources: ConnectionResources | undefined
    try {
      if (!this.#started) throw new NotStartedError('the node is not started')
      resources = this.#init.resourceManager?.openConnection('inbound', ...resourceKeyOf(raw.remoteAddr))
    } catch (err) {
      handshake.done()
      raw.abort(err as Error)
      return
    }
    // One reaction for both outcomes (no .finally(): a promise and a hop more per connection).
    this.#init.upgrader.upgradeInbound(raw, { signal: handshake.signal }).then(connection => {
      try {
        if (resources !== undefined && !this.#claim(connection, resources)) return
        this.addConnection(connection)
      } finally {
        handshake.done()
      }
    }, err => {
      handshake.done()
      resources?.done()
      log('inbound upgrade from %s failed: %s', raw.remoteAddr, err)
    })
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
      // Remember where the peer was reachable so a later dial by peer id finds it. Nobody
      // waits for it, and a merge (load, compare, encode, write) costs more than the rest of
      // the connection's set-up: it runs once the first stream's bytes have left.
      runAfterBatch(() => {
        this.#init.peerStore.merge(connection.remotePeer, { multiaddrs: [connection.remoteAddr] }).catch(err => { log('could not save %s: %s', connection.remoteAddr, err) })
      })
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
      resources = this.#init.resourceManager.openConnection('outbound', ...resourceKeyOf(connection.remoteAddr))
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
    if (connection instanceof SwitchConnection) connection.attachMemory(resources)
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
    // Over the high watermark a trim starts and goes on (later rounds, as connections leave
    // their grace period) until the low watermark is reached.
    if (connections.length > this.maxConnections) this.#trimming = true
    if (!this.#trimming || connections.length <= this.lowWatermark) {
      this.#trimming = false
      return
    }
    const worth = new Map<string, PeerWorth>()
    for (const connection of connections) {
      const key = connection.remotePeer.toString()
      if (!worth.has(key)) worth.set(key, await this.#peerWorth(connection.remotePeer))
    }
    const grace = this.#init.pruneGracePeriod ?? DEFAULT_PRUNE_GRACE_PERIOD
    const now = Date.now()
    const excess = connections.length - this.lowWatermark
    const candidates = pruneCandidates(connections, worth, { excess, graceStart: now - grace })
    if (candidates.length < excess) this.#pruneWhenGraceEnds(connections, worth, now, grace)
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

  /**
   * Still over the watermark with connections in their grace period: look again when the first
   * of them leaves it, since nothing else may trigger a prune (a flood opened them all at once).
   */
  #pruneWhenGraceEnds (connections: Connection[], worth: Map<string, PeerWorth>, now: number, grace: number): void {
    if (this.#pruneTimer !== undefined || !this.#started) return
    let first = Infinity
    for (const c of connections) {
      if (c.timeline.open > now - grace && worth.get(c.remotePeer.toString()) !== 'protected') first = Math.min(first, c.timeline.open)
    }
    if (first === Infinity) return
    this.#pruneTimer = unrefTimeout(() => {
      this.#pruneTimer = undefined
      if (this.#started) void this.#prune()
    }, Math.max(1, first + grace - now) + PRUNE_BATCH_MS)
  }

  async #peerWorth (peerId: PeerId): Promise<PeerWorth> {
    if (this.isProtected(peerId)) return 'protected'
    let peer
    try {
      peer = await this.#init.peerStore.get(peerId)
    } catch {
      return { identified: false, value: 0 }
    }
    const now = Date.now()
    let value = 0
    for (const [name, tag] of peer.tags) {
      if (tag.expires !== undefined && tag.expires <= now) continue
      if (name.startsWith(KEEP_ALIVE)) return 'protected'
      value += tag.value
    }
    return { identified: peer.protocols.length > 0, value }
  }
}
