/**
 * The node: builds the components (keys, peer store, switch, services) from the options,
 * starts and stops them in order, and exposes the public Libp2p API.
 *
 * Lifecycle: start() opens the switch, starts services (dependencies first), listens, then
 * calls afterStart(). stop() stops services (reverse order), closes listeners, closes every
 * connection (gracefully, bounded, then aborted) and clears every timer the switch owns, so a
 * stopped node holds no socket, timer or listener.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { isMultiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../interface/common.ts'
import type { Connection, NewStreamOptions } from '../interface/connection.ts'
import type { ConnectionGater } from '../interface/connection-gater.ts'
import type { Datastore } from '../interface/datastore.ts'
import type { PrivateKey } from '../interface/keys.ts'
import type { DialOptions, DialTarget } from '../interface/connection-manager.ts'
import type { Libp2p } from '../interface/libp2p.ts'
import type { Libp2pEvents } from '../interface/events.ts'
import type { NodeComponents, NodeInfo, Startable } from '../interface/components.ts'
import type { StreamHandler, StreamHandlerOptions } from '../interface/registrar.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { PeerStore } from '../interface/peer-store.ts'
import type { Stream } from '../interface/stream.ts'
import { peerIdFromPrivateKey, peerIdFromString } from '../peer/peer-id.ts'
import { PersistentPeerStore } from '../peer-store/index.ts'
import { MemoryDatastore } from '../store/memory.ts'
import { DefaultAddressManager } from '../switch/address-manager.ts'
import { peerIdStringOf, withoutPeerId } from '../util/multiaddr.ts'
import { DefaultConnectionManager } from '../switch/connection-manager.ts'
import { debounce } from '../util/timers.ts'
import type { Debounced } from '../util/timers.ts'
import { DefaultRegistrar } from '../switch/registrar.ts'
import { TransportManager } from '../switch/transport-manager.ts'
import { Upgrader } from '../switch/upgrader.ts'
import { InvalidMultiaddrError, InvalidParametersError, NotStartedError, PrivateNetworkRequiredError } from '../util/errors.ts'
import { logger } from '../util/logger.ts'
import type { Logger } from '../interface/logger.ts'
import { TypedEventEmitter } from '../util/events.ts'
import type { ComponentFactoryInput } from '../interface/components.ts'
import type { Metrics } from '../interface/metrics.ts'
/** node-metrics.ts, which createLibp2p loads only when metrics are on (a browser page without them never downloads it). */
export type NodeMetricsModule = typeof import('./node-metrics.ts')
import type { ComponentFactory, Libp2pOptions, ServiceFactories, ServicesOf } from './options.ts'
import type { Defaults } from './defaults.ts'
import { collectRouters, CompositeContentRouting, CompositePeerRouting } from './routing.ts'
import { type ContentRouting, type PeerRouting } from '../interface/routing.ts'
import { checkServiceDependencies, declarationsOf } from './capabilities.ts'
import { impliedServices, pingOptedOut } from './implied-services.ts'
import type { ImpliedServiceFactories } from './implied-services.ts'
import { VERSION } from '../util/version.ts'
import { ResourceManager } from '../switch/resource-manager/index.ts'

/** Bursts of address/protocol changes become one 'self:peer:update'. */
const SELF_UPDATE_DEBOUNCE_MS = 10

function runtimeName (): string {
  const g = globalThis as { process?: { versions?: { node?: string } }, navigator?: { userAgent?: string } }
  if (g.process?.versions?.node !== undefined) return `node/${g.process.versions.node}`
  return 'browser'
}

/**
 * LIBP2P_FORCE_PNET=1 (pnet/Private-Networks-PSK-V1.md "Safeguard") forbids running outside a
 * private network. Read from the environment where there is one (not in browsers).
 */
function privateNetworkForced (): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
  return env?.LIBP2P_FORCE_PNET === '1'
}

function build<T> (factory: ComponentFactory<T>, components: ComponentFactoryInput): T {
  return typeof factory === 'function' ? (factory as (c: ComponentFactoryInput) => T)(components) : factory
}

interface ServiceEntry { name: string, instance: unknown }

export type NodeStatus = 'starting' | 'started' | 'stopping' | 'stopped'

