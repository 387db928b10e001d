import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from './common.ts'
import type { PublicKey } from './keys.ts'
import type { PeerId } from './peer-id.ts'

export interface Address {
  multiaddr: Multiaddr
  /** True when the address came from a signed peer record of that peer. */
  isCertified: boolean
  /** ms since epoch after which the address is forgotten; undefined = no expiry. */
  expires?: number
}

export interface Tag {
  /** 0-100; the connection manager prunes low-value peers first. */
  value: number
  /** ms since epoch after which the tag is removed. */
  expires?: number
}

export interface Peer {
  id: PeerId
  addresses: Address[]
  protocols: string[]
  metadata: Map<string, Uint8Array>
  tags: Map<string, Tag>
  publicKey?: PublicKey
  /** The latest signed peer record envelope (bytes) the peer gave us. */
  peerRecordEnvelope?: Uint8Array
}

/** Fields to set; `undefined` leaves a field unchanged. */
export interface PeerData {
  multiaddrs?: Multiaddr[]
  addresses?: Address[]
  protocols?: string[]
  metadata?: Map<string, Uint8Array | undefined> | Record<string, Uint8Array | undefined>
  tags?: Map<string, Tag | undefined> | Record<string, Tag | undefined>
  publicKey?: PublicKey
  peerRecordEnvelope?: Uint8Array
  /** TTL in ms applied to addresses given as `multiaddrs`. */
  addressTtl?: number
}

export interface PeerStore {
  has(peerId: PeerId, options?: AbortOptions): Promise<boolean>
  /** Throws NotFoundError when unknown. */
  get(peerId: PeerId, options?: AbortOptions): Promise<Peer>
  all(options?: AbortOptions & { filter?(peer: Peer): boolean, limit?: number }): Promise<Peer[]>
  /**
   * Replaces the peer's data with `data`: addresses, protocols, metadata and tags not given are
   * cleared (as in js-libp2p). Its public key and newest signed peer record stay: they are facts
   * about the peer, and the record's sequence number guards against replays.
   */
  save(peerId: PeerId, data: PeerData, options?: AbortOptions): Promise<Peer>
  /** Replaces the given fields and keeps the others. */
  patch(peerId: PeerId, data: PeerData, options?: AbortOptions): Promise<Peer>
  /** Adds to list fields (addresses, protocols) and map fields instead of replacing them. */
  merge(peerId: PeerId, data: PeerData, options?: AbortOptions): Promise<Peer>
  delete(peerId: PeerId, options?: AbortOptions): Promise<void>
  /**
   * Verifies a signed peer record envelope and stores its addresses as certified. Resolves
   * false when it is not newer than the one stored (nothing changes); rejects with a typed
   * error when it does not verify or is not from `expectedPeer` (UnexpectedPeerError).
   */
  consumePeerRecord(envelope: Uint8Array, expectedPeer?: PeerId, options?: AbortOptions): Promise<boolean>
}
