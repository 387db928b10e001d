/** The connection manager as services see it: open, list and close connections to peers. */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from './common.ts'
import type { Connection } from './connection.ts'
import type { PeerId } from './peer-id.ts'

export type DialTarget = PeerId | Multiaddr | Multiaddr[]

export interface DialOptions extends AbortOptions {
  /** Open a new connection even if one to the peer exists. */
  force?: boolean
  /**
   * The role this side takes in the security and muxer handshakes (default 'initiator', as
   * for any dial). A hole punch is a simultaneous open: both peers dial and each gets an
   * outgoing socket, so DCUtR tells one of them to act as the responder. Only with `force`.
   */
  handshakeRole?: HandshakeRole
  /** Dial from a socket of its own (TransportDialOptions.separateSocket; AutoNAT dial-backs). Only with `force`. */
  separateSocket?: boolean
}

export type HandshakeRole = 'initiator' | 'responder'

export interface ConnectionManager {
  openConnection(target: DialTarget, options?: DialOptions): Promise<Connection>
  getConnections(peerId?: PeerId): Connection[]
  closeConnections(peerId: PeerId, options?: AbortOptions): Promise<void>
  /**
   * Whether the transport for `addr` can punch a hole to it (Transport.holePunch), and the
   * punch itself: random datagrams to `addr` until the signal aborts. DCUtR's side that
   * waits for the other's QUIC dial uses it.
   */
  canHolePunch?(addr: Multiaddr): boolean
  /** Whether a configured transport can dial `addr` (the AutoNAT server checks before choosing an address). */
  canDial?(addr: Multiaddr): boolean
  holePunch?(addr: Multiaddr, options: Required<AbortOptions>): Promise<void>
}
