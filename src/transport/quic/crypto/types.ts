/**
 * The seam between QUIC's cryptography (this folder: the TLS 1.3 handshake carried in CRYPTO
 * frames, the key schedule, packet and header protection; RFC 9001) and the QUIC transport
 * (packets, frames, streams, recovery; the folder above). Types only.
 *
 * What the transport does with it:
 * - Initial packets: `initialProtectors(version, destinationConnectionId, role)` (RFC 9001 5.2;
 *   the client's first Destination Connection ID, also after a Retry with the new one).
 * - Everything else: create one `QuicHandshake` per connection, feed it the in-order bytes of
 *   each level's CRYPTO stream (`receiveCryptoData`; the transport reorders and bounds them),
 *   send what `onCryptoData` hands out in CRYPTO frames of that level, install the protectors
 *   `onKeys` hands out, and learn the authenticated peer from `onComplete`.
 * - Protecting a packet: `write.seal(pn, header, payload)` gives ciphertext plus the 16-byte
 *   tag; then sample 16 bytes at (packet number offset + 4) and XOR `headerProtectionMask`
 *   over the first byte (low 4 bits long header, low 5 bits short header) and the packet number
 *   bytes (RFC 9001 5.4). Unprotecting: the mask first, then `read.open(pn, header, rest)`.
 * - A failed handshake maps to CONNECTION_CLOSE with CRYPTO_ERROR = 0x0100 + `tlsAlert`.
 */
import type { PrivateKey, PublicKey } from '../../../interface/keys.ts'
import type { PeerId } from '../../../interface/peer-id.ts'

/** The packet number spaces that carry keys. There is no 0-RTT in libp2p's QUIC. */
export type EncryptionLevel = 'initial' | 'handshake' | 'application'

/** Which end of the connection we are. */
export type QuicRole = 'client' | 'server'

/** The AEAD of a cipher suite (RFC 9001 5.3); header protection follows it (5.4.3, 5.4.4). */
export type QuicAeadName = 'AES-128-GCM' | 'ChaCha20-Poly1305'

/**
 * Packet protection for one direction of one encryption level. Implementations keep their key
 * objects and nonce buffer and allocate nothing per packet beyond the output.
 */
export interface PacketProtector {
  readonly aead: QuicAeadName
  /** Bytes the AEAD tag adds to every payload (16 for both suites). */
  readonly tagLength: number
  /** Bytes of ciphertext `headerProtectionMask` samples (16 for both suites). */
  readonly sampleLength: number
  /**
   * Packets this key may protect before the connection must update keys or close
   * (RFC 9001 6.6: 2^23 for AES-128-GCM, 2^62 for ChaCha20-Poly1305).
   */
  readonly confidentialityLimit: number
  /**
   * Failed `open`s this key may see before the connection must close with AEAD_LIMIT_REACHED
   * (RFC 9001 6.6: 2^52 for AES-128-GCM, 2^36 for ChaCha20-Poly1305). The transport counts.
   */
  readonly integrityLimit: number
  /**
   * Encrypts `payload` with the nonce IV xor packet number (the full, reconstructed packet
   * number, < 2^62) and `header` (the unprotected header, packet number included) as associated
   * data. Returns ciphertext followed by the tag (`payload.length + tagLength` bytes).
   */
  seal(packetNumber: number, header: Uint8Array, payload: Uint8Array): Uint8Array
  /**
   * The inverse of `seal`. Throws `PacketDecryptionError` (errors.ts) when the tag does not
   * verify or the input is shorter than a tag; the transport then drops the packet.
   */
  open(packetNumber: number, header: Uint8Array, ciphertextWithTag: Uint8Array): Uint8Array
  /** The 5-byte header protection mask for a 16-byte ciphertext sample (RFC 9001 5.4.1). */
  headerProtectionMask(sample: Uint8Array): Uint8Array
}

/** Both directions of one encryption level. */
export interface PacketProtectorPair {
  /** Opens what the remote sealed. */
  read: PacketProtector
  /** Seals what we send. */
  write: PacketProtector
}

/** RFC 9001 5.2: the Initial keys, derived from the client's first Destination Connection ID. */
export type InitialProtectorsFunction = (version: number, destinationConnectionId: Uint8Array, role: QuicRole) => PacketProtectorPair

/** What the handshake reports once the peer is authenticated and both Finished were checked. */
export interface QuicHandshakeResult {
  /**
   * The peer id from the libp2p extension of the remote's certificate; undefined with
   * `plainCertificates` (WebTransport: Noise authenticates the peer afterwards).
   */
  remotePeer?: PeerId
  /** The host key that peer id is made of. */
  remotePublicKey?: PublicKey
  /** The remote's quic_transport_parameters (TLS extension 0x39), opaque here; QUIC decodes them. */
  remoteTransportParameters: Uint8Array
  /** The negotiated ALPN protocol ('libp2p'). */
  alpn: string
}

