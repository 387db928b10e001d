/**
 * Error classes shared by every layer. Each has a stable `code` (what callers switch on) and a
 * `name` equal to the class name, written as a string literal so a minified bundle (which
 * renames classes) keeps it; errors stay recognisable across process and package boundaries
 * where `instanceof` does not work. A subclass sets its own literal name in its constructor.
 */
export class Libp2pError extends Error {
  readonly code: string

  constructor (message: string, code: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = 'Libp2pError'
  }
}

function errorClass (name: string, code: string, defaultMessage: string) {
  return class extends Libp2pError {
    static readonly code = code
    constructor (message: string = defaultMessage, options?: ErrorOptions) {
      super(message, code, options)
      this.name = name
    }
  }
}

/** An operation was cancelled through its AbortSignal. */
export class AbortError extends errorClass('AbortError', 'ABORT_ERR', 'The operation was aborted') {}
/** A wait exceeded its time limit. */
export class TimeoutError extends errorClass('TimeoutError', 'ERR_TIMEOUT', 'The operation timed out') {}
/** Bytes from the network that do not form a valid message. */
export class InvalidMessageError extends errorClass('InvalidMessageError', 'ERR_INVALID_MESSAGE', 'Invalid message') {}
/** A length, count or size exceeded its limit. */
export class MessageTooLargeError extends errorClass('MessageTooLargeError', 'ERR_MESSAGE_TOO_LARGE', 'Message too large') {}
/** The stream ended in the middle of a message. */
export class UnexpectedEOFError extends errorClass('UnexpectedEOFError', 'ERR_UNEXPECTED_EOF', 'Unexpected end of stream') {}
/** An argument given by the caller is invalid. */
export class InvalidParametersError extends errorClass('InvalidParametersError', 'ERR_INVALID_PARAMETERS', 'Invalid parameters') {}
/** The remote (or local side) reset the stream: both directions failed. */
export class StreamResetError extends errorClass('StreamResetError', 'ERR_STREAM_RESET', 'The stream was reset') {}
/** A write or read was attempted on a direction that is already closed. */
export class StreamClosedError extends errorClass('StreamClosedError', 'ERR_STREAM_CLOSED', 'The stream is closed') {}
/** A second concurrent read was attempted; only one reader may own a stream. */
export class ConcurrentReadError extends errorClass('ConcurrentReadError', 'ERR_CONCURRENT_READ', 'A read is already pending on this stream') {}
/** The connection is closed or closing. */
export class ConnectionClosedError extends errorClass('ConnectionClosedError', 'ERR_CONNECTION_CLOSED', 'The connection is closed') {}
/** A named limit (streams, connections, buffered bytes) was hit. */
export class LimitExceededError extends errorClass('LimitExceededError', 'ERR_LIMIT_EXCEEDED', 'Limit exceeded') {}
/** No protocol in the proposal list was accepted by the remote peer. */
export class UnsupportedProtocolError extends errorClass('UnsupportedProtocolError', 'ERR_UNSUPPORTED_PROTOCOL', 'Protocol not supported') {}
/** A key could not be parsed, or is of an unsupported type. */
export class InvalidKeyError extends errorClass('InvalidKeyError', 'ERR_INVALID_KEY', 'Invalid key') {}
/** A peer id string, multihash or CID could not be parsed. */
export class InvalidPeerIdError extends errorClass('InvalidPeerIdError', 'ERR_INVALID_PEER_ID', 'Invalid peer id') {}
/** A signature did not verify. */
export class InvalidSignatureError extends errorClass('InvalidSignatureError', 'ERR_INVALID_SIGNATURE', 'Invalid signature') {}
/** The authenticated remote peer is not the one that was dialed. */
export class UnexpectedPeerError extends errorClass('UnexpectedPeerError', 'ERR_UNEXPECTED_PEER', 'Unexpected remote peer') {}
/**
 * A remote's libp2p TLS certificate breaks the rules of tls/tls.md: malformed DER, more or fewer
 * than one certificate, outside its validity dates, an unknown critical extension, a bad
 * self-signature, a missing libp2p extension or a SignedKey signature that does not verify.
 */
export class InvalidCertificateError extends errorClass('InvalidCertificateError', 'ERR_INVALID_CERTIFICATE', 'Invalid libp2p TLS certificate') {}
/** The security handshake failed. */
export class HandshakeError extends errorClass('HandshakeError', 'ERR_HANDSHAKE', 'Handshake failed') {}
/** A multiaddr is invalid or not supported here. */
export class InvalidMultiaddrError extends errorClass('InvalidMultiaddrError', 'ERR_INVALID_MULTIADDR', 'Invalid multiaddr') {}
/** A connection was refused by the connection gater or the connection manager. */
export class ConnectionDeniedError extends errorClass('ConnectionDeniedError', 'ERR_CONNECTION_DENIED', 'Connection denied') {}
/** The node is not started, or is stopping. */
export class NotStartedError extends errorClass('NotStartedError', 'ERR_NOT_STARTED', 'The node is not started') {}
/** A requested item does not exist. */
export class NotFoundError extends errorClass('NotFoundError', 'ERR_NOT_FOUND', 'Not found') {}
/** A transport could not open a connection (refused, unreachable, name not resolved...). */
export class ConnectionFailedError extends errorClass('ConnectionFailedError', 'ERR_CONNECTION_FAILED', 'The connection could not be opened') {}
/** A transport could not listen on an address (in use, not available on this machine...). */
export class ListenError extends errorClass('ListenError', 'ERR_LISTEN_FAILED', 'Could not listen on the address') {}
/** A service needs a capability (or another service) that no configured service provides. */
export class MissingServiceDependencyError extends errorClass('MissingServiceDependencyError', 'ERR_MISSING_SERVICE_DEPENDENCY', 'A service dependency is missing') {}
/** A component was used after it stopped (its pending work is cancelled with this reason). */
export class ServiceStoppedError extends errorClass('ServiceStoppedError', 'ERR_SERVICE_STOPPED', 'The service stopped') {}
/** LIBP2P_FORCE_PNET=1 is set but the node has no connection protector (private network key). */
export class PrivateNetworkRequiredError extends errorClass('PrivateNetworkRequiredError', 'ERR_PNET_REQUIRED', 'LIBP2P_FORCE_PNET is set: a private network key (connectionProtector: preSharedKey(...)) is required') {}
