/**
 * QUIC packet protection (RFC 9001 5.3) and header protection (5.4) over node:crypto:
 * AES-128-GCM with AES-128-ECB header protection, ChaCha20-Poly1305 with ChaCha20 header
 * protection. A `TrafficKeys` holds one direction's traffic secret and makes the protector of
 * that secret and of the next key-update generation (6.1), which keeps the header protection key.
 *
 * Hot path: the AEAD key and the header-protection key are KeyObjects made once, the nonce is one
 * reused buffer (node:crypto copies the IV), and the AES header-protection cipher is a single
 * long-lived ECB context whose `update` encrypts each 16-byte sample on its own (ECB has no
 * chaining; with padding off every full block comes out at once). node:crypto has no reusable
 * AEAD context, so each packet still makes one cipher object: that is the floor here.
 */
import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto'
import type { Cipheriv, KeyObject } from 'node:crypto'
import { PacketDecryptionError } from './errors.ts'
import { HASH_LENGTH, hkdfExpandLabel, nextTrafficSecret } from './key-schedule.node.ts'
import type { PacketProtector, QuicAeadName } from './types.ts'

const TAG_LENGTH = 16
const SAMPLE_LENGTH = 16
const NONCE_LENGTH = 12
const MASK_LENGTH = 5
const EMPTY = new Uint8Array(0)
const FIVE_ZEROS = new Uint8Array(MASK_LENGTH)
const TWO_TO_32 = 2 ** 32

interface AeadParameters {
  cipher: 'aes-128-gcm' | 'chacha20-poly1305'
  keyLength: number
  confidentialityLimit: number
  integrityLimit: number
}

const AEADS: Record<QuicAeadName, AeadParameters> = {
  'AES-128-GCM': { cipher: 'aes-128-gcm', keyLength: 16, confidentialityLimit: 2 ** 23, integrityLimit: 2 ** 52 },
  'ChaCha20-Poly1305': { cipher: 'chacha20-poly1305', keyLength: 32, confidentialityLimit: 2 ** 62, integrityLimit: 2 ** 36 }
}

/** Header protection for one key: the 5-byte mask of a 16-byte ciphertext sample. */
type HeaderProtection = (sample: Uint8Array) => Uint8Array

function aesHeaderProtection (hpKey: Uint8Array): HeaderProtection {
  // A KeyObject first (createSecretKey takes bytes without node:crypto's thrown brand checks).
  const ecb: Cipheriv = createCipheriv('aes-128-ecb', createSecretKey(hpKey), null).setAutoPadding(false)
  return (sample) => {
    if (sample.length !== SAMPLE_LENGTH) throw new RangeError(`header protection sample must be ${SAMPLE_LENGTH} bytes`)
    return ecb.update(sample).subarray(0, MASK_LENGTH)
  }
}

function chachaHeaderProtection (hpKey: Uint8Array): HeaderProtection {
  const key = createSecretKey(hpKey)
  // RFC 9001 5.4.4: counter = sample[0..4] little-endian, nonce = sample[4..16]; node's chacha20
  // IV is exactly that 16-byte layout, so the sample is the IV.
  return (sample) => {
    if (sample.length !== SAMPLE_LENGTH) throw new RangeError(`header protection sample must be ${SAMPLE_LENGTH} bytes`)
    return createCipheriv('chacha20', key, sample).update(FIVE_ZEROS)
  }
}

class NodePacketProtector implements PacketProtector {
  readonly aead: QuicAeadName
  readonly tagLength = TAG_LENGTH
  readonly sampleLength = SAMPLE_LENGTH
  readonly confidentialityLimit: number
  readonly integrityLimit: number
  readonly headerProtectionMask: HeaderProtection
  /** Both AEADs have the same node:crypto API (setAAD, getAuthTag); the types name GCM's overload. */
  private readonly cipher: AeadParameters['cipher']
  private readonly key: KeyObject
  private readonly iv: Uint8Array
  private readonly nonce = Buffer.alloc(NONCE_LENGTH)

  constructor (aead: QuicAeadName, key: Uint8Array, iv: Uint8Array, headerProtection: HeaderProtection) {
    const parameters = AEADS[aead]
    this.aead = aead
    this.cipher = parameters.cipher
    this.confidentialityLimit = parameters.confidentialityLimit
    this.integrityLimit = parameters.integrityLimit
    this.key = createSecretKey(key)
    this.iv = iv
    this.headerProtectionMask = headerProtection
  }