export class Libp2pNode<Services extends Record<string, unknown> = Record<string, unknown>> extends TypedEventEmitter<Libp2pEvents> implements Libp2p<Services> {
  readonly peerId: PeerId
  readonly services: Services
  readonly peerStore: PeerStore
  readonly components: NodeComponents & { connectionGater: ConnectionGater, services: Record<string, unknown> }
  readonly connectionManager: DefaultConnectionManager
  readonly registrar: DefaultRegistrar
  readonly addressManager: DefaultAddressManager
  readonly transportManager: TransportManager
  /** Scoped limits on connections and streams (undefined when turned off). */
  readonly resourceManager: ResourceManager | undefined
  /** The node's metrics registry; undefined when metrics are off. */
  readonly metrics: Metrics | undefined
  #untrackMetrics: (() => void) | undefined
  /** Peer routing through every service that routes (e.g. the DHT); see ./routing.ts. */
  readonly peerRouting: PeerRouting
  /** Content routing through every service that routes (e.g. the DHT); see ./routing.ts. */
  readonly contentRouting: ContentRouting
  readonly #serviceOrder: ServiceEntry[]
  readonly #selfUpdate: Debounced
  readonly #log: Logger
  #status: NodeStatus = 'stopped'

  readonly #impliedFactories: ImpliedServiceFactories | undefined
  readonly #nodeMetrics: NodeMetricsModule | undefined

  constructor (privateKey: PrivateKey, options: Libp2pOptions, defaults: Defaults, impliedFactories?: ImpliedServiceFactories, nodeMetrics?: NodeMetricsModule) {
    super()
    this.#impliedFactories = impliedFactories
    if (options.metrics !== undefined && options.metrics !== false && nodeMetrics === undefined) throw new InvalidParametersError('metrics need the node-metrics module: build the node with createLibp2p')
    this.#nodeMetrics = nodeMetrics
    this.peerId = peerIdFromPrivateKey(privateKey)
    this.#log = logger('libp2p')
    const nodeInfo: NodeInfo = {
      name: options.nodeInfo?.name ?? 'ts-libp2p',
      version: options.nodeInfo?.version ?? VERSION,
      userAgent: options.nodeInfo?.userAgent ?? `${options.nodeInfo?.name ?? 'ts-libp2p'}/${options.nodeInfo?.version ?? VERSION} ${runtimeName()}`
    }
    const datastore: Datastore = options.datastore ?? new MemoryDatastore()
    const connectionGater = options.connectionGater ?? {}
    this.metrics = options.metrics === true ? nodeMetrics?.createMetricsRegistry() : options.metrics === false ? undefined : options.metrics
    const base: ComponentFactoryInput = {
      peerId: this.peerId,
      privateKey,
      nodeInfo,
      events: this,
      datastore,
      connectionGater,
      metrics: this.metrics,
      logger: (name: string) => logger(name)
    }
    this.#selfUpdate = debounce(() => {
      if (this.#status === 'started') this.safeDispatch('self:peer:update', { peerId: this.peerId, addrs: this.addressManager.getAddresses() })
    }, SELF_UPDATE_DEBOUNCE_MS)

    this.peerStore = options.peerStore !== undefined
      ? build(options.peerStore, base)
      : new PersistentPeerStore({
        datastore,
        peerId: this.peerId,
        onPeerUpdate: (peer) => {
          if (!peer.id.equals(this.peerId)) this.safeDispatch('peer:update', { peerId: peer.id })
        }
      })

