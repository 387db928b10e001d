/** Errors of AutoNAT v1 and v2, each with a literal `name` (minified bundles keep it) and a stable `code`. */
import { Libp2pError } from '../../util/errors.ts'

/**
 * The server answered, but not with a dial outcome: it rejected the request (rate limit,
 * relayed connection), refused to dial every address, failed internally, or sent a status
 * this implementation does not know (the spec says to discard those). `status` is the wire value.
 */
export class AutoNATResponseError extends Libp2pError {
  static readonly code = 'ERR_AUTONAT_RESPONSE'
  readonly status: number
  constructor (message = 'The AutoNAT server gave no dial outcome', status: number = 0, options?: ErrorOptions) {
    super(message, AutoNATResponseError.code, options)
    this.name = 'AutoNATResponseError'
    this.status = status
  }
}

/** The server asked for more dial data than we pay (or for an address we did not send). */
export class DialDataRefusedError extends Libp2pError {
  static readonly code = 'ERR_AUTONAT_DIAL_DATA_REFUSED'
  constructor (message = 'The AutoNAT server asked for too much dial data', options?: ErrorOptions) {
    super(message, DialDataRefusedError.code, options)
    this.name = 'DialDataRefusedError'
  }
}

/**
 * The server reported a successful dial-back, but no dial-back carried our nonce: a server
 * that lies or dialed someone else. The result is discarded (autonat-v2.md: MUST discard).
 */
export class NonceMismatchError extends Libp2pError {
  static readonly code = 'ERR_AUTONAT_NONCE_MISMATCH'
  constructor (message = 'No dial-back carried the request nonce', options?: ErrorOptions) {
    super(message, NonceMismatchError.code, options)
    this.name = 'NonceMismatchError'
  }
}

/** No connected peer offers the AutoNAT protocol (over a direct connection). */
export class NoAutoNATServersError extends Libp2pError {
  static readonly code = 'ERR_NO_AUTONAT_SERVERS'
  constructor (message = 'No connected peer serves AutoNAT', options?: ErrorOptions) {
    super(message, NoAutoNATServersError.code, options)
    this.name = 'NoAutoNATServersError'
  }
}
