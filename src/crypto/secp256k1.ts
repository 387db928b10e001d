/**
 * secp256k1 keys (@noble/curves in every runtime). Public keys travel as the 33-byte compressed
 * point (uncompressed 65-byte input is accepted and normalised, as go does); private keys as the
 * 32-byte scalar. Signatures are DER-encoded ECDSA over SHA-256(message), low-S when we sign,
 * either S accepted when we verify (go's verifier does not insist on low-S). Public keys load
 * the curve code on their first verification (in a browser that first result is a promise).
 */
import { curves } from '#noble-curves'
import { curvesOnDemand } from '#noble-curves-on-demand'
import { backend } from '#crypto-backend'
import { withCurve } from './curves.ts'
import { compressedSecp256k1Point } from './curve-points.ts'
import type { PrivateKey, PublicKey } from '../interface/keys.ts'
import { equalBytes } from '../util/bytes.ts'
import { InvalidKeyError } from '../util/errors.ts'
import { encodeKeyProtobuf } from './key-protobuf.ts'

export class Secp256k1PublicKey implements PublicKey {
  readonly type = 'secp256k1' as const
  /** The 33-byte compressed point. */
  readonly raw: Uint8Array

  constructor (compressed: Uint8Array) {
    this.raw = compressed
  }

  verify (data: Uint8Array, signature: Uint8Array): boolean | Promise<boolean> {
    return withCurve(curvesOnDemand.secp256k1(), curve => {
      try {
        return curve.verify(signature, backend.sha256(data), this.raw, { prehash: false, format: 'der', lowS: false })
      } catch {
        return false
      }
    })
  }

  toProtobuf (): Uint8Array {
    return encodeKeyProtobuf(this.type, this.raw)
  }

  equals (other: PublicKey): boolean {
    return other != null && other.type === this.type && equalBytes(this.raw, other.raw)
  }
}

export class Secp256k1PrivateKey implements PrivateKey {
  readonly type = 'secp256k1' as const
  readonly raw: Uint8Array
  readonly publicKey: Secp256k1PublicKey

  constructor (scalar: Uint8Array, publicKey: Secp256k1PublicKey) {
    this.raw = scalar
    this.publicKey = publicKey
  }

  sign (data: Uint8Array): Uint8Array {
    return curves.secp256k1().sign(backend.sha256(data), this.raw, { prehash: false, format: 'der', lowS: true })
  }

  toProtobuf (): Uint8Array {
    return encodeKeyProtobuf(this.type, this.raw)
  }

  equals (other: PrivateKey): boolean {
    return other != null && other.type === this.type && equalBytes(this.raw, other.raw)
  }
}

export function secp256k1PublicKeyFromRaw (raw: Uint8Array): Secp256k1PublicKey {
  if (raw.length !== 33 && raw.length !== 65) throw new InvalidKeyError(`secp256k1 public key must be 33 or 65 bytes, got ${raw.length}`)
  // @noble's check where the curve is at hand (Node, or a page that has loaded it): about twice
  // as fast as curve-points.ts's plain square root, which spares a page that never verifies
  // such a key the curve's download
  const curve = curvesOnDemand.secp256k1Now()
  if (curve !== undefined) {
    try {
      return new Secp256k1PublicKey(curve.Point.fromBytes(raw).toBytes(true))
    } catch (err) {
      throw new InvalidKeyError('secp256k1 public key is not a point on the curve', { cause: err })
    }
  }
  const compressed = compressedSecp256k1Point(raw)
  if (compressed === undefined) throw new InvalidKeyError('secp256k1 public key is not a point on the curve')
  return new Secp256k1PublicKey(compressed)
}

export function secp256k1PrivateKeyFromRaw (raw: Uint8Array): Secp256k1PrivateKey {
  if (raw.length !== 32) throw new InvalidKeyError(`secp256k1 private key must be 32 bytes, got ${raw.length}`)
  const scalar = raw.slice()
  let publicKey: Uint8Array
  try {
    publicKey = curves.secp256k1().getPublicKey(scalar, true)
  } catch (err) {
    throw new InvalidKeyError('secp256k1 private key is out of range', { cause: err })
  }
  return new Secp256k1PrivateKey(scalar, new Secp256k1PublicKey(publicKey))
}

export function generateSecp256k1PrivateKey (): Secp256k1PrivateKey {
  // Rejection sampling keeps the scalar uniform in [1, n); a retry is astronomically rare.
  for (;;) {
    try {
      return secp256k1PrivateKeyFromRaw(backend.randomBytes(32))
    } catch {}
  }
}
