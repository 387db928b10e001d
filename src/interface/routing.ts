/**
 * Peer and content routing as the node's `peerRouting` / `contentRouting` facades and every
 * router (the Kademlia DHT, ...) expose them: the shapes of js-libp2p's, so applications ask the
 * node and not a particular DHT.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from './peer-id.ts'

/** A peer and the addresses known for it (what routers find; the DHT's events carry it too). */
export interface PeerInfo {
  id: PeerId
  multiaddrs: Multiaddr[]
}

/** A CID (anything with `multihash.bytes`, e.g. multiformats' CID) or raw multihash bytes. */
export type RoutingContentKey = { multihash: { bytes: Uint8Array } } | Uint8Array

/** A router's progress event; `type` names it (see each router's documentation). */
export interface RoutingProgressEvent {
  type: string
}

export interface RoutingOptions {
  signal?: AbortSignal
  onProgress?(event: RoutingProgressEvent): void
}

export interface PeerRouting {
  /** The peer's addresses; rejects with NotFoundError if no router finds it. */
  findPeer(peerId: PeerId, options?: RoutingOptions): Promise<PeerInfo>
  /** The peers closest to `key` (for the DHT: the k closest that answered a lookup). */
  getClosestPeers(key: Uint8Array, options?: RoutingOptions): AsyncIterable<PeerInfo>
}

export interface ContentRouting {
  /** Announces that this node provides `content`. */
  provide(content: RoutingContentKey, options?: RoutingOptions): Promise<void>
  /** Stops announcing `content` (it is no longer republished). */
  cancelReprovide(content: RoutingContentKey, options?: RoutingOptions): Promise<void>
  /** Nodes that provide `content`, each once. */
  findProviders(content: RoutingContentKey, options?: RoutingOptions & { count?: number }): AsyncIterable<PeerInfo>
  /** Stores a value under `key` (for the DHT: a namespaced key such as `/pk/...`). */
  put(key: Uint8Array, value: Uint8Array, options?: RoutingOptions): Promise<void>
  /** The best value stored under `key`. */
  get(key: Uint8Array, options?: RoutingOptions): Promise<Uint8Array>
}

/** What a service exposes to take part in routing. */
export interface RoutingProvider {
  readonly peerRouter?: PeerRouting
  readonly contentRouter?: ContentRouting
}
