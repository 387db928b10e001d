/**
 * RFC 9001 5.8: the Retry Integrity Tag, an AES-128-GCM tag with a fixed, published key and
 * nonce over the Retry pseudo-packet (ODCID length || ODCID || the Retry packet without its
 * tag). It proves the Retry came from something that saw the client's Initial, nothing more.
 */
import { createCipheriv, createSecretKey, timingSafeEqual } from 'node:crypto'
import { UnsupportedQuicVersionError } from './errors.ts'
import { QUIC_VERSION_1 } from './initial-keys.node.ts'

export const RETRY_INTEGRITY_TAG_LENGTH = 16
const RETRY_KEY_V1 = createSecretKey(Buffer.from('be0c690b9f66575a1d766b54e368c84e', 'hex'))
const RETRY_NONCE_V1 = Buffer.from('461599d35d632bf2239825bb', 'hex')

/** The 16-byte tag to append to a Retry packet. */
export function retryIntegrityTag (version: number, originalDestinationConnectionId: Uint8Array, retryPacketWithoutTag: Uint8Array): Uint8Array {
  if (version !== QUIC_VERSION_1) throw new UnsupportedQuicVersionError(`no Retry key for QUIC version 0x${version.toString(16).padStart(8, '0')}`)
  if (originalDestinationConnectionId.length > 255) throw new RangeError('original destination connection id longer than 255 bytes')
  return tagOver(originalDestinationConnectionId, retryPacketWithoutTag)
}

function tagOver (odcid: Uint8Array, retry: Uint8Array): Uint8Array {
  const pseudo = new Uint8Array(1 + odcid.length + retry.length)
  pseudo[0] = odcid.length
  pseudo.set(odcid, 1)
  pseudo.set(retry, 1 + odcid.length)
  const cipher = createCipheriv('aes-128-gcm', RETRY_KEY_V1, RETRY_NONCE_V1, { authTagLength: RETRY_INTEGRITY_TAG_LENGTH })
  // GCM with empty plaintext: the tag authenticates the pseudo-packet given as associated data.
  cipher.setAAD(pseudo)
  cipher.final()
  return new Uint8Array(cipher.getAuthTag())
}

/** Whether a whole Retry packet (tag included) carries the right tag for the ODCID the client sent. */
export function verifyRetryIntegrity (version: number, originalDestinationConnectionId: Uint8Array, retryPacket: Uint8Array): boolean {
  if (retryPacket.length < RETRY_INTEGRITY_TAG_LENGTH) return false
  const split = retryPacket.length - RETRY_INTEGRITY_TAG_LENGTH
  const expected = retryIntegrityTag(version, originalDestinationConnectionId, retryPacket.subarray(0, split))
  return timingSafeEqual(expected, retryPacket.subarray(split))
}