/**
 * TLS without libp2p's certificate rules, for HTTP/3 (WebTransport): the server asks the client
 * for no certificate, and the client checks the server's chain with `verifyServer` instead
 * (WebTransport: the certificate's hash must be one the dialed address lists).
 */
export interface PlainCertificates {
  /** Client: the server's certificates (DER, leaf first); resolves with the leaf's SubjectPublicKeyInfo DER, throws to fail. */
  verifyServer?(certificates: Uint8Array[]): Promise<Uint8Array>
}

/** A certificate to reuse across connections (by default each handshake makes a fresh one). */
export interface QuicCertificate {
  /** The self-signed libp2p certificate, DER (security/tls's format). */
  der: Uint8Array
  /** Its ECDSA P-256 key, which signs CertificateVerify. */
  certificateKey: PrivateKey
}

export interface QuicHandshakeOptions {
  role: QuicRole
  /** The node's libp2p identity key; the certificate's libp2p extension is signed with it. */
  privateKey: PrivateKey
  /** The client fails the handshake unless the server proves this peer id. */
  expectedRemotePeer?: PeerId
  /** Our quic_transport_parameters, already encoded by QUIC (RFC 9000 18). */
  localTransportParameters: Uint8Array
  /** ALPN protocols in preference order; libp2p uses ['libp2p']. */
  alpn: string[]
  certificate?: QuicCertificate
  /** Set for HTTP/3 connections (see PlainCertificates); libp2p's rules apply when absent. */
  plainCertificates?: PlainCertificates
  /** Handshake bytes to send in CRYPTO frames of `level`, in order. */
  onCryptoData(level: EncryptionLevel, bytes: Uint8Array): void
  /**
   * New keys for `level` ('handshake', then 'application'; 'initial' comes from
   * `initialProtectors`). Application keys are given only when the handshake is complete (just
   * before `onComplete`), so no 1-RTT packet is processed before the peer is authenticated.
   */
  onKeys(level: EncryptionLevel, keys: PacketProtectorPair): void
  onComplete(result: QuicHandshakeResult): void
  /**
   * The handshake failed (ours or the peer's fault): a `QuicTlsError` (errors.ts) whose
   * `tlsAlert` gives the CRYPTO_ERROR code 0x0100 + tlsAlert. No callback follows.
   */
  onError(err: Error & { tlsAlert: number }): void
}

export interface QuicHandshake {
  /** The client sends its ClientHello (through `onCryptoData('initial', ...)`); the server does nothing. */
  start(): void
  /**
   * In-order bytes of the CRYPTO stream at `level`. Processing may finish asynchronously
   * (certificate checks); callbacks report the outcome. Bytes after a failure are ignored.
   */
  receiveCryptoData(level: EncryptionLevel, bytes: Uint8Array): void
  /**
   * RFC 9001 6: derives the next generation of 1-RTT keys (both directions; header protection
   * keys do not change). The transport decides when to switch, and keeps the previous read key
   * for a while to open reordered packets. Throws before the handshake is complete.
   */
  updateApplicationKeys(): PacketProtectorPair
  /**
   * The next generation's keys without switching to them: the same objects the following
   * `updateApplicationKeys()` returns. Open a packet whose Key Phase bit flipped with
   * `nextApplicationKeys().read` and call `updateApplicationKeys()` only if it opens, so a
   * forged or corrupted packet cannot move the key schedule (RFC 9001 6.3, 9.5). Optional so
   * stand-ins for tests need not have it.
   */
  nextApplicationKeys?(): PacketProtectorPair
  readonly state: 'handshaking' | 'complete' | 'failed'
  /** Stops the handshake (the connection closed); later input is ignored and no callback follows. */
  destroy(): void
}

export type CreateQuicHandshakeFunction = (options: QuicHandshakeOptions) => QuicHandshake

/** RFC 9001 5.8: the Retry Integrity Tag over the pseudo-packet (ODCID length, ODCID, Retry packet without tag). */
export type RetryIntegrityTagFunction = (version: number, originalDestinationConnectionId: Uint8Array, retryPacketWithoutTag: Uint8Array) => Uint8Array

/** RFC 9000 10.3.2: a 16-byte stateless reset token derived from a static key and the connection id. */
export type StatelessResetTokenFunction = (staticKey: Uint8Array, connectionId: Uint8Array) => Uint8Array
