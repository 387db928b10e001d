import type { AbortOptions } from './common.ts'
import type { PublicKey } from './keys.ts'
import type { PeerId } from './peer-id.ts'
import type { ByteStream } from './stream.ts'

export interface SecureOptions extends AbortOptions {
  /** When known (outbound dials), the handshake fails with UnexpectedPeerError on mismatch. */
  remotePeer?: PeerId
  /** Muxer protocol ids to offer through early muxer negotiation, in preference order. */
  streamMuxers?: string[]
}

export interface SecuredConnection {
  conn: ByteStream
  remotePeer: PeerId
  remotePublicKey: PublicKey
  /** The muxer agreed inside the handshake, if any (skips the mss muxer round). */
  streamMuxer?: string
}

export interface ConnectionEncrypter {
  /** The multistream-select protocol id, e.g. '/noise'. */
  readonly protocol: string
  secureOutbound(conn: ByteStream, options?: SecureOptions): Promise<SecuredConnection>
  secureInbound(conn: ByteStream, options?: SecureOptions): Promise<SecuredConnection>
}

/**
 * Wraps a raw connection before anything else runs on it (private networks): the upgrader
 * calls `protect` first and runs multistream-select and the handshake over what it returns.
 */
export interface ConnectionProtector {
  protect(conn: ByteStream, options?: AbortOptions): Promise<ByteStream>
}
