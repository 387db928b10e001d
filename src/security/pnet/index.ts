/**
 * Private networks (pnet/Private-Networks-PSK-V1.md): only peers holding the same 256-bit
 * pre-shared key can talk. Below everything else (multistream-select, the security handshake),
 * each connection is encrypted with XSalsa20 under the key and a random nonce per direction.
 *
 * ```ts
 * import { preSharedKey, generatePreSharedKey } from 'ts-libp2p/pnet'
 * const psk = readFileSync('swarm.key')        // or generatePreSharedKey()
 * const node = await createLibp2p({ connectionProtector: preSharedKey({ psk }) })
 * ```
 *
 * With `LIBP2P_FORCE_PNET=1` in the environment, createLibp2p refuses a node without a key
 * (PrivateNetworkRequiredError). A peer with another key (or none) fails the connection as
 * soon as its first bytes arrive or it hangs up, with PrivateNetworkMismatchError. One that
 * waits in silence for bytes our header does not provide (it read a random length under its
 * own key) cannot be told from a slow peer: the dial's deadline ends that connection.
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { ConnectionProtector } from '../../interface/security.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { decodePreSharedKey } from './key.ts'
import { PnetConnection } from './pnet-connection.ts'

export { decodePreSharedKey, encodePreSharedKey, generatePreSharedKey, PSK_CODEC, PSK_LENGTH, type PskEncoding } from './key.ts'
export { InvalidPreSharedKeyError, PrivateNetworkMismatchError } from './errors.ts'
export { PrivateNetworkRequiredError } from '../../util/errors.ts'
export { PnetConnection, NONCE_LENGTH } from './pnet-connection.ts'

export interface PreSharedKeyInit {
  /** The key file's bytes (`/key/swarm/psk/1.0.0/` format). */
  psk: Uint8Array
}

export class PreSharedKeyProtector implements ConnectionProtector {
  readonly #key: Uint8Array

  constructor (init: PreSharedKeyInit) {
    this.#key = decodePreSharedKey(init.psk)
  }

  async protect (conn: ByteStream, options?: AbortOptions): Promise<ByteStream> {
    options?.signal?.throwIfAborted()
    return new PnetConnection(conn, this.#key)
  }
}

/** The private network connection protector factory (the key file is checked here, at once). */
export function preSharedKey (init: PreSharedKeyInit): (components?: unknown) => PreSharedKeyProtector {
  const protector = new PreSharedKeyProtector(init)
  return () => protector
}
