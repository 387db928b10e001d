/**
 * libp2p TLS (`/tls/1.0.0`, specs tls/tls.md): TLS 1.3 with a self-signed certificate that
 * carries the host key, so peers of any key type authenticate each other. Node only (it runs
 * on `node:tls`); in browsers `tls()` throws TlsUnsupportedError.
 *
 * ```ts
 * import { tls } from 'ts-libp2p/tls'
 * const node = await createLibp2p({ connectionEncrypters: [noise(), tls()] })
 * ```
 *
 * Each encrypter makes one ECDSA P-256 certificate on first use (peer/tls-certificate.ts). The muxers
 * the upgrader passes in `streamMuxers` are offered through ALPN, so a TLS connection agrees
 * on its muxer inside the handshake (`SecuredConnection.streamMuxer`); when only "libp2p" is
 * common, the upgrader negotiates one with multistream-select as usual.
 */
import { TlsRuntime } from '#tls-runtime'
import type { PrivateKey } from '../../interface/keys.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import type { ConnectionEncrypter, SecureOptions, SecuredConnection } from '../../interface/security.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { TLS_PROTOCOL, type TlsInit } from './types.ts'

export { TLS_PROTOCOL, TLS_ALPN_LIBP2P, type TlsInit } from './types.ts'
export { InvalidCertificateError, TlsUnsupportedError } from './errors.ts'
export { generateCertificate, verifyCertificate, LIBP2P_EXTENSION_OID, type Libp2pCertificate, type VerifiedCertificate } from '../../peer/tls-certificate.ts'

export interface TlsComponents {
  privateKey: PrivateKey
  peerId?: PeerId
}

export class Tls implements ConnectionEncrypter {
  readonly protocol = TLS_PROTOCOL
  readonly #runtime: TlsRuntime

  constructor (components: TlsComponents, init: TlsInit = {}) {
    this.#runtime = new TlsRuntime(components.privateKey, init)
  }

  async secureOutbound (conn: ByteStream, options?: SecureOptions): Promise<SecuredConnection> {
    return await this.#runtime.secure(conn, false, options)
  }

  async secureInbound (conn: ByteStream, options?: SecureOptions): Promise<SecuredConnection> {
    return await this.#runtime.secure(conn, true, options)
  }
}

/** The `/tls/1.0.0` connection encrypter factory. */
export function tls (init: TlsInit = {}): (components: TlsComponents) => Tls {
  return (components) => new Tls(components, init)
}
