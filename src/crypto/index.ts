/**
 * Keys for libp2p identities: generation, the protobuf encoding of the peer-ids spec, and the
 * hashing and randomness helpers other layers share. Ed25519 is the default key type and the
 * fast path (node:crypto in Node with cached key objects, @noble elsewhere).
 *
 * Private keys are never sent over the wire; their protobuf form is what key files store.
 * `sign`/`verify` are synchronous for Ed25519, secp256k1 and ECDSA everywhere and for RSA in
 * Node; RSA in browsers returns promises (WebCrypto), so callers that accept any key type
 * should `await` the result.
 */
import { backend } from '#crypto-backend'
import type { KeyType, PrivateKey, PublicKey } from '../interface/keys.ts'
import { InvalidKeyError, InvalidParametersError } from '../util/errors.ts'
import { decodeKeyProtobuf, encodeKeyProtobuf } from './key-protobuf.ts'
import { ed25519PrivateKeyFromRaw, ed25519PrivateKeyFromSeed, ed25519PublicKeyFromRaw, generateEd25519PrivateKey } from './ed25519.ts'
import { generateSecp256k1PrivateKey, secp256k1PrivateKeyFromRaw, secp256k1PublicKeyFromRaw } from './secp256k1.ts'
import { ecdsaPrivateKeyFromRaw, ecdsaPublicKeyFromRaw, generateEcdsaPrivateKey } from './ecdsa.ts'
import { generateRsaPrivateKey, rsaPrivateKeyFromRaw, rsaPublicKeyFromRaw } from './rsa.ts'

export type { KeyType, PrivateKey, PublicKey } from '../interface/keys.ts'
export { Ed25519PrivateKey, Ed25519PublicKey } from './ed25519.ts'
export { Secp256k1PrivateKey, Secp256k1PublicKey } from './secp256k1.ts'
export { EcdsaPrivateKey, EcdsaPublicKey, type EcdsaCurveName } from './ecdsa.ts'
export { RsaPrivateKey, RsaPublicKey, RSA_MAX_BITS, RSA_MIN_GENERATE_BITS, RSA_MIN_PARSE_BITS } from './rsa.ts'
export { KEY_TYPE_CODES, MAX_KEY_DATA_LENGTH } from './key-protobuf.ts'

/**
 * A new key pair. `bits` applies to RSA only (default 2048, allowed 2048..8192). ECDSA keys are
 * generated on P-256, the curve go-libp2p uses.
 */
export async function generateKeyPair (type: KeyType = 'Ed25519', bits?: number): Promise<PrivateKey> {
  switch (type) {
    case 'Ed25519': return generateEd25519PrivateKey()
    case 'secp256k1': return generateSecp256k1PrivateKey()
    case 'ECDSA': return generateEcdsaPrivateKey('P-256')
    case 'RSA': return await generateRsaPrivateKey(bits)
    default: throw new InvalidParametersError(`unsupported key type ${String(type)}`)
  }
}

/** A deterministic Ed25519 key pair from a 32-byte seed (tests, the perf server's zero seed). */
export function generateKeyPairFromSeed (type: 'Ed25519', seed: Uint8Array): PrivateKey {
  if (type !== 'Ed25519') throw new InvalidParametersError('only Ed25519 keys can be derived from a seed')
  return ed25519PrivateKeyFromSeed(seed)
}

/** A public key from the `Data` field of its protobuf (the key's `raw` form). */
export function publicKeyFromRaw (type: KeyType, raw: Uint8Array): PublicKey {
  switch (type) {
    case 'Ed25519': return ed25519PublicKeyFromRaw(raw)
    case 'secp256k1': return secp256k1PublicKeyFromRaw(raw)
    case 'ECDSA': return ecdsaPublicKeyFromRaw(raw)
    case 'RSA': return rsaPublicKeyFromRaw(raw)
    default: throw new InvalidKeyError(`unsupported key type ${String(type)}`)
  }
}

/** A private key from the `Data` field of its protobuf; checks it against any embedded public key. */
export function privateKeyFromRaw (type: KeyType, raw: Uint8Array): PrivateKey {
  switch (type) {
    case 'Ed25519': return ed25519PrivateKeyFromRaw(raw)
    case 'secp256k1': return secp256k1PrivateKeyFromRaw(raw)
    case 'ECDSA': return ecdsaPrivateKeyFromRaw(raw)
    case 'RSA': return rsaPrivateKeyFromRaw(raw)
    default: throw new InvalidKeyError(`unsupported key type ${String(type)}`)
  }
}

/** Decodes a PublicKey protobuf. Throws InvalidKeyError for anything malformed or unsupported. */
export function publicKeyFromProtobuf (bytes: Uint8Array): PublicKey {
  const { type, data } = decodeKeyProtobuf(bytes)
  return publicKeyFromRaw(type, data)
}

/** Decodes a PrivateKey protobuf (a key file). Throws InvalidKeyError for anything invalid. */
export function privateKeyFromProtobuf (bytes: Uint8Array): PrivateKey {
  const { type, data } = decodeKeyProtobuf(bytes)
  return privateKeyFromRaw(type, data)
}

export function publicKeyToProtobuf (key: PublicKey): Uint8Array {
  return encodeKeyProtobuf(key.type, key.raw)
}

export function privateKeyToProtobuf (key: PrivateKey): Uint8Array {
  return encodeKeyProtobuf(key.type, key.raw)
}

/** Cryptographically secure random bytes. */
export function randomBytes (length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) throw new InvalidParametersError('invalid random byte count')
  return backend.randomBytes(length)
}

/** SHA-256 digest (32 bytes). */
export function sha256 (data: Uint8Array): Uint8Array {
  return backend.sha256(data)
}
