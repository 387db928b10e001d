/**
 * The Kademlia DHT service (specs kad-dht/README.md): `services: { identify: identify(), dht: kadDHT() }`.
 *
 * - Server mode (default) handles `/ipfs/kad/1.0.0`, so identify advertises it and other peers
 *   put us in their routing tables; client mode only sends queries and never advertises.
 * - Peers enter our routing table when identify reports that they speak the protocol (the
 *   registrar's topology), so clients never do.
 * - Records and provider records live in the node's datastore, so they survive restarts;
 *   provider records expire after 48 h, and what we provide is republished every 22 h.
 * - The routing table is refreshed periodically by lookups of random keys in each bucket
 *   (a random walk), which doubles as peer discovery.
 *
 * Needs the identify service (it is how peers learn who speaks the protocol).
 * Operations are in the public API below; each takes `{ signal, onProgress }`.
 */
import type { DhtBucketFill, DhtDiagnostics, DhtQueryRecord } from '../interface/diagnostics.ts'
import { RecentQueries } from './recent-queries.ts'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../interface/common.ts'
import type { NodeComponents, Startable } from '../interface/components.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { Logger } from '../interface/logger.ts'
import { DhtModeSwitch } from './mode-switch.ts'
import type { DhtMode } from './mode-switch.ts'
import { peerIdFromMultihash } from '../peer/peer-id.ts'
import { throwIfAborted } from '../util/abort.ts'
import { equalBytes } from '../util/bytes.ts'
import { InvalidParametersError, NotFoundError, ServiceStoppedError } from '../util/errors.ts'
import { randomKeyForBucket, toKadId } from './distance.ts'
import { channel, type DhtEvent, type ProgressOptions } from './events.ts'
import type { PeerInfo } from '../interface/routing.ts'
import { DEFAULT_MESSAGE_LIMITS, MessageType, type DhtMessage, type DhtPeer, type MessageLimits } from './message.ts'
import { DhtNetwork, parseWireAddrs } from './network.ts'
import { withoutPeerId } from '../util/multiaddr.ts'
import { ProviderStore } from './provider-store.ts'
import { DhtMetrics } from './metrics.ts'
import { runQuery, type QueryCandidate, type QueryResult, type QueryStep } from './query.ts'
import { RecordStore } from './record-store.ts'
import { DhtContentRouter, DhtPeerRouter } from './routers.ts'
import { RoutingTable } from './routing-table.ts'
import { RpcHandler } from './rpc-handler.ts'
import { RecordValidation, type Validators } from './validators.ts'
import { unrefInterval } from '../util/timers.ts'

export const KAD_PROTOCOL = '/ipfs/kad/1.0.0'

export interface KadDHTOptions {
  /** Protocol id (default '/ipfs/kad/1.0.0', the Amino DHT that go and js share). */
  protocol?: string
  /**
   * 'server' answers queries and advertises the protocol; 'client' only asks. Unset, the node's
   * reachability decides (AutoNAT's `reachability` event: public -> server, private -> client),
   * starting in server mode; set, it is fixed.
   */
  mode?: 'server' | 'client'
  /**
   * Without `mode`: the mode before reachability is known (default 'server'). A node joining
   * the public network starts as a client, so it never advertises a server it may not be.
   */
  initialMode?: 'server' | 'client'
  /** Least time between two reachability-driven mode switches, in ms (default 5 min). */
  modeSwitchHoldoff?: number
  /** Bucket size and replication factor (default 20). */
  kBucketSize?: number
  /** Concurrent requests per lookup (default 10). */
  alpha?: number
  /** A lookup ends when this many of the closest peers answered (default 3). */
  beta?: number
  /** Disjoint lookup paths (S/Kademlia; default 1). */
  disjointPaths?: number
  /** Budget of one lookup, in ms (default 60 s). */
  queryTimeout?: number
  /** Budget of one request to one peer, dial included, in ms (default 10 s). */
  requestTimeout?: number
  /** Most peers one lookup asks (default 200). */
  maxPeersQueried?: number
  /** Largest DHT frame read or accepted, in bytes (default 1 MiB). */
  maxMessageSize?: number
  /** Decoder limits (peers per reply, addresses per peer, key length...). */
  messageLimits?: Partial<MessageLimits>
  /** Record validators by namespace, added to the built-in `pk` (e.g. `{ ipns: ... }`). */
  validators?: Validators
  /** Routing table refresh period in ms (default 10 min; 0 = never). */
  refreshInterval?: number
  /** Refresh once right after start (default true). */
  initialRefresh?: boolean
  /** Provider records live this long, in ms (default 48 h). */
  provideValidity?: number
  /** What we provide is announced again after this long, in ms (default 22 h). */
  reprovideInterval?: number
  /** Inbound streams idle this long between requests are closed, in ms (default 60 s). */
  streamIdleTimeout?: number
  /** Idle outbound streams kept for the next request to the same peer (default 64; 0 = none). */
  maxIdleStreams?: number
  /** A full bucket's oldest member is pinged before eviction only if unseen this long, in ms (default 10 min). */
  livenessCheckAge?: number
}

