/** Why a DCUtR upgrade did not produce a direct connection. */
import { Libp2pError } from '../../util/errors.ts'

/** Every attempt ran and none connected directly (the relayed connection stays). */
export class HolePunchFailedError extends Libp2pError {
  static readonly code = 'ERR_HOLE_PUNCH_FAILED'
  constructor (message = 'the hole punch failed', options?: ErrorOptions) {
    super(message, HolePunchFailedError.code, options)
    this.name = 'HolePunchFailedError'
  }
}

/** The other side broke the exchange: wrong message, no addresses, no answer in time. */
export class HolePunchProtocolError extends Libp2pError {
  static readonly code = 'ERR_HOLE_PUNCH_PROTOCOL'
  constructor (message = 'the hole punch exchange broke', options?: ErrorOptions) {
    super(message, HolePunchProtocolError.code, options)
    this.name = 'HolePunchProtocolError'
  }
}
