/**
 * QUIC's cryptography (RFC 9001), Node only: the TLS 1.3 handshake carried in CRYPTO frames with
 * libp2p's certificate authentication, the Initial keys, packet and header protection for
 * AES-128-GCM and ChaCha20-Poly1305, key update, the Retry integrity tag and stateless reset
 * tokens. The transport meets it through the types in types.ts; see that file for the contract.
 */
import { createQuicHandshake } from './handshake.node.ts'
import { initialProtectors } from './initial-keys.node.ts'
import { retryIntegrityTag } from './retry-integrity.node.ts'
import { statelessResetToken } from './stateless-reset.node.ts'

export type {
  EncryptionLevel, QuicRole, QuicAeadName, PacketProtector, PacketProtectorPair, QuicHandshake, QuicHandshakeOptions,
  QuicHandshakeResult, QuicCertificate
} from './types.ts'
export { QuicTlsError, PacketDecryptionError, UnsupportedQuicVersionError, TlsAlert } from './errors.ts'
export { createQuicHandshake } from './handshake.node.ts'
export { initialProtectors, initialSecrets, QUIC_VERSION_1 } from './initial-keys.node.ts'
export { TrafficKeys } from './packet-protection.node.ts'
export { retryIntegrityTag, verifyRetryIntegrity, RETRY_INTEGRITY_TAG_LENGTH } from './retry-integrity.node.ts'
export { statelessResetToken, statelessResetTokensEqual, STATELESS_RESET_TOKEN_LENGTH } from './stateless-reset.node.ts'

/** Everything the QUIC transport takes as its crypto provider (`quic({ crypto: quicCrypto })`). */
export const quicCrypto = { initialProtectors, createHandshake: createQuicHandshake, retryIntegrityTag, statelessResetToken }
