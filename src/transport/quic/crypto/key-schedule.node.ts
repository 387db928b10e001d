/**
 * The TLS 1.3 key schedule (RFC 8446 7.1) as QUIC uses it (RFC 9001 5): HKDF-Extract,
 * HKDF-Expand-Label, Derive-Secret, and the chain early -> handshake -> master secret that
 * yields the traffic secrets of each direction. Both cipher suites we offer hash with SHA-256,
 * so the hash is fixed here (32-byte secrets).
 *
 * Node only (node:crypto hashes; HMAC in hmac.node.ts, which skips createHmac's per-call key
 * import: a handshake side runs a few dozen HMACs here).
 */
import { createHash } from 'node:crypto'
import { HmacSha256Key, hmacSha256 } from './hmac.node.ts'

export const HASH_LENGTH = 32
const HASH = 'sha256'
const LABEL_PREFIX = 'tls13 '
const ZEROS = new Uint8Array(HASH_LENGTH)

/** HKDF-Extract (RFC 5869 2.2): HMAC-Hash(salt, ikm). */
export function hkdfExtract (salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return hmacSha256(salt, ikm)
}

/** HKDF-Expand (RFC 5869 2.3) for at most 255 * 32 bytes. */
export function hkdfExpand (prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (length > 255 * HASH_LENGTH) throw new RangeError(`HKDF-Expand of ${length} bytes exceeds 255 blocks`)
  const key = new HmacSha256Key(prk)
  const out = new Uint8Array(length)
  let previous: Uint8Array = new Uint8Array(0)
  for (let offset = 0, counter = 1; offset < length; counter++) {
    previous = key.mac(previous, info, Uint8Array.of(counter))
    out.set(previous.subarray(0, Math.min(HASH_LENGTH, length - offset)), offset)
    offset += HASH_LENGTH
  }
  return out
}

/** "tls13 " + label, UTF-8, by label. */
const encodedLabels = new Map<string, Uint8Array>()

/**
 * HKDF-Expand-Label (RFC 8446 7.1): the info is `uint16 length || opaque label<7..255>
 * ("tls13 " + label) || opaque context<0..255>`.
 */
export function hkdfExpandLabel (secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  let fullLabel = encodedLabels.get(label)
  if (fullLabel === undefined) {
    fullLabel = new TextEncoder().encode(LABEL_PREFIX + label)
    // Labels are the constants of RFC 8446 and 9001 (a dozen): kept, as each handshake side
    // expands ~20 of them; an odd caller's label is encoded each time instead.
    if (encodedLabels.size < 64) encodedLabels.set(label, fullLabel)
  }
  if (fullLabel.length > 255 || context.length > 255) throw new RangeError('HKDF label or context longer than 255 bytes')
  const info = new Uint8Array(2 + 1 + fullLabel.length + 1 + context.length)
  info[0] = length >>> 8
  info[1] = length & 0xff
  info[2] = fullLabel.length
  info.set(fullLabel, 3)
  info[3 + fullLabel.length] = context.length
  info.set(context, 4 + fullLabel.length)
  return hkdfExpand(secret, info, length)
}

/** Derive-Secret (RFC 8446 7.1): Expand-Label with the transcript hash as context. */
export function deriveSecret (secret: Uint8Array, label: string, transcriptHash: Uint8Array): Uint8Array {
  return hkdfExpandLabel(secret, label, transcriptHash, HASH_LENGTH)
}

/** SHA-256 of the concatenated messages (a transcript hash of what was seen so far). */
export function sha256 (...parts: Uint8Array[]): Uint8Array {
  const hash = createHash(HASH)
  for (const part of parts) hash.update(part)
  return new Uint8Array(hash.digest())
}

const EMPTY_HASH = sha256()
/** Derive-Secret(early secret, "derived", ""): without a PSK the same for every handshake. */
let derivedFromEarlySecret: Uint8Array | undefined

/** The secrets of one handshake, derived step by step as the transcript grows. */
export interface HandshakeSecrets {
  clientHandshakeTrafficSecret: Uint8Array
  serverHandshakeTrafficSecret: Uint8Array
  /** Input to the master secret, kept until the server Finished is in the transcript. */
  handshakeSecret: Uint8Array
}

export interface ApplicationSecrets {
  clientApplicationTrafficSecret: Uint8Array
  serverApplicationTrafficSecret: Uint8Array
}

/**
 * Early secret (no PSK: IKM = zeros) -> handshake secret with the (EC)DHE shared secret ->
 * the two handshake traffic secrets over Hash(ClientHello..ServerHello).
 */
export function deriveHandshakeSecrets (sharedSecret: Uint8Array, helloHash: Uint8Array): HandshakeSecrets {
  derivedFromEarlySecret ??= deriveSecret(hkdfExtract(ZEROS, ZEROS), 'derived', EMPTY_HASH)
  const handshakeSecret = hkdfExtract(derivedFromEarlySecret, sharedSecret)
  return {
    handshakeSecret,
    clientHandshakeTrafficSecret: deriveSecret(handshakeSecret, 'c hs traffic', helloHash),
    serverHandshakeTrafficSecret: deriveSecret(handshakeSecret, 's hs traffic', helloHash)
  }
}

/** Master secret -> the two application traffic secrets over Hash(ClientHello..server Finished). */
export function deriveApplicationSecrets (handshakeSecret: Uint8Array, serverFinishedHash: Uint8Array): ApplicationSecrets {
  const masterSecret = hkdfExtract(deriveSecret(handshakeSecret, 'derived', EMPTY_HASH), ZEROS)
  return {
    clientApplicationTrafficSecret: deriveSecret(masterSecret, 'c ap traffic', serverFinishedHash),
    serverApplicationTrafficSecret: deriveSecret(masterSecret, 's ap traffic', serverFinishedHash)
  }
}

/** The Finished verify_data (RFC 8446 4.4.4): HMAC(finished_key, transcript hash). */
export function finishedVerifyData (baseTrafficSecret: Uint8Array, transcriptHash: Uint8Array): Uint8Array {
  const finishedKey = hkdfExpandLabel(baseTrafficSecret, 'finished', new Uint8Array(0), HASH_LENGTH)
  return hmacSha256(finishedKey, transcriptHash)
}

/** RFC 9001 6.1: the next generation's traffic secret for a key update. */
export function nextTrafficSecret (secret: Uint8Array): Uint8Array {
  return hkdfExpandLabel(secret, 'quic ku', new Uint8Array(0), HASH_LENGTH)
}
