/**
 * Errors of circuit relay v2, each with a literal `name` and a stable `code`. A refusal from
 * the other side keeps its wire status (`status`, and the status name in the message, e.g.
 * "NO_RESERVATION", which tools such as the @libp2p/interop suite match on).
 */
import { Libp2pError } from '../util/errors.ts'
import { relayStatusName } from './messages.ts'

/** The relay (or, for a stop stream, the target) answered with a status other than OK. */
export class RelayStatusError extends Libp2pError {
  static readonly code = 'ERR_RELAY_STATUS'
  /** The wire status (see RelayStatus); 0 when none was given. */
  readonly status: number

  constructor (message: string = 'The relay refused the request', options: ErrorOptions & { status?: number } = {}) {
    super(message, RelayStatusError.code, options)
    this.name = 'RelayStatusError'
    this.status = options.status ?? 0
  }

  /** The error for a wire status; the message names it (e.g. "relay answered NO_RESERVATION (204)"). */
  static of (status: number, detail?: string): RelayStatusError {
    const name = `${relayStatusName(status)} (${status})`
    return new RelayStatusError(detail === undefined ? `relay answered ${name}` : `${detail}: ${name}`, { status })
  }
}

/** A reservation voucher that is forged, misdirected, expired or malformed. */
export class InvalidVoucherError extends Libp2pError {
  static readonly code = 'ERR_INVALID_VOUCHER'
  constructor (message: string = 'Invalid reservation voucher', options?: ErrorOptions) {
    super(message, InvalidVoucherError.code, options)
    this.name = 'InvalidVoucherError'
  }
}

/** A reservation answer we cannot use (expiry in the past, no addresses we can parse, ...). */
export class InvalidReservationError extends Libp2pError {
  static readonly code = 'ERR_INVALID_RESERVATION'
  constructor (message: string = 'Invalid reservation', options?: ErrorOptions) {
    super(message, InvalidReservationError.code, options)
    this.name = 'InvalidReservationError'
  }
}

/** A relayed connection passed its data or duration limit; the relay reset both halves. */
export class RelayLimitError extends Libp2pError {
  static readonly code = 'ERR_RELAY_LIMIT'
  constructor (message: string = 'The relayed connection reached its limit', options?: ErrorOptions) {
    super(message, RelayLimitError.code, options)
    this.name = 'RelayLimitError'
  }
}
