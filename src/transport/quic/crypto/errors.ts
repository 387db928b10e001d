/**
 * Errors of QUIC's cryptography, each with a literal `name` and a stable `code`. A handshake
 * failure carries the TLS alert (RFC 8446 6) that QUIC turns into CRYPTO_ERROR 0x0100 + alert
 * (RFC 9001 4.8); nothing is sent as a TLS alert record, QUIC has none.
 */
import { Libp2pError } from '../../../util/errors.ts'

/** The TLS alert descriptions this handshake raises (RFC 8446 6.2, RFC 7301 3.2). */
export const TlsAlert = {
  unexpectedMessage: 10,
  handshakeFailure: 40,
  badCertificate: 42,
  unsupportedCertificate: 43,
  certificateExpired: 45,
  illegalParameter: 47,
  decodeError: 50,
  decryptError: 51,
  protocolVersion: 70,
  internalError: 80,
  missingExtension: 109,
  unsupportedExtension: 110,
  certificateRequired: 116,
  noApplicationProtocol: 120
} as const

/** The TLS handshake inside QUIC failed; `tlsAlert` says why in TLS terms. */
export class QuicTlsError extends Libp2pError {
  static readonly code = 'ERR_QUIC_TLS'
  /** The TLS alert description; QUIC closes with CRYPTO_ERROR 0x0100 + tlsAlert. */
  readonly tlsAlert: number
  constructor (message: string, tlsAlert: number, options?: ErrorOptions) {
    super(message, QuicTlsError.code, options)
    this.name = 'QuicTlsError'
    this.tlsAlert = tlsAlert
  }

  /** The QUIC transport error code for CONNECTION_CLOSE (RFC 9001 4.8). */
  get quicErrorCode (): number {
    return 0x0100 + this.tlsAlert
  }
}

/** A packet's AEAD tag did not verify (or it was shorter than a tag): drop the packet. */
export class PacketDecryptionError extends Libp2pError {
  static readonly code = 'ERR_QUIC_PACKET_DECRYPTION'
  constructor (message = 'QUIC packet failed authentication', options?: ErrorOptions) {
    super(message, PacketDecryptionError.code, options)
    this.name = 'PacketDecryptionError'
  }
}

/** A QUIC version this code has no keys for (only QUIC v1, 0x00000001). */
export class UnsupportedQuicVersionError extends Libp2pError {
  static readonly code = 'ERR_QUIC_UNSUPPORTED_VERSION'
  constructor (message = 'Unsupported QUIC version', options?: ErrorOptions) {
    super(message, UnsupportedQuicVersionError.code, options)
    this.name = 'UnsupportedQuicVersionError'
  }
}
