/**
 * ECDSA keys on the NIST curves P-256 (what go generates), P-384 and P-521, via @noble/curves.
 * Public keys travel as DER SPKI with an uncompressed point, private keys as DER SEC1 with the
 * curve OID and the public key (go's x509.MarshalECPrivateKey layout). Signatures are DER ECDSA
 * over SHA-256(message) for every curve, as go-libp2p and js-libp2p do. Public keys are checked
 * without the curve code and load it on their first verification (see curves.ts).
 */
import { backend } from '#crypto-backend'
import { curves } from '#noble-curves'
import { curvesOnDemand } from '#noble-curves-on-demand'
import { withCurve, type CurveOrLoading, type NistCurve } from './curves.ts'
import { NIST_CURVES, isUncompressedPointOnCurve } from './curve-points.ts'
import type { PrivateKey, PublicKey } from '../interface/keys.ts'
import { equalBytes } from '../util/bytes.ts'
import { InvalidKeyError, InvalidParametersError } from '../util/errors.ts'
import { encodeKeyProtobuf } from './key-protobuf.ts'
import { DerReader, TAG_CONTEXT_0, TAG_CONTEXT_1, TAG_INTEGER, TAG_OCTET_STRING, TAG_OID, TAG_SEQUENCE, derBitString, derEncode } from './der.ts'

export type EcdsaCurveName = 'P-256' | 'P-384' | 'P-521'

interface Curve {
  name: EcdsaCurveName
  oid: Uint8Array
  /** Bytes of a scalar (and of each point coordinate). */
  size: number
}

/** The curve arithmetic, synchronously (private keys) or on demand (public keys' verification). */
function curveImpl (name: EcdsaCurveName): NistCurve {
  return name === 'P-256' ? curves.p256() : name === 'P-384' ? curves.p384() : curves.p521()
}

function curveImplOnDemand (name: EcdsaCurveName): CurveOrLoading<NistCurve> {
  return name === 'P-256' ? curvesOnDemand.p256() : name === 'P-384' ? curvesOnDemand.p384() : curvesOnDemand.p521()
}

const EC_PUBLIC_KEY_OID = Uint8Array.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01])
const CURVES: readonly Curve[] = [
  { name: 'P-256', oid: Uint8Array.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]), size: 32 },
  { name: 'P-384', oid: Uint8Array.from([0x2b, 0x81, 0x04, 0x00, 0x22]), size: 48 },
  { name: 'P-521', oid: Uint8Array.from([0x2b, 0x81, 0x04, 0x00, 0x23]), size: 66 }
]

function curveByOid (oid: Uint8Array): Curve {
  const curve = CURVES.find(c => equalBytes(c.oid, oid))
  if (curve === undefined) throw new InvalidKeyError('unsupported ECDSA curve')
  return curve
}

function encodeSpki (curve: Curve, point: Uint8Array): Uint8Array {
  return derEncode(TAG_SEQUENCE,
    derEncode(TAG_SEQUENCE, derEncode(TAG_OID, EC_PUBLIC_KEY_OID), derEncode(TAG_OID, curve.oid)),
    derBitString(point))
}

function encodeSec1 (curve: Curve, scalar: Uint8Array, point: Uint8Array): Uint8Array {
  return derEncode(TAG_SEQUENCE,
    Uint8Array.of(TAG_INTEGER, 1, 1),
    derEncode(TAG_OCTET_STRING, scalar),
    derEncode(TAG_CONTEXT_0, derEncode(TAG_OID, curve.oid)),
    derEncode(TAG_CONTEXT_1, derBitString(point)))
}

export class EcdsaPublicKey implements PublicKey {
  readonly type = 'ECDSA' as const
  /** DER SPKI. */
  readonly raw: Uint8Array
  readonly curve: EcdsaCurveName
  readonly #point: Uint8Array
  /** The runtime's native verifier when it has one (Node: OpenSSL), else undefined. */
  readonly #nativeVerify?: (data: Uint8Array, signature: Uint8Array) => boolean

  constructor (curve: Curve, point: Uint8Array) {
    this.curve = curve.name
    this.#point = point
    this.raw = encodeSpki(curve, point)
    this.#nativeVerify = backend.ecdsaVerifier?.(this.raw)
  }

