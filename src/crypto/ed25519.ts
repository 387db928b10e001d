/**
 * Ed25519 keys, the libp2p default. The private key's `raw` form is the 64-byte `seed || public`
 * concatenation of the peer-ids spec; the legacy 96-byte `seed || public || public` form is
 * accepted on input. Signing and verifying go through the runtime backend, which caches the
 * imported key material per key object.
 */
import { backend } from '#crypto-backend'
import type { PrivateKey, PublicKey } from '../interface/keys.ts'
import { equalBytes } from '../util/bytes.ts'
import { InvalidKeyError, InvalidParametersError } from '../util/errors.ts'
import { encodeKeyProtobuf } from './key-protobuf.ts'

export const ED25519_PUBLIC_KEY_LENGTH = 32
export const ED25519_SEED_LENGTH = 32
export const ED25519_SIGNATURE_LENGTH = 64

export class Ed25519PublicKey implements PublicKey {
  readonly type = 'Ed25519' as const
  readonly raw: Uint8Array
  #verify: ((data: Uint8Array, signature: Uint8Array) => boolean) | undefined
  #protobuf: Uint8Array | undefined

  /** `raw` must be the 32-byte public key; it is kept, not copied. */
  constructor (raw: Uint8Array) {
    if (raw.length !== ED25519_PUBLIC_KEY_LENGTH) throw new InvalidKeyError(`Ed25519 public key must be 32 bytes, got ${raw.length}`)
    this.raw = raw
  }

  verify (data: Uint8Array, signature: Uint8Array): boolean {
    this.#verify ??= backend.ed25519Verifier(this.raw)
    return this.#verify(data, signature)
  }

  /** Cached: treat the returned bytes as read-only. */
  toProtobuf (): Uint8Array {
    this.#protobuf ??= encodeKeyProtobuf(this.type, this.raw)
    return this.#protobuf
  }

  equals (other: PublicKey): boolean {
    return other != null && other.type === this.type && equalBytes(this.raw, other.raw)
  }
}

export class Ed25519PrivateKey implements PrivateKey {
  readonly type = 'Ed25519' as const
  readonly publicKey: Ed25519PublicKey
  readonly #seed: Uint8Array
  #sign: ((data: Uint8Array) => Uint8Array) | undefined
  #raw: Uint8Array | undefined

  /** Trusts that `publicKey` belongs to `seed`; use ed25519PrivateKeyFromRaw for outside input. */
  constructor (seed: Uint8Array, publicKey: Ed25519PublicKey) {
    this.#seed = seed
    this.publicKey = publicKey
  }

  get raw (): Uint8Array {
    if (this.#raw === undefined) {
      const raw = new Uint8Array(64)
      raw.set(this.#seed)
      raw.set(this.publicKey.raw, 32)
      this.#raw = raw
    }
    return this.#raw
  }

  sign (data: Uint8Array): Uint8Array {
    this.#sign ??= backend.ed25519Signer(this.#seed, this.publicKey.raw)
    return this.#sign(data)
  }

  toProtobuf (): Uint8Array {
    return encodeKeyProtobuf(this.type, this.raw)
  }

  equals (other: PrivateKey): boolean {
    return other != null && other.type === this.type && equalBytes(this.raw, other.raw)
  }
}

/** A private key from a 32-byte seed (deterministic: the same seed gives the same peer id). */
export function ed25519PrivateKeyFromSeed (seed: Uint8Array): Ed25519PrivateKey {
  if (!(seed instanceof Uint8Array) || seed.length !== ED25519_SEED_LENGTH) {
    throw new InvalidParametersError('an Ed25519 seed must be 32 bytes')
  }
  const ownSeed = seed.slice()
  return new Ed25519PrivateKey(ownSeed, new Ed25519PublicKey(backend.ed25519PublicKeyFromSeed(ownSeed)))
}

export function generateEd25519PrivateKey (): Ed25519PrivateKey {
  return ed25519PrivateKeyFromSeed(backend.randomBytes(ED25519_SEED_LENGTH))
}

/**
 * Parses the `Data` of an Ed25519 PrivateKey protobuf: 64 bytes `seed || public`, or the legacy
 * 96 bytes `seed || public || public`. The embedded public key must match the seed, otherwise
 * the key would sign as one identity and advertise another.
 */
export function ed25519PrivateKeyFromRaw (raw: Uint8Array): Ed25519PrivateKey {
  if (raw.length !== 64 && raw.length !== 96) throw new InvalidKeyError(`Ed25519 private key must be 64 or 96 bytes, got ${raw.length}`)
  const embedded = raw.subarray(32, 64)
  if (raw.length === 96 && !equalBytes(embedded, raw.subarray(64, 96))) {
    throw new InvalidKeyError('legacy 96-byte Ed25519 private key holds two different public keys')
  }
  const key = ed25519PrivateKeyFromSeed(raw.subarray(0, 32))
  if (!equalBytes(key.publicKey.raw, embedded)) throw new InvalidKeyError('Ed25519 private key does not match its public key')
  return key
}

export function ed25519PublicKeyFromRaw (raw: Uint8Array): Ed25519PublicKey {
  return new Ed25519PublicKey(raw.slice())
}
