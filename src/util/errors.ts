/**
 * Error classes shared by every layer. Each has a stable `code` (what callers switch on) and a
 * `name` equal to the class name, so errors stay recognisable across process and package
 * boundaries where `instanceof` does not work.
 */
export class Libp2pError extends Error {
  readonly code: string

  constructor (message: string, code: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

function errorClass (code: string, defaultMessage: string) {
  return class extends Libp2pError {
    static readonly code = code
    constructor (message: string = defaultMessage, options?: ErrorOptions) {
      super(message, code, options)
    }
  }
}

/** An operation was cancelled through its AbortSignal. */
export class AbortError extends errorClass('ABORT_ERR', 'The operation was aborted') {}
/** A wait exceeded its time limit. */
export class TimeoutError extends errorClass('ERR_TIMEOUT', 'The operation timed out') {}
/** Bytes from the network that do not form a valid message. */
export class InvalidMessageError extends errorClass('ERR_INVALID_MESSAGE', 'Invalid message') {}
/** A length, count or size exceeded its limit. */
export class MessageTooLargeError extends errorClass('ERR_MESSAGE_TOO_LARGE', 'Message too large') {}
/** The stream ended in the middle of a message. */
export class UnexpectedEOFError extends errorClass('ERR_UNEXPECTED_EOF', 'Unexpected end of stream') {}
/** An argument given by the caller is invalid. */
export class InvalidParametersError extends errorClass('ERR_INVALID_PARAMETERS', 'Invalid parameters') {}
/** The remote (or local side) reset the stream: both directions failed. */
export class StreamResetError extends errorClass('ERR_STREAM_RESET', 'The stream was reset') {}
/** A write or read was attempted on a direction that is already closed. */
export class StreamClosedError extends errorClass('ERR_STREAM_CLOSED', 'The stream is closed') {}
/** A second concurrent read was attempted; only one reader may own a stream. */
export class ConcurrentReadError extends errorClass('ERR_CONCURRENT_READ', 'A read is already pending on this stream') {}
/** The connection is closed or closing. */
export class ConnectionClosedError extends errorClass('ERR_CONNECTION_CLOSED', 'The connection is closed') {}
/** A named limit (streams, connections, buffered bytes) was hit. */
export class LimitExceededError extends errorClass('ERR_LIMIT_EXCEEDED', 'Limit exceeded') {}
/** No protocol in the proposal list was accepted by the remote peer. */
export class UnsupportedProtocolError extends errorClass('ERR_UNSUPPORTED_PROTOCOL', 'Protocol not supported') {}
/** A key could not be parsed, or is of an unsupported type. */
export class InvalidKeyError extends errorClass('ERR_INVALID_KEY', 'Invalid key') {}
/** A peer id string, multihash or CID could not be parsed. */
export class InvalidPeerIdError extends errorClass('ERR_INVALID_PEER_ID', 'Invalid peer id') {}
/** A signature did not verify. */
export class InvalidSignatureError extends errorClass('ERR_INVALID_SIGNATURE', 'Invalid signature') {}
/** The authenticated remote peer is not the one that was dialed. */
export class UnexpectedPeerError extends errorClass('ERR_UNEXPECTED_PEER', 'Unexpected remote peer') {}
/** The security handshake failed. */
export class HandshakeError extends errorClass('ERR_HANDSHAKE', 'Handshake failed') {}
/** A multiaddr is invalid or not supported here. */
export class InvalidMultiaddrError extends errorClass('ERR_INVALID_MULTIADDR', 'Invalid multiaddr') {}
/** A connection was refused by the connection gater or the connection manager. */
export class ConnectionDeniedError extends errorClass('ERR_CONNECTION_DENIED', 'Connection denied') {}
/** The node is not started, or is stopping. */
export class NotStartedError extends errorClass('ERR_NOT_STARTED', 'The node is not started') {}
/** A requested item does not exist. */
export class NotFoundError extends errorClass('ERR_NOT_FOUND', 'Not found') {}
/** A transport could not open a connection (refused, unreachable, name not resolved...). */
export class ConnectionFailedError extends errorClass('ERR_CONNECTION_FAILED', 'The connection could not be opened') {}
/** A transport could not listen on an address (in use, not available on this machine...). */
export class ListenError extends errorClass('ERR_LISTEN_FAILED', 'Could not listen on the address') {}
