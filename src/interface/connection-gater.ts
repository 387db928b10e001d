/**
 * The connection gater: application policy hooks the switch consults at each step of opening
 * a connection. Every hook is optional and may be async; returning true denies. A denied dial
 * fails with ConnectionDeniedError; a denied inbound connection is dropped silently.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection } from './connection.ts'
import type { PeerId } from './peer-id.ts'
import type { RawConnection } from './transport.ts'

type Verdict = boolean | Promise<boolean>

export interface ConnectionGater {
  /** Before dialing a peer at all. */
  denyDialPeer?(peerId: PeerId): Verdict
  /** Before dialing one address (`peerId` is known when the dial names one). */
  denyDialMultiaddr?(multiaddr: Multiaddr, peerId?: PeerId): Verdict
  /** A transport accepted a raw connection, before any byte is exchanged. */
  denyInboundConnection?(conn: RawConnection): Verdict
  /** A raw outbound connection is open, before the security handshake. */
  denyOutboundConnection?(peerId: PeerId | undefined, conn: RawConnection): Verdict
  /** The security handshake authenticated `peerId` on an inbound connection. */
  denyInboundEncryptedConnection?(peerId: PeerId, conn: RawConnection): Verdict
  /** The security handshake authenticated `peerId` on an outbound connection. */
  denyOutboundEncryptedConnection?(peerId: PeerId, conn: RawConnection): Verdict
  /** The inbound connection is secured and multiplexed, before the node sees it. */
  denyInboundUpgradedConnection?(peerId: PeerId, conn: Connection): Verdict
  /** The outbound connection is secured and multiplexed, before the node sees it. */
  denyOutboundUpgradedConnection?(peerId: PeerId, conn: Connection): Verdict
}