  /** RFC 9001 5.3: the 62-bit packet number, left-padded to the IV length, XORed with the IV. */
  private nonceFor (packetNumber: number): Buffer {
    const nonce = this.nonce
    nonce.set(this.iv)
    const high = Math.floor(packetNumber / TWO_TO_32)
    const low = packetNumber >>> 0
    nonce[4] ^= high >>> 24; nonce[5] ^= high >>> 16; nonce[6] ^= high >>> 8; nonce[7] ^= high
    nonce[8] ^= low >>> 24; nonce[9] ^= low >>> 16; nonce[10] ^= low >>> 8; nonce[11] ^= low
    return nonce
  }

  seal (packetNumber: number, header: Uint8Array, payload: Uint8Array): Uint8Array {
    const cipher = createCipheriv(this.cipher as 'aes-128-gcm', this.key, this.nonceFor(packetNumber), { authTagLength: TAG_LENGTH })
    cipher.setAAD(header)
    const out = Buffer.allocUnsafe(payload.length + TAG_LENGTH)
    const body = cipher.update(payload)
    out.set(body, 0)
    const tail = cipher.final() // empty for both AEADs (stream ciphers), kept for correctness
    if (tail.length > 0) out.set(tail, body.length)
    out.set(cipher.getAuthTag(), payload.length)
    return out
  }

  open (packetNumber: number, header: Uint8Array, ciphertextWithTag: Uint8Array): Uint8Array {
    if (ciphertextWithTag.length < TAG_LENGTH) throw new PacketDecryptionError(`protected payload of ${ciphertextWithTag.length} bytes is shorter than the tag`)
    const end = ciphertextWithTag.length - TAG_LENGTH
    const decipher = createDecipheriv(this.cipher as 'aes-128-gcm', this.key, this.nonceFor(packetNumber), { authTagLength: TAG_LENGTH })
    decipher.setAAD(header)
    decipher.setAuthTag(ciphertextWithTag.subarray(end))
    const body = decipher.update(ciphertextWithTag.subarray(0, end))
    try {
      decipher.final()
    } catch (err) {
      throw new PacketDecryptionError('QUIC packet failed authentication', { cause: err })
    }
    return body
  }
}

/**
 * One direction's traffic secret and what it yields: the packet protector (RFC 9001 5.1 labels
 * "quic key", "quic iv", "quic hp") and, for 1-RTT, the next generation after a key update.
 */
export class TrafficKeys {
  readonly aead: QuicAeadName
  readonly secret: Uint8Array
  readonly protector: PacketProtector
  private readonly headerProtection: HeaderProtection

  constructor (aead: QuicAeadName, secret: Uint8Array, headerProtection?: HeaderProtection) {
    if (secret.length !== HASH_LENGTH) throw new RangeError(`traffic secret must be ${HASH_LENGTH} bytes`)
    const { keyLength } = AEADS[aead]
    this.aead = aead
    this.secret = secret
    if (headerProtection === undefined) {
      const hpKey = hkdfExpandLabel(secret, 'quic hp', EMPTY, keyLength)
      headerProtection = aead === 'AES-128-GCM' ? aesHeaderProtection(hpKey) : chachaHeaderProtection(hpKey)
    }
    this.headerProtection = headerProtection
    const key = hkdfExpandLabel(secret, 'quic key', EMPTY, keyLength)
    const iv = hkdfExpandLabel(secret, 'quic iv', EMPTY, NONCE_LENGTH)
    this.protector = new NodePacketProtector(aead, key, iv, headerProtection)
  }

  /** RFC 9001 6.1: the next key phase; the header protection key is not updated. */
  next (): TrafficKeys {
    return new TrafficKeys(this.aead, nextTrafficSecret(this.secret), this.headerProtection)
  }
}

/** The packet protector of a traffic secret (a shorthand for `new TrafficKeys(...).protector`). */
export function packetProtectorFromSecret (aead: QuicAeadName, secret: Uint8Array): PacketProtector {
  return new TrafficKeys(aead, secret).protector
}
