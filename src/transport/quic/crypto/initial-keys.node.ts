/**
 * RFC 9001 5.2: Initial packets are protected with keys anyone can derive from the client's
 * first Destination Connection ID and a version-specific salt (they stop off-path tampering,
 * not eavesdropping). AES-128-GCM always.
 */
import { UnsupportedQuicVersionError } from './errors.ts'
import { HASH_LENGTH, hkdfExpandLabel, hkdfExtract } from './key-schedule.node.ts'
import { TrafficKeys } from './packet-protection.node.ts'
import type { PacketProtectorPair, QuicRole } from './types.ts'

export const QUIC_VERSION_1 = 0x00000001

/** The QUIC v1 initial salt (RFC 9001 5.2). */
const INITIAL_SALT_V1 = Uint8Array.from(Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex'))

/** The largest connection id QUIC v1 allows (RFC 9000 17.2). */
const MAX_CONNECTION_ID_LENGTH = 20

/** The client's and the server's Initial secrets for `destinationConnectionId`. */
export function initialSecrets (version: number, destinationConnectionId: Uint8Array): { client: Uint8Array, server: Uint8Array } {
  if (version !== QUIC_VERSION_1) throw new UnsupportedQuicVersionError(`no Initial keys for QUIC version 0x${version.toString(16).padStart(8, '0')}`)
  if (destinationConnectionId.length > MAX_CONNECTION_ID_LENGTH) throw new RangeError(`connection id of ${destinationConnectionId.length} bytes exceeds ${MAX_CONNECTION_ID_LENGTH}`)
  const initialSecret = hkdfExtract(INITIAL_SALT_V1, destinationConnectionId)
  return {
    client: hkdfExpandLabel(initialSecret, 'client in', new Uint8Array(0), HASH_LENGTH),
    server: hkdfExpandLabel(initialSecret, 'server in', new Uint8Array(0), HASH_LENGTH)
  }
}

/** The Initial protectors of `role`: it writes with its own secret and reads with the peer's. */
export function initialProtectors (version: number, destinationConnectionId: Uint8Array, role: QuicRole): PacketProtectorPair {
  const { client, server } = initialSecrets(version, destinationConnectionId)
  const clientKeys = new TrafficKeys('AES-128-GCM', client).protector
  const serverKeys = new TrafficKeys('AES-128-GCM', server).protector
  return role === 'client' ? { read: serverKeys, write: clientKeys } : { read: clientKeys, write: serverKeys }
}
