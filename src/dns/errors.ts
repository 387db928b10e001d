/**
 * Errors of name resolution. Each has a literal `name` and a stable `code` (see util/errors.ts);
 * a DNS answer or a `_dnsaddr` chain that breaks a limit gets its own class, so a dial error
 * says which limit and where.
 */
import { Libp2pError } from '../util/errors.ts'

/** A name has no record of the wanted type, or the resolver failed to answer. */
export class DnsResolutionError extends Libp2pError {
  constructor (message: string, options?: ErrorOptions) {
    super(message, 'ERR_DNS_RESOLUTION', options)
    this.name = 'DnsResolutionError'
  }
}

/** A DNS message is malformed or breaks a decoder limit (size, record count, name length, pointers). */
export class InvalidDnsMessageError extends Libp2pError {
  constructor (message: string, options?: ErrorOptions) {
    super(message, 'ERR_INVALID_DNS_MESSAGE', options)
    this.name = 'InvalidDnsMessageError'
  }
}

/** An answer holds more records (or bytes) than the resolver accepts. */
export class DnsAnswerTooLargeError extends Libp2pError {
  constructor (message: string, options?: ErrorOptions) {
    super(message, 'ERR_DNS_ANSWER_TOO_LARGE', options)
    this.name = 'DnsAnswerTooLargeError'
  }
}

/** A `/dnsaddr` chain leads back to a name already being resolved. */
export class DnsaddrLoopError extends Libp2pError {
  constructor (message: string, options?: ErrorOptions) {
    super(message, 'ERR_DNSADDR_LOOP', options)
    this.name = 'DnsaddrLoopError'
  }
}

/** A `/dnsaddr` chain nests deeper than the limit, or yields more addresses than it. */
export class DnsaddrLimitError extends Libp2pError {
  constructor (message: string, options?: ErrorOptions) {
    super(message, 'ERR_DNSADDR_LIMIT', options)
    this.name = 'DnsaddrLimitError'
  }
}
