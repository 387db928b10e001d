/**
 * Errors of HTTP/1.1 over libp2p. Each carries the status a server answers with when the
 * error comes from parsing a request (`status`), besides the stable `code`: the server maps a
 * parse failure to its response without a table of its own.
 */
import { Libp2pError } from '../../util/errors.ts'

export class HttpError extends Libp2pError {
  /** The status a server answers with when a request fails this way. */
  readonly status: number

  constructor (message: string, code: string, status: number, options?: ErrorOptions) {
    super(message, code, options)
    this.status = status
    this.name = 'HttpError'
  }
}

/** Bytes that are not HTTP/1.1: a bad start line, header field, chunk line, bare CR or LF. */
export class HttpMalformedError extends HttpError {
  static readonly code = 'ERR_HTTP_MALFORMED'
  constructor (message: string = 'Malformed HTTP message', options?: ErrorOptions) {
    super(message, HttpMalformedError.code, 400, options)
    this.name = 'HttpMalformedError'
  }
}

/**
 * A message whose body length two parsers could disagree on (request smuggling): both
 * Content-Length and Transfer-Encoding, several Content-Length fields, an unknown coding.
 */
export class HttpAmbiguousLengthError extends HttpError {
  static readonly code = 'ERR_HTTP_AMBIGUOUS_LENGTH'
  constructor (message: string = 'Ambiguous HTTP message length', options?: ErrorOptions) {
    super(message, HttpAmbiguousLengthError.code, 400, options)
    this.name = 'HttpAmbiguousLengthError'
  }
}

/** The head (start line + fields) is larger than allowed, or has too many fields. */
export class HttpHeadersTooLargeError extends HttpError {
  static readonly code = 'ERR_HTTP_HEADERS_TOO_LARGE'
  constructor (message: string = 'HTTP header section too large', options?: ErrorOptions) {
    super(message, HttpHeadersTooLargeError.code, 431, options)
    this.name = 'HttpHeadersTooLargeError'
  }
}

/** A body larger than the limit, or larger than its Content-Length declared. */
export class HttpBodyTooLargeError extends HttpError {
  static readonly code = 'ERR_HTTP_BODY_TOO_LARGE'
  constructor (message: string = 'HTTP body too large', options?: ErrorOptions) {
    super(message, HttpBodyTooLargeError.code, 413, options)
    this.name = 'HttpBodyTooLargeError'
  }
}

/** The stream ended inside a message (head, declared body or chunked body). */
export class HttpIncompleteMessageError extends HttpError {
  static readonly code = 'ERR_HTTP_INCOMPLETE'
  constructor (message: string = 'HTTP message ended early', options?: ErrorOptions) {
    super(message, HttpIncompleteMessageError.code, 400, options)
    this.name = 'HttpIncompleteMessageError'
  }
}

/** A transfer coding or HTTP version we do not implement. */
export class HttpNotImplementedError extends HttpError {
  static readonly code = 'ERR_HTTP_NOT_IMPLEMENTED'
  constructor (message: string = 'Not implemented', options?: ErrorOptions) {
    super(message, HttpNotImplementedError.code, 501, options)
    this.name = 'HttpNotImplementedError'
  }
}

/** A head or body did not arrive within its deadline (slow-loris). */
export class HttpTimeoutError extends HttpError {
  static readonly code = 'ERR_HTTP_TIMEOUT'
  constructor (message: string = 'HTTP message timed out', options?: ErrorOptions) {
    super(message, HttpTimeoutError.code, 408, options)
    this.name = 'HttpTimeoutError'
  }
}

/** Something the application asked us to send is not valid HTTP (e.g. CR/LF in a value). */
export class HttpInvalidFieldError extends HttpError {
  static readonly code = 'ERR_HTTP_INVALID_FIELD'
  constructor (message: string = 'Invalid HTTP field', options?: ErrorOptions) {
    super(message, HttpInvalidFieldError.code, 500, options)
    this.name = 'HttpInvalidFieldError'
  }
}
