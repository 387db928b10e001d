/** Errors of libp2p TLS, each with a literal `name` (minified bundles keep it) and a stable `code`. */
import { Libp2pError } from '../../util/errors.ts'

/**
 * The remote's certificate breaks the libp2p TLS rules: malformed DER, more or fewer than one
 * certificate, outside its validity dates, an unknown critical extension, a bad self-signature,
 * a missing libp2p extension or a SignedKey signature that does not verify.
 */
export class InvalidCertificateError extends Libp2pError {
  static readonly code = 'ERR_INVALID_CERTIFICATE'
  constructor (message = 'Invalid libp2p TLS certificate', options?: ErrorOptions) {
    super(message, InvalidCertificateError.code, options)
    this.name = 'InvalidCertificateError'
  }
}

/** libp2p TLS needs `node:tls`; this runtime (a browser) has no TLS over arbitrary streams. */
export class TlsUnsupportedError extends Libp2pError {
  static readonly code = 'ERR_TLS_UNSUPPORTED'
  constructor (message = 'libp2p TLS is only available in Node.js', options?: ErrorOptions) {
    super(message, TlsUnsupportedError.code, options)
    this.name = 'TlsUnsupportedError'
  }
}
