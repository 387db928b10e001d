/** Errors of private networks, each with a literal `name` (minified bundles keep it) and a stable `code`. */
import { Libp2pError } from '../../util/errors.ts'

/** The pre-shared key (file) is malformed: not the V1 format, an unknown encoding, not 32 bytes. */
export class InvalidPreSharedKeyError extends Libp2pError {
  static readonly code = 'ERR_INVALID_PSK'
  constructor (message = 'Invalid pre-shared key', options?: ErrorOptions) {
    super(message, InvalidPreSharedKeyError.code, options)
    this.name = 'InvalidPreSharedKeyError'
  }
}

/**
 * The remote is not in our private network: what it sent does not decrypt to the
 * multistream-select header every libp2p connection starts with (another key, or no pnet).
 */
export class PrivateNetworkMismatchError extends Libp2pError {
  static readonly code = 'ERR_PNET_MISMATCH'
  constructor (message = 'The remote peer is not in this private network (another pre-shared key, or none)', options?: ErrorOptions) {
    super(message, PrivateNetworkMismatchError.code, options)
    this.name = 'PrivateNetworkMismatchError'
  }
}