export type KadDHTComponents = Pick<NodeComponents, 'peerId' | 'registrar' | 'connectionManager' | 'peerStore' | 'addressManager' | 'datastore' | 'logger' | 'events'> & Partial<Pick<NodeComponents, 'metrics'>>

/** A CID (anything with `multihash.bytes`, e.g. multiformats' CID) or raw multihash bytes. */
export type ContentKey = { multihash: { bytes: Uint8Array } } | Uint8Array

const HOUR = 60 * 60 * 1000

export class KadDHT implements Startable, DhtDiagnostics {
  readonly protocol: string
  readonly routingTable: RoutingTable
  readonly network: DhtNetwork
  readonly records: RecordStore
  readonly providers: ProviderStore
  readonly validation: RecordValidation
  /** Literal, so the node's `services` type can see a DHT and add the ping it implies (node/implied-services.ts). */
  readonly serviceCapabilities = ['@libp2p/kad-dht', '@libp2p/content-routing', '@libp2p/peer-routing'] as const
  /** The routing table fills from identify (peers that list the DHT protocol): no identify, no table. */
  readonly serviceDependencies: readonly string[] = ['@libp2p/identify']
  /** What the node's `peerRouting` / `contentRouting` facades call. */
  readonly peerRouter: DhtPeerRouter = new DhtPeerRouter(this)
  readonly contentRouter: DhtContentRouter = new DhtContentRouter(this)
  readonly #components: KadDHTComponents
  readonly #log: Logger
  readonly #options: Required<Omit<KadDHTOptions, 'validators' | 'messageLimits' | 'mode' | 'initialMode' | 'protocol' | 'modeSwitchHoldoff'>>
  #mode: DhtMode
  readonly #modeSwitch: DhtModeSwitch | undefined
  readonly #limits: MessageLimits
  #handler: RpcHandler | undefined
  #topologyId: string | undefined
  #shutdown = new AbortController()
  #timers: Array<ReturnType<typeof setInterval>> = []
  #started = false
  #refreshing: Promise<void> | undefined
  readonly #metrics: DhtMetrics | undefined
  readonly #recentQueries = new RecentQueries()

