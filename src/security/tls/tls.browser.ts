/**
 * libp2p TLS in browsers: none. Browsers cannot run TLS over an arbitrary byte stream (their
 * TLS lives inside fetch/WebSocket/WebTransport), so configuring `tls()` fails with a typed
 * error instead of failing on the first connection.
 */
import type { PrivateKey } from '../../interface/keys.ts'
import type { SecureOptions, SecuredConnection } from '../../interface/security.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { TlsUnsupportedError } from './errors.ts'
import type { TlsInit } from './types.ts'

export class TlsRuntime {
  constructor (_hostKey: PrivateKey, _init: TlsInit) {
    throw new TlsUnsupportedError('libp2p TLS (/tls/1.0.0) needs node:tls; in browsers use noise()')
  }

  async secure (_raw: ByteStream, _isServer: boolean, _options?: SecureOptions): Promise<SecuredConnection> {
    throw new TlsUnsupportedError()
  }
}
