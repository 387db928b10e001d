/** Errors of libp2p TLS, each with a literal `name` (minified bundles keep it) and a stable `code`. */
import { Libp2pError } from '../../util/errors.ts'

/** Defined in util/ beside the certificate code QUIC shares (peer/tls-certificate.ts); re-exported here. */
export { InvalidCertificateError } from '../../util/errors.ts'

/** libp2p TLS needs `node:tls`; this runtime (a browser) has no TLS over arbitrary streams. */
export class TlsUnsupportedError extends Libp2pError {
  static readonly code = 'ERR_TLS_UNSUPPORTED'
  constructor (message = 'libp2p TLS is only available in Node.js', options?: ErrorOptions) {
    super(message, TlsUnsupportedError.code, options)
    this.name = 'TlsUnsupportedError'
  }
}