  constructor (components: KadDHTComponents, options: KadDHTOptions = {}) {
    this.#components = components
    this.#log = components.logger('kad-dht')
    this.#metrics = components.metrics === undefined ? undefined : new DhtMetrics(components.metrics, () => this.routingTable.size)
    this.protocol = options.protocol ?? KAD_PROTOCOL
    this.#mode = options.mode ?? options.initialMode ?? 'server'
    this.#modeSwitch = options.mode !== undefined
      ? undefined
      : new DhtModeSwitch({ events: components.events, getMode: () => this.#mode, setMode: (mode) => { this.#setMode(mode) }, holdMs: options.modeSwitchHoldoff })
    this.#options = {
      kBucketSize: options.kBucketSize ?? 20,
      alpha: options.alpha ?? 10,
      beta: options.beta ?? 3,
      disjointPaths: options.disjointPaths ?? 1,
      queryTimeout: options.queryTimeout ?? 60_000,
      requestTimeout: options.requestTimeout ?? 10_000,
      maxPeersQueried: options.maxPeersQueried ?? 200,
      maxMessageSize: options.maxMessageSize ?? 1024 * 1024,
      refreshInterval: options.refreshInterval ?? 10 * 60 * 1000,
      initialRefresh: options.initialRefresh ?? true,
      provideValidity: options.provideValidity ?? 48 * HOUR,
      reprovideInterval: options.reprovideInterval ?? 22 * HOUR,
      streamIdleTimeout: options.streamIdleTimeout ?? 60_000,
      livenessCheckAge: options.livenessCheckAge ?? 10 * 60 * 1000,
      maxIdleStreams: options.maxIdleStreams ?? 64
    }
    this.#limits = { ...DEFAULT_MESSAGE_LIMITS, ...options.messageLimits }
    this.validation = new RecordValidation(options.validators)
    this.network = new DhtNetwork(components, {
      protocol: this.protocol,
      timeout: this.#options.requestTimeout,
      maxMessageSize: this.#options.maxMessageSize,
      limits: this.#limits,
      maxIdleStreams: this.#options.maxIdleStreams
    })
    this.records = new RecordStore({ datastore: components.datastore })
    this.providers = new ProviderStore({ datastore: components.datastore, provideValidity: this.#options.provideValidity })
    this.routingTable = new RoutingTable({
      self: components.peerId.bytes,
      kBucketSize: this.#options.kBucketSize,
      livenessCheckAge: this.#options.livenessCheckAge,
      checkLiveness: async (peer) => await this.#isAlive(peer)
    })
  }

  async start (): Promise<void> {
    if (this.#started) return
    this.#started = true
    this.#shutdown = new AbortController()
    this.routingTable.start()
    this.#metrics?.start()
    if (this.#mode === 'server') this.#serve()
    this.#modeSwitch?.start()
    this.#topologyId = this.#components.registrar.register(this.protocol, {
      onConnect: (peerId) => { this.routingTable.add(peerId) }
    })
  }

  afterStart (): void {
    const every = (ms: number, fn: () => Promise<unknown>): void => {
      if (ms <= 0) return
      const timer = unrefInterval(() => { fn().catch((err: Error) => { this.#log('periodic DHT task failed: %s', err.message) }) }, ms)
      this.#timers.push(timer)
    }
    every(this.#options.refreshInterval, async () => { await this.refreshRoutingTable() })
    every(HOUR, async () => { await this.providers.sweep({ signal: this.#shutdown.signal }) })
    every(Math.min(HOUR, this.#options.reprovideInterval), async () => { await this.reprovide() })
    if (this.#options.initialRefresh) {
      // once the first DHT peer is known (bootstrap peers connect after start)
      const wait = unrefInterval(() => {
        if (this.routingTable.size === 0) return
        clearInterval(wait)
        this.refreshRoutingTable().catch((err: Error) => { this.#log('initial refresh failed: %s', err.message) })
      }, 250)
      this.#timers.push(wait)
    }
  }

  /** 'server' or 'client' now (see the `mode` option). */
  get mode (): DhtMode { return this.#mode }

  /** Answers DHT requests: registers the protocol handler (identify then advertises it). */
  #serve (): void {
    if (this.#handler !== undefined) return
    const handler = new RpcHandler({
      components: this.#components,
      routingTable: this.routingTable,
      network: this.network,
      records: this.records,
      providers: this.providers,
      validation: this.validation,
      log: this.#log,
      maxMessageSize: this.#options.maxMessageSize,
      limits: this.#limits,
      idleTimeout: this.#options.streamIdleTimeout,
      providerAddrTtl: this.#options.provideValidity,
      shutdown: this.#shutdown.signal
    })
    this.#handler = handler
    this.#components.registrar.handle(this.protocol, (stream, connection) => handler.handleStream(stream, connection), {
      maxInboundStreams: 32,
      maxOutboundStreams: 64
    })
  }

  /** Stops answering: unregisters the handler (identify push tells peers) and ends its streams. */
  #stopServing (): void {
    if (this.#handler === undefined) return
    this.#components.registrar.unhandle(this.protocol)
    this.#handler.abortAll(new ServiceStoppedError('the DHT left server mode'))
    this.#handler = undefined
  }

  #setMode (mode: DhtMode): void {
    if (mode === this.#mode || !this.#started) return
    this.#log('switching to %s mode', mode)
    this.#mode = mode
    if (mode === 'server') this.#serve()
    else this.#stopServing()
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    this.#modeSwitch?.stop()
    for (const timer of this.#timers) clearInterval(timer)
    this.#timers = []
    this.#shutdown.abort(new ServiceStoppedError('the DHT stopped'))
    this.routingTable.stop()
    this.#metrics?.stop()
    this.network.closeIdleStreams()
    if (this.#topologyId !== undefined) this.#components.registrar.unregister(this.#topologyId)
    this.#topologyId = undefined
    if (this.#handler !== undefined) {
      this.#components.registrar.unhandle(this.protocol)
      this.#handler.abortAll(new ServiceStoppedError('the DHT stopped'))
      this.#handler = undefined
    }
    this.#mode = this.#modeSwitch === undefined ? this.#mode : 'server'
    await this.#refreshing?.catch(() => {})
  }

  /** Requests answered by our server side (diagnostics). */
  /** Diagnostics: the routing table's non-empty buckets (DhtDiagnostics). */
  routingBuckets (): DhtBucketFill[] { return this.routingTable.fill() }

  /** Diagnostics: the latest lookups, newest first (DhtDiagnostics). */
  recentQueries (): DhtQueryRecord[] { return this.#recentQueries.list() }

  get requestsHandled (): number { return this.#handler?.requestsHandled ?? 0 }

  // ------------------------------------------------------------ lookups --

  #signal (options: AbortOptions): AbortSignal {
    return options.signal !== undefined ? AbortSignal.any([options.signal, this.#shutdown.signal]) : this.#shutdown.signal
  }

  /** Our own view of a peer for seeding lookups. */
  #seeds (key: Uint8Array): QueryCandidate[] {
    return this.routingTable.closest(toKadId(key), this.#options.kBucketSize).map(id => ({ id, addrs: [] }))
  }

  /**
   * Runs one lookup for `key` sending `request` to each peer; `onReply` turns each answer into
   * a step (and may say the operation is done).
   */
  async #lookup (key: Uint8Array, request: DhtMessage, options: ProgressOptions, onReply?: (from: PeerId, reply: DhtMessage, hop: number) => Promise<boolean> | boolean, searching = false): Promise<QueryResult> {
    const signal = this.#signal(options)
    // A search for something specific (a peer, providers) ends as soon as it is found, so
    // waiting for all k closest to answer (rather than beta) only costs on a miss, where it
    // makes the miss much less likely to be a false one.
    const beta = searching ? this.#options.kBucketSize : this.#options.beta
    const emit = options.onProgress
    const startedAt = performance.now()
    let result: QueryResult | undefined
    try {
      result = await this.#runLookup(key, request, options, signal, beta, onReply)
    } finally {
      this.#metrics?.lookupDone(request.type, startedAt, result)
      this.#recentQueries.add(request.type, key, startedAt, result)
    }
    emit?.({ type: 'query-done', queried: result.queried, failed: result.failed, hops: result.hops, doneAtHop: result.doneAtHop, timedOut: result.timedOut })
    return result
  }

  async #runLookup (key: Uint8Array, request: DhtMessage, options: ProgressOptions, signal: AbortSignal, beta: number, onReply?: (from: PeerId, reply: DhtMessage, hop: number) => Promise<boolean> | boolean): Promise<QueryResult> {
    const emit = options.onProgress
    return await runQuery({
      key,
      self: this.#components.peerId,
      seeds: this.#seeds(key),
      alpha: this.#options.alpha,
      beta,
      disjointPaths: this.#options.disjointPaths,
      kBucketSize: this.#options.kBucketSize,
      maxCloserPerResponse: this.#options.kBucketSize,
      maxPeersQueried: this.#options.maxPeersQueried,
      timeout: this.#options.queryTimeout,
      signal,
      onError: (from, error) => { emit?.({ type: 'query-error', from, error }) },
      queryFn: async (peer, { signal, hop }): Promise<QueryStep> => {
        if (peer.addrs.length > 0) {
          await this.#components.peerStore.merge(peer.id, { multiaddrs: peer.addrs, addressTtl: HOUR }, { signal }).catch(() => {})
        }
        emit?.({ type: 'send-query', to: peer.id, messageType: request.type, hop })
        const reply = await this.network.sendRequest(peer.id, request, signal)
        this.routingTable.touch(peer.id)
        const closer = toCandidates(reply.closerPeers)
        if (emit !== undefined) {
          emit({ type: 'peer-response', from: peer.id, messageType: reply.type, hop, closer: closer.map(c => ({ id: c.id, multiaddrs: c.addrs })), providers: toCandidates(reply.providerPeers).map(c => ({ id: c.id, multiaddrs: c.addrs })), record: reply.record?.value })
        }
        const done = onReply !== undefined ? await onReply(peer.id, reply, hop) : false
        return { closer, done }
      }
    })
  }

  /** The k peers closest to `key` that answered a lookup, as progress events ending in `final-peer`s. */
  async * getClosestPeers (key: Uint8Array, options: ProgressOptions = {}): AsyncGenerator<DhtEvent, void, undefined> {
    yield * channel<DhtEvent>(async (push, signal) => {
      const result = await this.#lookup(key, { type: MessageType.FIND_NODE, key, closerPeers: [], providerPeers: [] }, {
        signal,
        onProgress: (evt) => { options.onProgress?.(evt); push(evt) }
      })
      for (const peer of result.closest) push({ type: 'final-peer', peer: { id: peer.id, multiaddrs: peer.addrs } })
    }, options.signal)
  }

  /** The lookup behind getClosestPeers, collected (for this service's own provide, put and refresh). */
  async #closestPeers (key: Uint8Array, options: ProgressOptions = {}): Promise<PeerInfo[]> {
    const result = await this.#lookup(key, { type: MessageType.FIND_NODE, key, closerPeers: [], providerPeers: [] }, options)
    return result.closest.map(p => ({ id: p.id, multiaddrs: p.addrs }))
  }

  /** A peer's addresses: from a live connection if we have one, else by a lookup. */
  async findPeer (peerId: PeerId, options: ProgressOptions & { useLocal?: boolean } = {}): Promise<PeerInfo> {
    if (peerId.equals(this.#components.peerId)) throw new InvalidParametersError('cannot look up our own peer id')
    throwIfAborted(options.signal)
    if (options.useLocal !== false && this.#components.connectionManager.getConnections(peerId).length > 0) {
      const local = await this.#knownAddrs(peerId)
      if (local.length > 0) return { id: peerId, multiaddrs: local }
    }
    let found: Multiaddr[] | undefined
    await this.#lookup(peerId.bytes, { type: MessageType.FIND_NODE, key: peerId.bytes, closerPeers: [], providerPeers: [] }, options, (_from, reply) => {
      for (const peer of reply.closerPeers) {
        if (!equalBytes(peer.id, peerId.bytes)) continue
        const addrs = parseWireAddrs(peer.addrs)
        if (addrs.length > 0) {
          found = addrs
          return true
        }
      }
      return false
    }, true)
    if (found === undefined) throw new NotFoundError(`peer ${peerId.toString()} was not found in the DHT`)
    await this.#components.peerStore.merge(peerId, { multiaddrs: found, addressTtl: HOUR }).catch(() => {})
    return { id: peerId, multiaddrs: found }
  }

  async #knownAddrs (peerId: PeerId): Promise<Multiaddr[]> {
    try {
      return (await this.#components.peerStore.get(peerId)).addresses.map(a => a.multiaddr)
    } catch {
      return []
    }
  }

  /** Announces that we provide `content` to the k peers closest to it. */
  async provide (content: ContentKey, options: ProgressOptions = {}): Promise<number> {
    const key = multihashOf(content)
    await this.providers.addProvider(key, this.#components.peerId)
    const closest = await this.#closestPeers(key, options)
    const self = await this.#selfPeer()
    const message: DhtMessage = { type: MessageType.ADD_PROVIDER, key, closerPeers: [], providerPeers: [self] }
    const signal = this.#signal(options)
    const results = await Promise.allSettled(closest.map(async (peer) => { await this.network.sendMessage(peer.id, message, signal) }))
    const accepted = results.filter(r => r.status === 'fulfilled').length
    await this.providers.markProvided(key)
    if (accepted === 0 && closest.length > 0) throw new NotFoundError('no peer accepted the provider record')
    if (closest.length === 0) throw new NotFoundError('no DHT peers to provide to')
    return accepted
  }

  async #selfPeer (): Promise<DhtPeer> {
    return await this.network.peerInfo(this.#components.peerId)
  }

  /** Providers of `content`: ours first, then found by a lookup; stops after `count` (default 20). */
  async * findProviders (content: ContentKey, options: ProgressOptions & { count?: number } = {}): AsyncGenerator<PeerInfo, void, undefined> {
    const key = multihashOf(content)
    const count = options.count ?? 20
    yield * channel<PeerInfo>(async (push, signal) => {
      const seen = new Set<string>()
      const emit = (from: PeerId, provider: PeerInfo): boolean => {
        const k = provider.id.toString()
        if (seen.has(k)) return seen.size >= count
        seen.add(k)
        options.onProgress?.({ type: 'provider', from, provider })
        push(provider)
        return seen.size >= count
      }
      for (const id of await this.providers.getProviders(key, { signal, limit: count })) {
        const multiaddrs = id.equals(this.#components.peerId) ? this.#components.addressManager.getAddresses().map(withoutPeerId) : await this.#knownAddrs(id)
        if (emit(this.#components.peerId, { id, multiaddrs })) return
      }
      await this.#lookup(key, { type: MessageType.GET_PROVIDERS, key, closerPeers: [], providerPeers: [] }, { signal, onProgress: options.onProgress }, async (from, reply) => {
        for (const provider of toCandidates(reply.providerPeers)) {
          if (provider.addrs.length > 0) await this.#components.peerStore.merge(provider.id, { multiaddrs: provider.addrs, addressTtl: this.#options.provideValidity }).catch(() => {})
          if (emit(from, { id: provider.id, multiaddrs: provider.addrs })) return true
        }
        return false
      }, true)
    }, options.signal)
  }

  /** Stores `value` under `key` locally and on the k closest peers. Returns how many accepted. */
  async put (key: Uint8Array, value: Uint8Array, options: ProgressOptions = {}): Promise<number> {
    await this.validation.validate(key, value)
    const record = await this.records.put(key, value)
    const closest = await this.#closestPeers(key, options)
    const signal = this.#signal(options)
    const message: DhtMessage = { type: MessageType.PUT_VALUE, key, record, closerPeers: [], providerPeers: [] }
    const results = await Promise.allSettled(closest.map(async (peer) => { await this.network.sendRequest(peer.id, message, signal) }))
    const accepted = results.filter(r => r.status === 'fulfilled').length
    if (accepted === 0) throw new NotFoundError(closest.length === 0 ? 'no DHT peers to store the value on' : 'no peer accepted the value')
    return accepted
  }

  /**
   * The best valid value for `key`. Asks the network unless `quorum` is met locally; stops
   * once `quorum` valid values were seen (default 0: run the whole lookup), then tells peers
   * that answered with a worse value about the best one.
   */
  async get (key: Uint8Array, options: ProgressOptions & { quorum?: number } = {}): Promise<Uint8Array> {
    const quorum = options.quorum ?? 0
    const values: Array<{ from?: PeerId, value: Uint8Array }> = []
    const local = await this.records.get(key)
    if (local !== undefined) {
      try {
        await this.validation.validate(key, local.value)
        values.push({ value: local.value })
      } catch {
        await this.records.delete(key)
      }
    }
    if (quorum === 0 || values.length < quorum) {
      await this.#lookup(key, { type: MessageType.GET_VALUE, key, closerPeers: [], providerPeers: [] }, options, async (from, reply) => {
        const record = reply.record
        if (record === undefined || !equalBytes(record.key, key)) return false
        try {
          await this.validation.validate(key, record.value)
        } catch {
          return false
        }
        const value = record.value.slice()
        values.push({ from, value })
        options.onProgress?.({ type: 'value', from, value })
        return quorum > 0 && values.length >= quorum
      })
    }
    if (values.length === 0) throw new NotFoundError('no value found for the key')
    const best = values[this.validation.select(key, values.map(v => v.value))].value
    // entry correction: peers holding a worse value get the best one
    const outdated = values.filter(v => v.from !== undefined && !equalBytes(v.value, best))
    if (outdated.length > 0) {
      const record = { key, value: best, timeReceived: '' }
      const message: DhtMessage = { type: MessageType.PUT_VALUE, key, record, closerPeers: [], providerPeers: [] }
      for (const v of outdated) void this.network.sendRequest(v.from as PeerId, message, this.#shutdown.signal).catch(() => {})
    }
    if (local === undefined || !equalBytes(local.value, best)) await this.records.put(key, best).catch(() => {})
    return best
  }

  // --------------------------------------------------------- maintenance --

  /** Looks up our own id, then a random key in each bucket up to the deepest one. */
  async refreshRoutingTable (options: AbortOptions = {}): Promise<void> {
    if (this.#refreshing !== undefined) {
      await this.#refreshing
      return
    }
    const run = (async () => {
      await this.#closestPeers(this.#components.peerId.bytes, options).catch(() => [])
      const depth = Math.min(this.routingTable.maxCommonPrefix(), 15)
      for (let cpl = 0; cpl <= depth; cpl++) {
        if (this.#shutdown.signal.aborted || options.signal?.aborted === true) return
        if (Date.now() - this.routingTable.lastLookup(cpl) < this.#options.refreshInterval / 2) continue
        await this.#closestPeers(randomKeyForBucket(this.routingTable.selfKadId, cpl), options).catch(() => [])
      }
    })()
    this.#refreshing = run
    try {
      await run
    } finally {
      this.#refreshing = undefined
    }
  }

  /** Announces again what we provide and last announced more than 22 h ago. */
  async reprovide (options: AbortOptions = {}): Promise<void> {
    for (const key of await this.providers.providedOlderThan(this.#options.reprovideInterval, options)) {
      if (this.#shutdown.signal.aborted) return
      await this.provide(key, options).catch((err: Error) => { this.#log('reprovide failed: %s', err.message) })
    }
  }

  /** Stops providing `content` (it will not be republished). */
  async cancelProvide (content: ContentKey): Promise<void> {
    await this.providers.unmarkProvided(multihashOf(content))
  }

  async #isAlive (peer: PeerId): Promise<boolean> {
    try {
      await this.network.sendRequest(peer, { type: MessageType.FIND_NODE, key: this.#components.peerId.bytes, closerPeers: [], providerPeers: [] }, this.#shutdown.signal)
      return true
    } catch {
      return false
    }
  }
}

function multihashOf (content: ContentKey): Uint8Array {
  if (content instanceof Uint8Array) return content
  const bytes = content?.multihash?.bytes
  if (!(bytes instanceof Uint8Array)) throw new InvalidParametersError('expected a CID or multihash bytes')
  return bytes
}

/** Wire peers as lookup candidates; ones whose id does not parse are dropped. */
function toCandidates (peers: DhtPeer[]): QueryCandidate[] {
  const out: QueryCandidate[] = []
  for (const peer of peers) {
    try {
      out.push({ id: peerIdFromMultihash(peer.id.slice()), addrs: parseWireAddrs(peer.addrs) })
    } catch {
      // not a peer id
    }
  }
  return out
}

/** Service factory: `services: { dht: kadDHT({ mode: 'server' }) }`. */
export function kadDHT (options: KadDHTOptions = {}): (components: KadDHTComponents) => KadDHT {
  return (components) => new KadDHT(components, options)
}
