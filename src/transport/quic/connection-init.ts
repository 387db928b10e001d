/**
 * What the endpoint gives a QUIC connection when it creates one (connection.ts): its role,
 * ids, keys, crypto seam and the callbacks through which the connection reaches the socket
 * and the endpoint's tables. Kept apart so seams (ALPN, certificates, hole punching) extend
 * this contract without touching the connection's state machine.
 */
import type { CreateQuicHandshakeFunction, InitialProtectorsFunction, PlainCertificates, QuicCertificate, QuicRole, RetryIntegrityTagFunction } from './crypto/types.ts'
import type { PrivateKey } from '../../interface/keys.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import type { QuicConfig } from './config.ts'
import type { QuicStream } from './stream.ts'
import type { QuicConnection } from './connection.ts'

/** The crypto seam's functions (crypto/types.ts), injected so tests can stand in for TLS. */
export interface QuicCrypto {
  initialProtectors: InitialProtectorsFunction
  createHandshake: CreateQuicHandshakeFunction
  retryIntegrityTag: RetryIntegrityTagFunction
}

export interface ConnectionInit {
  role: QuicRole
  crypto: QuicCrypto
  privateKey: PrivateKey
  expectedRemotePeer?: PeerId
  /** Our connection id (the remote's destination id). */
  localCid: Uint8Array
  /** The remote's connection id as first known (client: random, then the server's). */
  remoteCid: Uint8Array
  /** The destination id of the client's very first Initial. */
  originalDcid: Uint8Array
  /** Server: the destination id of the client's current Initial, which its keys come from. */
  initialKeyCid?: Uint8Array
  /** Server: the id a Retry made the client use (the packet that validated the address). */
  retrySourceCid?: Uint8Array
  /** Server: whether the client's address is validated (a Retry token): lifts the 3x limit. */
  addressValidated: boolean
  /** Server: the stateless reset token of `localCid`. */
  statelessResetToken?: Uint8Array
  /** The remote is on loopback: PMTU discovery may go past 1452 bytes. */
  loopback: boolean
  config?: Partial<QuicConfig>
  /** ALPN protocols (default ['libp2p']; HTTP/3 uses ['h3']). */
  alpn?: string[]
  /** The certificate to present (default: the node's libp2p certificate). */
  certificate?: QuicCertificate
  /** Non-libp2p certificate checks (HTTP/3, see crypto/types.ts). */
  plainCertificates?: PlainCertificates
  /** Sends one datagram made of `parts` (header, ciphertext, ...). */
  send(parts: Uint8Array[]): void
  /** The handshake finished and the peer is authenticated. */
  onEstablished?(connection: QuicConnection): void
  /** A stream the remote opened. */
  onIncomingStream(stream: QuicStream): void
  /** The connection is gone (after closing/draining): the endpoint forgets its ids. */
  onTerminated(connection: QuicConnection): void
  /** The connection started closing or draining (it stays until its closing period ends). */
  onClosing?(connection: QuicConnection): void
  /** Client: the server asked for a Retry; the endpoint maps the new ids. */
  onRemoteCidChange?(connection: QuicConnection): void
}

export type ConnectionState = 'handshaking' | 'established' | 'closing' | 'draining' | 'closed'
