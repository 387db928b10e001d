/**
 * RSA keys: public key as DER SPKI (PKIX), private key as DER PKCS#1, signatures PKCS#1 v1.5
 * over SHA-256. Sizes are bounded before any arithmetic: generation needs 2048..8192 bits,
 * parsing accepts 1024..8192 bits (larger keys make every verification expensive, which a
 * remote peer could exploit). Signing and verifying go through the runtime backend (OpenSSL in
 * Node, WebCrypto elsewhere, where they return promises).
 */
import { backend } from '#crypto-backend'
import type { Signer, Verifier } from './backend.ts'
import type { PrivateKey, PublicKey } from '../interface/keys.ts'
import { equalBytes } from '../util/bytes.ts'
import { InvalidKeyError, InvalidParametersError } from '../util/errors.ts'
import { encodeKeyProtobuf } from './key-protobuf.ts'
import { DerReader, TAG_NULL, TAG_OID, TAG_SEQUENCE, bitLength, derBitString, derEncode, derUnsignedInteger } from './der.ts'

export const RSA_MIN_GENERATE_BITS = 2048
export const RSA_MIN_PARSE_BITS = 1024
export const RSA_MAX_BITS = 8192

const RSA_ENCRYPTION_OID = Uint8Array.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01])

export class RsaPublicKey implements PublicKey {
  readonly type = 'RSA' as const
  /** DER SPKI. */
  readonly raw: Uint8Array
  readonly bits: number
  #verify: Verifier | undefined

  constructor (spki: Uint8Array, bits: number) {
    this.raw = spki
    this.bits = bits
  }

  verify (data: Uint8Array, signature: Uint8Array): boolean | Promise<boolean> {
    this.#verify ??= backend.rsaVerifier(this.raw)
    return this.#verify(data, signature)
  }

  toProtobuf (): Uint8Array {
    return encodeKeyProtobuf(this.type, this.raw)
  }

  equals (other: PublicKey): boolean {
    return other != null && other.type === this.type && equalBytes(this.raw, other.raw)
  }
}

export class RsaPrivateKey implements PrivateKey {
  readonly type = 'RSA' as const
  /** DER PKCS#1. */
  readonly raw: Uint8Array
  readonly publicKey: RsaPublicKey
  #sign: Signer | undefined

  constructor (pkcs1: Uint8Array, publicKey: RsaPublicKey) {
    this.raw = pkcs1
    this.publicKey = publicKey
  }

  sign (data: Uint8Array): Uint8Array | Promise<Uint8Array> {
    this.#sign ??= backend.rsaSigner(this.raw)
    return this.#sign(data)
  }

  toProtobuf (): Uint8Array {
    return encodeKeyProtobuf(this.type, this.raw)
  }

  equals (other: PrivateKey): boolean {
    return other != null && other.type === this.type && equalBytes(this.raw, other.raw)
  }
}

function checkModulus (modulus: Uint8Array): number {
  const bits = bitLength(modulus)
  if (bits > RSA_MAX_BITS) throw new InvalidKeyError(`RSA key of ${bits} bits exceeds ${RSA_MAX_BITS}`)
  if (bits < RSA_MIN_PARSE_BITS) throw new InvalidKeyError(`RSA key of ${bits} bits is below ${RSA_MIN_PARSE_BITS}`)
  return bits
}

function checkExponent (exponent: Uint8Array): void {
  // OpenSSL and WebCrypto refuse even or tiny exponents; so do we, before they see the key.
  if (exponent.length > 8 || (exponent[exponent.length - 1] & 1) === 0 || (exponent.length === 1 && exponent[0] < 3)) {
    throw new InvalidKeyError('unsupported RSA public exponent')
  }
}

function encodeSpki (modulus: Uint8Array, exponent: Uint8Array): Uint8Array {
  return derEncode(TAG_SEQUENCE,
    derEncode(TAG_SEQUENCE, derEncode(TAG_OID, RSA_ENCRYPTION_OID), Uint8Array.of(TAG_NULL, 0)),
    derBitString(derEncode(TAG_SEQUENCE, derUnsignedInteger(modulus), derUnsignedInteger(exponent))))
}

/** Parses DER SPKI (keeps the given bytes: strict DER has exactly one encoding). */
export function rsaPublicKeyFromRaw (spki: Uint8Array): RsaPublicKey {
  const outer = new DerReader(spki)
  const body = new DerReader(outer.read(TAG_SEQUENCE))
  outer.end()
  const algorithm = new DerReader(body.read(TAG_SEQUENCE))
  if (!equalBytes(algorithm.read(TAG_OID), RSA_ENCRYPTION_OID)) throw new InvalidKeyError('SPKI is not an RSA public key')
  if (!algorithm.done) {
    const params = algorithm.read(TAG_NULL)
    if (params.length !== 0) throw new InvalidKeyError('invalid RSA algorithm parameters')
  }
  algorithm.end()
  const keyOuter = new DerReader(body.readBitString())
  body.end()
  const key = new DerReader(keyOuter.read(TAG_SEQUENCE))
  keyOuter.end()
  const modulus = key.readUnsignedInteger()
  const exponent = key.readUnsignedInteger()
  key.end()
  const bits = checkModulus(modulus)
  checkExponent(exponent)
  return new RsaPublicKey(spki.slice(), bits)
}

/** Parses DER PKCS#1 (two-prime, version 0) and derives its SPKI public key. */
export function rsaPrivateKeyFromRaw (pkcs1: Uint8Array): RsaPrivateKey {
  const outer = new DerReader(pkcs1)
  const body = new DerReader(outer.read(TAG_SEQUENCE))
  outer.end()
  const version = body.readUnsignedInteger()
  if (version.length !== 1 || version[0] !== 0) throw new InvalidKeyError('unsupported PKCS#1 version (multi-prime keys are not supported)')
  const modulus = body.readUnsignedInteger()
  const exponent = body.readUnsignedInteger()
  // d, p, q, dp, dq, qinv: read for structure; the backend does the arithmetic.
  for (let i = 0; i < 6; i++) body.readUnsignedInteger()
  body.end()
  const bits = checkModulus(modulus)
  checkExponent(exponent)
  return new RsaPrivateKey(pkcs1.slice(), new RsaPublicKey(encodeSpki(modulus, exponent), bits))
}

export async function generateRsaPrivateKey (bits: number = RSA_MIN_GENERATE_BITS): Promise<RsaPrivateKey> {
  if (!Number.isInteger(bits) || bits < RSA_MIN_GENERATE_BITS || bits > RSA_MAX_BITS) {
    throw new InvalidParametersError(`RSA keys must have ${RSA_MIN_GENERATE_BITS} to ${RSA_MAX_BITS} bits`)
  }
  return rsaPrivateKeyFromRaw(await backend.rsaGenerate(bits))
}
