/**
 * Errors of port mapping (UPnP IGD and NAT-PMP), each with a literal `name` (minified bundles
 * keep it) and a stable `code`. Malformed or oversized replies from a gateway are the shared
 * InvalidMessageError / MessageTooLargeError; these name what the gateway said or did.
 */
import { Libp2pError } from '../util/errors.ts'

/** No UPnP IGD or NAT-PMP gateway answered in time on the local network. */
export class GatewayNotFoundError extends Libp2pError {
  static readonly code = 'ERR_GATEWAY_NOT_FOUND'
  constructor (message = 'No port-mapping gateway found on the local network', options?: ErrorOptions) {
    super(message, GatewayNotFoundError.code, options)
    this.name = 'GatewayNotFoundError'
  }
}

/**
 * A UPnP action failed with a SOAP fault: `upnpErrorCode` is the device's number (718
 * ConflictInMappingEntry, 725 OnlyPermanentLeasesSupported, 501 ActionFailed, ...).
 */
export class UPnPActionError extends Libp2pError {
  static readonly code = 'ERR_UPNP_ACTION'
  readonly upnpErrorCode: number
  constructor (message: string, upnpErrorCode: number, options?: ErrorOptions) {
    super(message, UPnPActionError.code, options)
    this.name = 'UPnPActionError'
    this.upnpErrorCode = upnpErrorCode
  }
}

/** A NAT-PMP reply carried a non-zero result code (RFC 6886 section 3.5). */
export class NatPmpResultError extends Libp2pError {
  static readonly code = 'ERR_NAT_PMP_RESULT'
  readonly resultCode: number
  constructor (message: string, resultCode: number, options?: ErrorOptions) {
    super(message, NatPmpResultError.code, options)
    this.name = 'NatPmpResultError'
    this.resultCode = resultCode
  }
}

/**
 * The gateway has no public external address (none at all, or a private / CGNAT one): we sit
 * behind a second NAT, so a mapping on this gateway would not make us reachable.
 */
export class DoubleNatError extends Libp2pError {
  static readonly code = 'ERR_DOUBLE_NAT'
  constructor (message = 'The gateway has no public external address (double NAT)', options?: ErrorOptions) {
    super(message, DoubleNatError.code, options)
    this.name = 'DoubleNatError'
  }
}

/** The gateway refused to talk to us as asked: an address outside the local network, a bad URL. */
export class UntrustedGatewayError extends Libp2pError {
  static readonly code = 'ERR_UNTRUSTED_GATEWAY'
  constructor (message = 'The gateway pointed outside the local network', options?: ErrorOptions) {
    super(message, UntrustedGatewayError.code, options)
    this.name = 'UntrustedGatewayError'
  }
}
