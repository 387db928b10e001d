/**
 * WebTransport authenticates a session with Noise on its first stream. A transport may not
 * import a security module (the layer list), so it takes the node's Noise from its components
 * (`connectionEncrypters`) and speaks to it through these structural types: per-call
 * extensions in, the remote's extensions out (security/noise fills both). Browser-safe.
 */
import type { ConnectionEncrypter, SecuredConnection, SecureOptions } from '../../interface/security.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { UnsupportedProtocolError } from '../../util/errors.ts'
import { Deadline } from '../../util/deadline.ts'

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

/** How long the peer may take to end its side of the handshake stream before we stop reading it (ms). */
export const HANDSHAKE_STREAM_END_TIMEOUT = 10_000

/**
 * Ends the session's first stream once Noise is done (`stream`: the secured connection Noise
 * returned, which is the only reader of the raw stream): our write side with a FIN, then the
 * remote's side read to its end (nothing is expected on it) and only then released.
 *
 * Not `close()`: that ends our read side at once, which a QUIC stream tells the peer with
 * STOP_SENDING, and a browser peer that is still closing its writer (js-libp2p's
 * @libp2p/webtransport awaits `writer.close()` after the handshake) has that close rejected
 * with "Received STOP_SENDING" and fails the whole dial. The read is bounded by the stream's
 * flow-control window and by `timeoutMs`, after which the stream is aborted. Never rejects.
 */
export async function endHandshakeStream (stream: ByteStream, timeoutMs: number = HANDSHAKE_STREAM_END_TIMEOUT): Promise<void> {
  const deadline = new Deadline(timeoutMs, undefined, 'the peer did not end the WebTransport handshake stream')
  try {
    void stream.closeWrite({ signal: deadline.signal }).catch(() => {})
    while (await stream.read({ signal: deadline.signal }) !== null) { /* nothing is expected after Noise: dropped */ }
  } catch (err) {
    stream.abort(err as Error)
  } finally {
    deadline.clear()
  }
}
