/**
 * QUIC's typed errors and the transport error codes of RFC 9000 section 20.1.
 *
 * Every decoder in this folder throws `QuicFrameError` (or a subclass) for bytes that do not
 * form a valid packet, frame or parameter; the connection turns it into a CONNECTION_CLOSE with
 * the carried `transportCode`. Errors the remote reports to us arrive as
 * `QuicConnectionClosedError` with the code and reason it sent.
 */
import { Libp2pError } from '../../util/errors.ts'

/** RFC 9000 section 20.1. CRYPTO_ERROR is 0x0100 + the TLS alert. */
export const QuicTransportErrorCode = {
  NO_ERROR: 0x00,
  INTERNAL_ERROR: 0x01,
  CONNECTION_REFUSED: 0x02,
  FLOW_CONTROL_ERROR: 0x03,
  STREAM_LIMIT_ERROR: 0x04,
  STREAM_STATE_ERROR: 0x05,
  FINAL_SIZE_ERROR: 0x06,
  FRAME_ENCODING_ERROR: 0x07,
  TRANSPORT_PARAMETER_ERROR: 0x08,
  CONNECTION_ID_LIMIT_ERROR: 0x09,
  PROTOCOL_VIOLATION: 0x0a,
  INVALID_TOKEN: 0x0b,
  APPLICATION_ERROR: 0x0c,
  CRYPTO_BUFFER_EXCEEDED: 0x0d,
  KEY_UPDATE_ERROR: 0x0e,
  AEAD_LIMIT_REACHED: 0x0f,
  NO_VIABLE_PATH: 0x10,
  CRYPTO_ERROR_BASE: 0x0100
} as const

/**
 * A protocol error detected locally: the connection closes with `transportCode`. The decoders
 * throw it with FRAME_ENCODING_ERROR (or the more precise code RFC 9000 asks for).
 */
export class QuicProtocolError extends Libp2pError {
  readonly transportCode: number
  constructor (message: string, transportCode: number = QuicTransportErrorCode.PROTOCOL_VIOLATION, options?: ErrorOptions) {
    super(message, 'ERR_QUIC_PROTOCOL', options)
    this.name = 'QuicProtocolError'
    this.transportCode = transportCode
  }
}

/** Bytes that do not decode as a QUIC varint, frame, packet header or transport parameter. */
export class QuicDecodeError extends Libp2pError {
  readonly transportCode: number
  constructor (message: string, transportCode: number = QuicTransportErrorCode.FRAME_ENCODING_ERROR) {
    super(message, 'ERR_QUIC_DECODE')
    this.name = 'QuicDecodeError'
    this.transportCode = transportCode
  }
}

/** The connection ended: the remote sent CONNECTION_CLOSE, or we closed it with an error. */
export class QuicConnectionClosedError extends Libp2pError {
  /** The transport or application error code carried by CONNECTION_CLOSE. */
  readonly errorCode: number
  /** True for an application close (frame 0x1d), false for a transport close (0x1c). */
  readonly application: boolean
  /** True when the remote closed, false when we did. */
  readonly remote: boolean
  constructor (message: string, errorCode: number, application: boolean, remote: boolean) {
    super(message, 'ERR_QUIC_CONNECTION_CLOSED')
    this.name = 'QuicConnectionClosedError'
    this.errorCode = errorCode
    this.application = application
    this.remote = remote
  }
}

/** No packet arrived for the negotiated idle timeout. */
export class QuicIdleTimeoutError extends Libp2pError {
  constructor (message = 'the QUIC connection was idle for too long') {
    super(message, 'ERR_QUIC_IDLE_TIMEOUT')
    this.name = 'QuicIdleTimeoutError'
  }
}

/** The remote sent a valid stateless reset for this connection. */
export class QuicStatelessResetError extends Libp2pError {
  constructor (message = 'the remote reset the QUIC connection statelessly') {
    super(message, 'ERR_QUIC_STATELESS_RESET')
    this.name = 'QuicStatelessResetError'
  }
}

/** The remote supports none of our QUIC versions. */
export class QuicVersionNegotiationError extends Libp2pError {
  readonly versions: readonly number[]
  constructor (versions: readonly number[]) {
    super(`the remote supports none of our QUIC versions (it offered ${versions.map(v => '0x' + v.toString(16)).join(', ') || 'none'})`, 'ERR_QUIC_VERSION_NEGOTIATION')
    this.name = 'QuicVersionNegotiationError'
    this.versions = versions
  }
}
