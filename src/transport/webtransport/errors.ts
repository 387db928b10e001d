/**
 * WebTransport's typed errors and the HTTP/3 error codes (RFC 9114 section 8.1, RFC 9204
 * section 6) they carry. Every decoder in this folder throws `Http3Error` for bytes that do not
 * form a valid frame, field section or stream header: the listener turns its `h3Code` into the
 * application error code of the QUIC CONNECTION_CLOSE or stream reset it sends.
 */
import { Libp2pError } from '../../util/errors.ts'

export const Http3ErrorCode = {
  NO_ERROR: 0x100,
  GENERAL_PROTOCOL_ERROR: 0x101,
  INTERNAL_ERROR: 0x102,
  STREAM_CREATION_ERROR: 0x103,
  CLOSED_CRITICAL_STREAM: 0x104,
  FRAME_UNEXPECTED: 0x105,
  FRAME_ERROR: 0x106,
  EXCESSIVE_LOAD: 0x107,
  ID_ERROR: 0x108,
  SETTINGS_ERROR: 0x109,
  MISSING_SETTINGS: 0x10a,
  REQUEST_REJECTED: 0x10b,
  REQUEST_CANCELLED: 0x10c,
  REQUEST_INCOMPLETE: 0x10d,
  MESSAGE_ERROR: 0x10e,
  CONNECT_ERROR: 0x10f,
  VERSION_FALLBACK: 0x110,
  QPACK_DECOMPRESSION_FAILED: 0x200,
  QPACK_ENCODER_STREAM_ERROR: 0x201,
  QPACK_DECODER_STREAM_ERROR: 0x202
} as const

/** Bytes from the peer broke HTTP/3, QPACK or WebTransport framing; `h3Code` says how. */
export class Http3Error extends Libp2pError {
  readonly h3Code: number
  constructor (message: string, h3Code: number = Http3ErrorCode.GENERAL_PROTOCOL_ERROR, options?: ErrorOptions) {
    super(message, 'ERR_HTTP3', options)
    this.name = 'Http3Error'
    this.h3Code = h3Code
  }
}

/** The WebTransport session could not be set up (refused CONNECT, missing settings, ...). */
export class WebTransportSessionError extends Libp2pError {
  constructor (message: string, options?: ErrorOptions) {
    super(message, 'ERR_WEBTRANSPORT_SESSION', options)
    this.name = 'WebTransportSessionError'
  }
}

/** The certificate the server used is not one of the certhashes of the dialed address. */
export class CertificateHashMismatchError extends Libp2pError {
  constructor (message: string, options?: ErrorOptions) {
    super(message, 'ERR_CERTHASH_MISMATCH', options)
    this.name = 'CertificateHashMismatchError'
  }
}
