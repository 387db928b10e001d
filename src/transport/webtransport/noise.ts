/**
 * WebTransport authenticates a session with Noise on its first stream. A transport may not
 * import a security module (the layer list), so it takes the node's Noise from its components
 * (`connectionEncrypters`) and speaks to it through these structural types: per-call
 * extensions in, the remote's extensions out (security/noise fills both). Browser-safe.
 */
import type { ConnectionEncrypter, SecuredConnection, SecureOptions } from '../../interface/security.ts'
import { UnsupportedProtocolError } from '../../util/errors.ts'

export interface CerthashSecureOptions extends SecureOptions {
  /** Noise extensions of this handshake: the listener's certhashes (multihashes). */
  extensions?: { webtransportCerthashes?: Uint8Array[], streamMuxers?: string[] }
}

export interface CerthashSecuredConnection extends SecuredConnection {
  /** What the remote sent in its Noise extensions. */
  remoteExtensions?: { webtransportCerthashes?: Uint8Array[] }
}

/** The node's Noise; WebTransport has no session without it. */
export function noiseOf (encrypters: readonly ConnectionEncrypter[] | undefined): ConnectionEncrypter {
  const noise = encrypters?.find(e => e.protocol === '/noise')
  if (noise === undefined) throw new UnsupportedProtocolError('WebTransport needs Noise among the node\'s connectionEncrypters')
  return noise
}

export async function secureWithCerthashes (noise: ConnectionEncrypter, stream: Parameters<ConnectionEncrypter['secureInbound']>[0], initiator: boolean, options: CerthashSecureOptions): Promise<CerthashSecuredConnection> {
  return initiator ? await noise.secureOutbound(stream, options) : await noise.secureInbound(stream, options)
}
