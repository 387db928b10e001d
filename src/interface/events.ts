/** The node's `noun:verb` events, their details, and the typed EventTarget shape that carries them. */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection } from './connection.ts'
import type { PublicKey } from './keys.ts'
import type { PeerId } from './peer-id.ts'
import type { PeerInfo } from './routing.ts'

export interface IdentifyResult {
  peerId: PeerId
  publicKey?: PublicKey
  listenAddrs: Multiaddr[]
  protocols: string[]
  observedAddr?: Multiaddr
  agentVersion?: string
  protocolVersion?: string
  /** The signed peer record envelope, when the peer sent a valid one. */
  signedPeerRecord?: Uint8Array
  connection: Connection
}

export interface PeerUpdate {
  peerId: PeerId
}

/** The outcome of a DCUtR upgrade of a relayed connection (`holepunch` event). */
export interface HolePunchOutcome {
  peer: PeerId
  success: boolean
  /** From the start of the upgrade to the direct connection (or to the last failure), in ms. */
  ms: number
  /** The attempt that connected, or the attempts made; 0 when a plain direct dial sufficed. */
  attempt: number
  /** The direct connection's remote address, on success. */
  addr?: Multiaddr
  /** Who dialed the direct connection, on success ('inbound': the peer's dial came through our punch). */
  direction?: 'inbound' | 'outbound'
}

/** Our own record changed: the addresses we now announce (each with /p2p). */
export interface SelfPeerUpdate extends PeerUpdate {
  addrs: Multiaddr[]
}

/**
 * What AutoNAT concluded about this node: 'public' when some address is proven dialable
 * (`addrs` are those), 'private' when every tested address failed (`addrs` are those),
 * 'unknown' before any decision or when the evidence vanished.
 */
export interface ReachabilityUpdate {
  status: 'public' | 'private' | 'unknown'
  addrs: Multiaddr[]
}

/** A relay reservation of ours was made, refreshed or lost (circuit relay v2 client). */
export interface RelayReservationEvent {
  relay: PeerId
  status: 'reserved' | 'refreshed' | 'lost'
  /** Our addresses through the relay (`<relay addr>/p2p/<relay>/p2p-circuit/p2p/<us>`); empty when lost. */
  addrs: Multiaddr[]
  /** When the reservation ends, ms since epoch (0 when lost). */
  expires: number
}

/** Event names and their `CustomEvent.detail`. */
export type Libp2pEvents = {
  /** A peer a discovery mechanism found (mDNS, rendezvous, pubsub peer discovery, a DHT walk). */
  'peer:discovery': PeerInfo
  'peer:connect': PeerId
  'peer:disconnect': PeerId
  'peer:identify': IdentifyResult
  'peer:update': PeerUpdate
  'connection:open': Connection
  'connection:close': Connection
  'self:peer:update': SelfPeerUpdate
  'reachability': ReachabilityUpdate
  'holepunch': HolePunchOutcome
  'transport:listening': Multiaddr[]
  'relay:reservation': RelayReservationEvent
  'start': void
  'stop': void
}

/** A typed wrapper over EventTarget (browser and Node both have it). */
export interface TypedEvents<Events extends object> {
  addEventListener<K extends keyof Events & string>(type: K, listener: (evt: CustomEvent<Events[K]>) => void, options?: boolean | AddEventListenerOptions): void
  removeEventListener<K extends keyof Events & string>(type: K, listener: (evt: CustomEvent<Events[K]>) => void, options?: boolean | EventListenerOptions): void
  dispatchEvent(event: Event): boolean
  /** Shorthand for dispatching `new CustomEvent(type, { detail })`. */
  safeDispatch<K extends keyof Events & string>(type: K, detail: Events[K]): void
}