    const cmOptions = options.connectionManager ?? {}
    const resourceOptions = options.resourceManager === false ? undefined : options.resourceManager
    this.resourceManager = options.resourceManager === false
      ? undefined
      : new ResourceManager(this.metrics === undefined ? resourceOptions : { ...resourceOptions, onRefusal: nodeMetrics!.countResourceRefusals(this.metrics, resourceOptions?.onRefusal) })
    let connectionManager: DefaultConnectionManager | undefined
    this.registrar = new DefaultRegistrar({
      events: this,
      peerStore: this.peerStore,
      getConnections: peerId => connectionManager?.getConnections(peerId) ?? [],
      onProtocolsChange: () => { this.#selfUpdate() }
    })
    const connectionEncrypters = (options.connectionEncrypters ?? defaults.connectionEncrypters()).map(f => build(f, base))
    this.transportManager = new TransportManager({
      transports: (options.transports ?? defaults.transports({ privateNetwork: options.connectionProtector !== undefined })).map(f => build(f, { ...base, connectionEncrypters })),
      onConnection: raw => {
        if (connectionManager === undefined) raw.abort(new NotStartedError())
        else connectionManager.acceptIncoming(raw)
      },
      onListenersChange: () => { this.#selfUpdate() }
    })
    this.addressManager = new DefaultAddressManager({
      ...options.addresses,
      peerId: this.peerId,
      getBoundAddrs: () => this.transportManager.getAddrs(),
      onChange: () => { this.#selfUpdate() }
    })
    if (options.connectionProtector === undefined && privateNetworkForced()) throw new PrivateNetworkRequiredError()
    const upgrader = new Upgrader({
      connectionProtector: options.connectionProtector === undefined ? undefined : build(options.connectionProtector, base),
      connectionEncrypters,
      streamMuxers: (options.streamMuxers ?? defaults.streamMuxers()).map(f => build(f, base)),
      registrar: this.registrar,
      connectionGater,
      inboundUpgradeTimeout: cmOptions.inboundUpgradeTimeout,
      outboundUpgradeTimeout: cmOptions.outboundUpgradeTimeout,
      streamNegotiationTimeout: cmOptions.protocolNegotiationTimeout,
      connectionCloseTimeout: cmOptions.connectionCloseTimeout,
      resourceManager: this.resourceManager,
      metrics: this.metrics,
      onConnectionClose: connection => { connectionManager?.onConnectionClose(connection) }
    })
    connectionManager = new DefaultConnectionManager({
      ...cmOptions,
      // a test or lab that limits loopback addresses as remote ones means it for handshakes too
      limitLoopback: cmOptions.limitLoopback ?? (options.resourceManager === false ? undefined : options.resourceManager?.limitLoopback),
      limitPrivateSubnets: cmOptions.limitPrivateSubnets ?? (options.resourceManager === false ? undefined : options.resourceManager?.limitPrivateSubnets),
      peerId: this.peerId,
      events: this,
      peerStore: this.peerStore,
      metrics: this.metrics,
      upgrader,
      transports: this.transportManager,
      connectionGater,
      resourceManager: this.resourceManager,
      getOwnAddrs: () => [...this.transportManager.getAddrs(), ...this.addressManager.getAddresses()],
      dns: cmOptions.dns ?? options.dns
    })
    this.connectionManager = connectionManager

    this.components = {
      ...base,
      registrar: this.registrar,
      connectionManager,
      peerStore: this.peerStore,
      addressManager: this.addressManager,
      // (the routers are services, built below: resolved at call time)
      contentRouting: {
        provide: async (content, options) => { await this.contentRouting.provide(content, options) },
        cancelReprovide: async (content, options) => { await this.contentRouting.cancelReprovide(content, options) },
        findProviders: (content, options) => this.contentRouting.findProviders(content, options),
        put: async (key, value, options) => { await this.contentRouting.put(key, value, options) },
        get: async (key, options) => await this.contentRouting.get(key, options)
      },
      services: {}
    }
    for (const transport of this.transportManager.transports) {
      transport.attachNode?.({
        components: this.components,
        acceptIncoming: raw => { connectionManager.acceptIncoming(raw) },
        addressesChanged: () => { this.#selfUpdate() },
        createListener: (addr, init) => {
          const other = this.transportManager.transports.find(t => t !== transport && t.listenFilter([addr]).length > 0)
          if (other === undefined) throw new InvalidMultiaddrError(`no transport can listen on ${addr.toString()}`)
          return other.createListener(init)
        },
        // (the routers are services, built below: resolved at call time)
        peerRouting: {
          findPeer: async (peerId, options) => await this.peerRouting.findPeer(peerId, options),
          getClosestPeers: (key, options) => this.peerRouting.getClosestPeers(key, options)
        }
      })
    }
    this.#serviceOrder = this.#buildServices(options.services ?? defaults.services({ offline: options.offline }))
    this.services = this.components.services as Services
    const routers = collectRouters(this.#serviceOrder.map(e => e.instance))
    this.peerRouting = new CompositePeerRouting(routers.peer)
    this.contentRouting = new CompositeContentRouting(routers.content)
  }

  /**
   * Instantiates services in declaration order (then the ones they imply: implied-services.ts),
   * then checks and orders their dependencies.
   */
  #buildServices (factories: ServiceFactories): ServiceEntry[] {
    const entries: ServiceEntry[] = []
    for (const [name, factory] of Object.entries(factories)) {
      if (factory === false) continue
      if (typeof factory !== 'function') throw new InvalidParametersError(`service "${name}" must be a factory function (or false for none), e.g. ${name}()`)
      const instance = factory(this.components)
      this.components.services[name] = instance
      entries.push({ name, instance })
    }
    for (const implied of impliedServices(entries, this.components, this.#log, this.#impliedFactories, pingOptedOut(factories))) {
      this.components.services[implied.name] = implied.instance
      entries.push(implied)
    }
    const provided = checkServiceDependencies(entries)
    // Dependencies first (depth-first), declaration order otherwise; cycles keep declaration order.
    const ordered: ServiceEntry[] = []
    const visiting = new Set<string>()
    const byName = new Map(entries.map(e => [e.name, e]))
    const visit = (entry: ServiceEntry): void => {
      if (ordered.includes(entry) || visiting.has(entry.name)) return
      visiting.add(entry.name)
      for (const dependency of declarationsOf(entry.instance).serviceDependencies ?? []) {
        const provider = byName.get(provided.get(dependency) ?? '')
        if (provider !== undefined) visit(provider)
      }
      visiting.delete(entry.name)
      ordered.push(entry)
    }
    entries.forEach(visit)
    return ordered
  }

  get status (): NodeStatus { return this.#status }

  async start (): Promise<void> {
    if (this.#status !== 'stopped') return
    this.#status = 'starting'
    this.#log('starting %s', this.peerId)
    try {
      this.registrar.start()
      this.connectionManager.start()
      if (this.metrics !== undefined) this.#untrackMetrics ??= this.#nodeMetrics!.trackNodeMetrics(this.metrics, {
        events: this,
        connectionManager: this.connectionManager,
        resourceScopes: this.resourceManager === undefined ? undefined : () => [this.resourceManager!.system, this.resourceManager!.transient]
      })
      for (const { instance } of this.#serviceOrder) await (instance as Startable).start?.()
      for (const transport of this.transportManager.transports) await transport.start?.()
      const listen = this.addressManager.getListenAddrs()
      if (listen.length > 0) {
        await this.transportManager.listen(listen)
        this.safeDispatch('transport:listening', this.transportManager.getAddrs())
      }
      for (const { instance } of this.#serviceOrder) await (instance as Startable).afterStart?.()
    } catch (err) {
      this.#log.error('start failed: %s', err)
      this.#status = 'started'
      await this.stop().catch(() => {})
      throw err
    }
    this.#status = 'started'
    this.safeDispatch('start', undefined)
    this.#selfUpdate()
  }

  async stop (): Promise<void> {
    if (this.#status !== 'started') return
    this.#status = 'stopping'
    this.#log('stopping %s', this.peerId)
    for (const { name, instance } of [...this.#serviceOrder].reverse()) {
      try {
        await (instance as Startable).stop?.()
      } catch (err) {
        this.#log.error('service %s failed to stop: %s', name, err)
      }
    }
    for (const transport of this.transportManager.transports) {
      try {
        await transport.stop?.()
      } catch (err) {
        this.#log.error('transport %s failed to stop: %s', transport.name, err)
      }
    }
    await this.transportManager.close()
    await this.connectionManager.stop()
    this.registrar.stop()
    this.#untrackMetrics?.()
    this.#untrackMetrics = undefined
    this.#selfUpdate.cancel()
    this.#status = 'stopped'
    this.safeDispatch('stop', undefined)
  }

  async dial (target: DialTarget, options?: DialOptions): Promise<Connection> {
    this.#assertStarted()
    return await this.connectionManager.openConnection(target, options)
  }

  async dialProtocol (target: DialTarget, protocols: string | string[], options: DialOptions & NewStreamOptions = {}): Promise<Stream> {
    const list = typeof protocols === 'string' ? [protocols] : protocols
    if (list.length === 0) throw new InvalidParametersError('dialProtocol needs at least one protocol')
    const connection = await this.dial(target, options)
    return await connection.newStream(list, options)
  }

  async hangUp (target: PeerId | Multiaddr, options?: AbortOptions): Promise<void> {
    if (isMultiaddr(target)) {
      const id = peerIdStringOf(target)
      if (id !== undefined) {
        await this.connectionManager.closeConnections(peerIdFromString(id), options)
        return
      }
      const bare = withoutPeerId(target).toString()
      await Promise.all(this.connectionManager.getConnections()
        .filter(c => withoutPeerId(c.remoteAddr).toString() === bare)
        .map(async c => { await c.close(options).catch(err => { c.abort(err) }) }))
      return
    }
    await this.connectionManager.closeConnections(target, options)
  }

  async handle (protocols: string | string[], handler: StreamHandler, options?: StreamHandlerOptions): Promise<void> {
    for (const protocol of typeof protocols === 'string' ? [protocols] : protocols) this.registrar.handle(protocol, handler, options)
  }

  async unhandle (protocols: string | string[]): Promise<void> {
    for (const protocol of typeof protocols === 'string' ? [protocols] : protocols) this.registrar.unhandle(protocol)
  }

  getConnections (peerId?: PeerId): Connection[] {
    return this.connectionManager.getConnections(peerId)
  }

  getPeers (): PeerId[] {
    return this.connectionManager.getPeers()
  }

  getMultiaddrs (): Multiaddr[] {
    return this.addressManager.getAddresses()
  }

  getProtocols (): string[] {
    return [...this.registrar.getProtocols()]
  }

  #assertStarted (): void {
    if (this.#status !== 'started') throw new NotStartedError(`the node is ${this.#status}`)
  }
}

export type { ServicesOf }
