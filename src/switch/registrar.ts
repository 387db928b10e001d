/**
 * The registrar: which protocols this node handles (and with what stream limits), and which
 * topologies want to hear about peers that speak a protocol.
 *
 * Topologies fire `onConnect` once per peer when identify reports (or the peer store already
 * knows, at connect time) that the peer supports the protocol, and `onDisconnect` when the
 * peer's last connection closes or a later identify no longer lists the protocol.
 */
import type { Connection } from '../interface/connection.ts'
import type { IdentifyResult, Libp2pEvents, TypedEvents } from '../interface/events.ts'
import type { Registrar, StreamHandler, StreamHandlerOptions, Topology } from '../interface/registrar.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { PeerStore } from '../interface/peer-store.ts'
import { InvalidParametersError } from '../util/errors.ts'
import { logger } from '../util/logger.ts'

const log = logger('registrar')

export const DEFAULT_MAX_INBOUND_STREAMS = 32
export const DEFAULT_MAX_OUTBOUND_STREAMS = 64

type HandlerEntry = NonNullable<ReturnType<Registrar['getHandler']>>

interface TopologyEntry {
  topology: Topology
  /** Peers told onConnect and not yet onDisconnect. */
  notified: Set<string>
}

export interface RegistrarInit {
  events: TypedEvents<Libp2pEvents>
  peerStore: PeerStore
  /** Open connections, to notify topologies registered after peers connected. */
  getConnections(peerId?: PeerId): Connection[]
  /** Called when the set of handled protocols changes (the node announces it). */
  onProtocolsChange?(): void
}

export class DefaultRegistrar implements Registrar {
  readonly #init: RegistrarInit
  readonly #handlers = new Map<string, HandlerEntry>()
  #protocolList: string[] | undefined
  readonly #topologies = new Map<string, Map<string, TopologyEntry>>()
  #nextTopologyId = 0
  #started = false

  constructor (init: RegistrarInit) {
    this.#init = init
  }

  start (): void {
    if (this.#started) return
    this.#started = true
    this.#init.events.addEventListener('peer:identify', this.#onIdentify)
    this.#init.events.addEventListener('peer:connect', this.#onConnect)
    this.#init.events.addEventListener('peer:disconnect', this.#onDisconnect)
  }

  stop (): void {
    if (!this.#started) return
    this.#started = false
    this.#init.events.removeEventListener('peer:identify', this.#onIdentify)
    this.#init.events.removeEventListener('peer:connect', this.#onConnect)
    this.#init.events.removeEventListener('peer:disconnect', this.#onDisconnect)
    for (const entries of this.#topologies.values()) {
      for (const entry of entries.values()) entry.notified.clear()
    }
  }

  handle (protocol: string, handler: StreamHandler, options: StreamHandlerOptions = {}): void {
    if (typeof protocol !== 'string' || protocol.length === 0 || protocol.length > 1000) throw new InvalidParametersError('a protocol id must be a non-empty string shorter than 1000 characters')
    if (this.#handlers.has(protocol)) throw new InvalidParametersError(`a handler for ${protocol} is already registered`)
    const maxInboundStreams = options.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS
    const maxOutboundStreams = options.maxOutboundStreams ?? DEFAULT_MAX_OUTBOUND_STREAMS
    if (!(maxInboundStreams >= 0) || !(maxOutboundStreams >= 0)) throw new InvalidParametersError('stream limits must be >= 0')
    this.#handlers.set(protocol, { handler, options: { ...options, maxInboundStreams, maxOutboundStreams } })
    this.#protocolList = undefined
    this.#init.onProtocolsChange?.()
  }

  unhandle (protocol: string): void {
    if (!this.#handlers.delete(protocol)) return
    this.#protocolList = undefined
    this.#init.onProtocolsChange?.()
  }

  getProtocols (): string[] {
    // Every inbound stream asks for this list; rebuild it only when handlers change. Callers
    // must not mutate it.
    this.#protocolList ??= [...this.#handlers.keys()].sort()
    return this.#protocolList
  }

  getHandler (protocol: string): HandlerEntry | undefined {
    return this.#handlers.get(protocol)
  }

  register (protocol: string, topology: Topology): string {
    const id = `topology-${++this.#nextTopologyId}`
    let entries = this.#topologies.get(protocol)
    if (entries === undefined) {
      entries = new Map()
      this.#topologies.set(protocol, entries)
    }
    const entry: TopologyEntry = { topology, notified: new Set() }
    entries.set(id, entry)
    if (this.#started) void this.#notifyExisting(protocol, entry)
    return id
  }

  unregister (id: string): void {
    for (const [protocol, entries] of this.#topologies) {
      if (entries.delete(id) && entries.size === 0) this.#topologies.delete(protocol)
    }
  }

  /** A topology registered while peers are connected learns of those known to speak it. */
  async #notifyExisting (protocol: string, entry: TopologyEntry): Promise<void> {
    const seen = new Set<string>()
    for (const connection of this.#init.getConnections()) {
      const key = connection.remotePeer.toString()
      if (seen.has(key)) continue
      seen.add(key)
      const protocols = await this.#knownProtocols(connection.remotePeer)
      if (protocols.includes(protocol) && connection.status === 'open') this.#connect(entry, connection.remotePeer, connection)
    }
  }

  async #knownProtocols (peerId: PeerId): Promise<string[]> {
    try {
      return (await this.#init.peerStore.get(peerId)).protocols
    } catch {
      return []
    }
  }

  #connect (entry: TopologyEntry, peerId: PeerId, connection: Connection): void {
    if (connection.limits !== undefined && entry.topology.notifyOnLimitedConnection !== true) return
    const key = peerId.toString()
    if (entry.notified.has(key)) return
    entry.notified.add(key)
    try {
      entry.topology.onConnect?.(peerId, connection)
    } catch (err) {
      log.error('topology onConnect threw: %s', err)
    }
  }

  #disconnect (entry: TopologyEntry, peerId: PeerId): void {
    if (!entry.notified.delete(peerId.toString())) return
    try {
      entry.topology.onDisconnect?.(peerId)
    } catch (err) {
      log.error('topology onDisconnect threw: %s', err)
    }
  }

  readonly #onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols, connection } = evt.detail
    const supported = new Set(protocols)
    for (const [protocol, entries] of this.#topologies) {
      for (const entry of entries.values()) {
        if (supported.has(protocol)) {
          if (connection.status === 'open') this.#connect(entry, peerId, connection)
        } else {
          this.#disconnect(entry, peerId)
        }
      }
    }
  }

  readonly #onConnect = (evt: CustomEvent<PeerId>): void => {
    const peerId = evt.detail
    if (this.#topologies.size === 0) return
    void (async () => {
      const protocols = await this.#knownProtocols(peerId)
      const connection = this.#init.getConnections(peerId).find(c => c.status === 'open')
      if (connection === undefined) return
      for (const protocol of protocols) {
        const entries = this.#topologies.get(protocol)
        if (entries === undefined) continue
        for (const entry of entries.values()) this.#connect(entry, peerId, connection)
      }
    })()
  }

  readonly #onDisconnect = (evt: CustomEvent<PeerId>): void => {
    for (const entries of this.#topologies.values()) {
      for (const entry of entries.values()) this.#disconnect(entry, evt.detail)
    }
  }
}