  verify (data: Uint8Array, signature: Uint8Array): boolean | Promise<boolean> {
    if (this.#nativeVerify !== undefined) return this.#nativeVerify(data, signature)
    return withCurve(curveImplOnDemand(this.curve), impl => {
      try {
        return impl.verify(signature, backend.sha256(data), this.#point, { prehash: false, format: 'der', lowS: false })
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

export class EcdsaPrivateKey implements PrivateKey {
  readonly type = 'ECDSA' as const
  /** DER SEC1. */
  readonly raw: Uint8Array
  readonly publicKey: EcdsaPublicKey
  readonly #impl: NistCurve
  readonly #scalar: Uint8Array

  constructor (curve: Curve, scalar: Uint8Array, point: Uint8Array) {
    this.#impl = curveImpl(curve.name)
    this.#scalar = scalar
    this.publicKey = new EcdsaPublicKey(curve, point)
    this.raw = encodeSec1(curve, scalar, point)
  }

  sign (data: Uint8Array): Uint8Array {
    return this.#impl.sign(backend.sha256(data), this.#scalar, { prehash: false, format: 'der' })
  }

  toProtobuf (): Uint8Array {
    return encodeKeyProtobuf(this.type, this.raw)
  }

  equals (other: PrivateKey): boolean {
    return other != null && other.type === this.type && equalBytes(this.raw, other.raw)
  }
}

function validPoint (curve: Curve, point: Uint8Array): Uint8Array {
  // Uncompressed only: go's x509 rejects compressed points in SPKI.
  if (point.length !== 1 + 2 * curve.size || point[0] !== 0x04) throw new InvalidKeyError('ECDSA public key must be an uncompressed point')
  if (!isUncompressedPointOnCurve(NIST_CURVES[curve.name], point)) throw new InvalidKeyError('ECDSA public key is not a point on the curve')
  return point.slice()
}

/** Parses DER SPKI. */
export function ecdsaPublicKeyFromRaw (spki: Uint8Array): EcdsaPublicKey {
  const outer = new DerReader(spki)
  const body = new DerReader(outer.read(TAG_SEQUENCE))
  outer.end()
  const algorithm = new DerReader(body.read(TAG_SEQUENCE))
  if (!equalBytes(algorithm.read(TAG_OID), EC_PUBLIC_KEY_OID)) throw new InvalidKeyError('SPKI is not an EC public key')
  const curve = curveByOid(algorithm.read(TAG_OID))
  algorithm.end()
  const point = body.readBitString()
  body.end()
  return new EcdsaPublicKey(curve, validPoint(curve, point))
}

/** Parses DER SEC1 (RFC 5915); the curve OID is required, the public key checked if present. */
export function ecdsaPrivateKeyFromRaw (sec1: Uint8Array): EcdsaPrivateKey {
  const outer = new DerReader(sec1)
  const body = new DerReader(outer.read(TAG_SEQUENCE))
  outer.end()
  const version = body.read(TAG_INTEGER)
  if (version.length !== 1 || version[0] !== 1) throw new InvalidKeyError('unsupported SEC1 version')
  const given = body.read(TAG_OCTET_STRING)
  if (body.peekTag() !== TAG_CONTEXT_0) throw new InvalidKeyError('SEC1 key without curve parameters')
  const params = new DerReader(body.read(TAG_CONTEXT_0))
  const curve = curveByOid(params.read(TAG_OID))
  params.end()
  let embeddedPoint: Uint8Array | undefined
  if (body.peekTag() === TAG_CONTEXT_1) {
    const wrapper = new DerReader(body.read(TAG_CONTEXT_1))
    embeddedPoint = wrapper.readBitString()
    wrapper.end()
  }
  body.end()
  if (given.length > curve.size) throw new InvalidKeyError('SEC1 private key is longer than the curve order')
  // Left-pad to the curve size, as go writes it, so re-encoding is canonical.
  const scalar = new Uint8Array(curve.size)
  scalar.set(given, curve.size - given.length)
  let point: Uint8Array
  try {
    point = curveImpl(curve.name).getPublicKey(scalar, false)
  } catch (err) {
    throw new InvalidKeyError('ECDSA private key is out of range', { cause: err })
  }
  if (embeddedPoint !== undefined && !equalBytes(embeddedPoint, point)) throw new InvalidKeyError('SEC1 public key does not match the private key')
  return new EcdsaPrivateKey(curve, scalar, point)
}

export function generateEcdsaPrivateKey (curveName: EcdsaCurveName = 'P-256'): EcdsaPrivateKey {
  const curve = CURVES.find(c => c.name === curveName)
  if (curve === undefined) throw new InvalidParametersError(`unsupported ECDSA curve ${curveName}`)
  const impl = curveImpl(curve.name)
  const scalar = impl.utils.randomSecretKey()
  return new EcdsaPrivateKey(curve, scalar, impl.getPublicKey(scalar, false))
}
