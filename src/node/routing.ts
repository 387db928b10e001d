/**
 * The node's routing facades, `node.peerRouting` and `node.contentRouting` (same shapes as
 * js-libp2p's): one front for whatever services can route, so applications ask the node and
 * not a particular DHT.
 *
 * A service routes by having a `peerRouter` and/or `contentRouter` property (e.g. the Kademlia
 * DHT, which declares the '@libp2p/peer-routing' and '@libp2p/content-routing' capabilities).
 * With several routers: findPeer and get ask all at once and resolve with the first success;
 * getClosestPeers and findProviders ask one router after the other and yield each peer once;
 * provide and put resolve once every router has settled (and fail only if all failed). With
 * none, every call fails with NoPeerRoutersError / NoContentRoutersError.
 *
 * Every call takes `{ signal, onProgress }`: the signal aborts it (iterations too, and so
 * does breaking out of a `for await`); onProgress receives the router's progress events (for
 * the DHT, its DhtEvents: each request sent, each answer, each provider or value found).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '../interface/peer-id.ts'
import type { ContentRouting, PeerRouting, RoutingContentKey, RoutingOptions, PeerInfo, RoutingProvider } from '../interface/routing.ts'
import { Libp2pError } from '../util/errors.ts'

/** No service of the node can route peers (add one, e.g. `services: { identify: identify(), dht: kadDHT() }`). */
export class NoPeerRoutersError extends Libp2pError {
  static readonly code = 'ERR_NO_ROUTERS_AVAILABLE'
  constructor (message = 'no peer routers are configured: add a service that routes, e.g. services: { identify: identify(), dht: kadDHT() } with kadDHT from ts-libp2p/kad-dht') {
    super(message, NoPeerRoutersError.code)
    this.name = 'NoPeerRoutersError'
  }
}

/** No service of the node can route content (add one, e.g. `services: { identify: identify(), dht: kadDHT() }`). */
export class NoContentRoutersError extends Libp2pError {
  static readonly code = 'ERR_NO_ROUTERS_AVAILABLE'
  constructor (message = 'no content routers are configured: add a service that routes, e.g. services: { identify: identify(), dht: kadDHT() } with kadDHT from ts-libp2p/kad-dht') {
    super(message, NoContentRoutersError.code)
    this.name = 'NoContentRoutersError'
  }
}

/** The routers that the given service instances expose, in service order. */
export function collectRouters (services: Iterable<unknown>): { peer: PeerRouting[], content: ContentRouting[] } {
  const peer: PeerRouting[] = []
  const content: ContentRouting[] = []
  for (const service of services) {
    if (typeof service !== 'object' || service === null) continue
    const { peerRouter, contentRouter } = service as RoutingProvider
    if (peerRouter !== undefined) peer.push(peerRouter)
    if (contentRouter !== undefined) content.push(contentRouter)
  }
  return { peer, content }
}

/** Resolves with the first router that succeeds; rejects with the first error if all fail. */
async function firstSuccess<R, T> (routers: R[], run: (router: R) => Promise<T>): Promise<T> {
  if (routers.length === 1) return await run(routers[0])
  try {
    return await Promise.any(routers.map(run))
  } catch (err) {
    throw (err instanceof AggregateError && err.errors.length > 0) ? err.errors[0] : err
  }
}

/** Resolves once every router settled, if at least one succeeded. */
async function allSettledOne<R> (routers: R[], run: (router: R) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(routers.map(run))
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failures.length === results.length) throw failures[0].reason
}

/** Each peer once, from all `sources` in turn (one router: no buffering at all). */
async function * uniquePeers (sources: Array<AsyncIterable<PeerInfo>>, limit = Infinity): AsyncGenerator<PeerInfo, void, undefined> {
  const seen = new Set<string>()
  for (const source of sources) {
    for await (const peer of source) {
      const key = peer.id.toString()
      if (seen.has(key)) continue
      seen.add(key)
      yield peer
      if (seen.size >= limit) return
    }
  }
}

export class CompositePeerRouting implements PeerRouting {
  readonly #routers: PeerRouting[]

  constructor (routers: PeerRouting[]) {
    this.#routers = routers
  }

  #check (): void {
    if (this.#routers.length === 0) throw new NoPeerRoutersError()
  }

  async findPeer (peerId: PeerId, options: RoutingOptions = {}): Promise<PeerInfo> {
    this.#check()
    return await firstSuccess(this.#routers, async r => await r.findPeer(peerId, options))
  }

  async * getClosestPeers (key: Uint8Array, options: RoutingOptions = {}): AsyncGenerator<PeerInfo, void, undefined> {
    this.#check()
    yield * uniquePeers(this.#routers.map(r => r.getClosestPeers(key, options)))
  }
}

export class CompositeContentRouting implements ContentRouting {
  readonly #routers: ContentRouting[]

  constructor (routers: ContentRouting[]) {
    this.#routers = routers
  }

  #check (): void {
    if (this.#routers.length === 0) throw new NoContentRoutersError()
  }

  async provide (content: RoutingContentKey, options: RoutingOptions = {}): Promise<void> {
    this.#check()
    await allSettledOne(this.#routers, async r => { await r.provide(content, options) })
  }

  async cancelReprovide (content: RoutingContentKey, options: RoutingOptions = {}): Promise<void> {
    this.#check()
    await allSettledOne(this.#routers, async r => { await r.cancelReprovide(content, options) })
  }

  async * findProviders (content: RoutingContentKey, options: RoutingOptions & { count?: number } = {}): AsyncGenerator<PeerInfo, void, undefined> {
    this.#check()
    yield * uniquePeers(this.#routers.map(r => r.findProviders(content, options)), options.count)
  }

  async put (key: Uint8Array, value: Uint8Array, options: RoutingOptions = {}): Promise<void> {
    this.#check()
    await allSettledOne(this.#routers, async r => { await r.put(key, value, options) })
  }

  async get (key: Uint8Array, options: RoutingOptions = {}): Promise<Uint8Array> {
    this.#check()
    return await firstSuccess(this.#routers, async r => await r.get(key, options))
  }
}
