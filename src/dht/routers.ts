/**
 * The DHT as a router for the node's `peerRouting` / `contentRouting` facades
 * (src/node/routing.ts): thin adapters from the facade's shapes to the DHT's operations.
 * Progress events are the DHT's own (DhtEvent), passed to the caller's onProgress.
 */
import type { PeerId } from '../interface/peer-id.ts'
import type { ContentRouting, PeerRouting, RoutingContentKey, RoutingOptions, PeerInfo } from '../interface/routing.ts'
import type { KadDHT } from './kad-dht.ts'

export class DhtPeerRouter implements PeerRouting {
  readonly #dht: KadDHT

  constructor (dht: KadDHT) {
    this.#dht = dht
  }

  async findPeer (peerId: PeerId, options: RoutingOptions = {}): Promise<PeerInfo> {
    return await this.#dht.findPeer(peerId, options)
  }

  async * getClosestPeers (key: Uint8Array, options: RoutingOptions = {}): AsyncGenerator<PeerInfo, void, undefined> {
    for await (const event of this.#dht.getClosestPeers(key, options)) {
      if (event.type === 'final-peer') yield event.peer
    }
  }
}

export class DhtContentRouter implements ContentRouting {
  readonly #dht: KadDHT

  constructor (dht: KadDHT) {
    this.#dht = dht
  }

  async provide (content: RoutingContentKey, options: RoutingOptions = {}): Promise<void> {
    await this.#dht.provide(content, options)
  }

  async cancelReprovide (content: RoutingContentKey): Promise<void> {
    await this.#dht.cancelProvide(content)
  }

  async * findProviders (content: RoutingContentKey, options: RoutingOptions & { count?: number } = {}): AsyncGenerator<PeerInfo, void, undefined> {
    yield * this.#dht.findProviders(content, options)
  }

  async put (key: Uint8Array, value: Uint8Array, options: RoutingOptions = {}): Promise<void> {
    await this.#dht.put(key, value, options)
  }

  async get (key: Uint8Array, options: RoutingOptions = {}): Promise<Uint8Array> {
    return await this.#dht.get(key, options)
  }
}
