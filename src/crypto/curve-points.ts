/**
 * Is a public key a point on its curve? The checks key parsing needs for secp256k1 and the NIST
 * curves, in plain BigInt arithmetic: parsing is synchronous, and with these the curve code of
 * @noble/curves (weierstrass, ~20 KiB minified) is only loaded when a key of that type first
 * verifies or signs, not by every browser page that could meet such a key. Each curve here has
 * cofactor 1, so a point on the curve is in its prime-order group; the point at infinity has
 * no affine encoding and so never passes. Constants are the curves' published parameters
 * (SEC 2, FIPS 186-4), checked against @noble/curves in test/crypto/curve-points.test.ts.
 */

/** y^2 = x^3 + a*x + b over the prime field p; `size` bytes per coordinate. */
export interface ShortWeierstrassCurve { p: bigint, a: bigint, b: bigint, size: number }

export const SECP256K1: ShortWeierstrassCurve = {
  p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn,
  a: 0n,
  b: 7n,
  size: 32
}

export const NIST_CURVES: Record<'P-256' | 'P-384' | 'P-521', ShortWeierstrassCurve> = {
  'P-256': {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    a: -3n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    size: 32
  },
  'P-384': {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    a: -3n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    size: 48
  },
  'P-521': {
    p: (1n << 521n) - 1n,
    a: -3n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
    size: 66
  }
}

function toBigInt (bytes: Uint8Array): bigint {
  let n = 0n
  for (const byte of bytes) n = (n << 8n) | BigInt(byte)
  return n
}

function mod (n: bigint, p: bigint): bigint {
  const r = n % p
  return r < 0n ? r + p : r
}

function powMod (base: bigint, exponent: bigint, p: bigint): bigint {
  let result = 1n
  let b = mod(base, p)
  for (let e = exponent; e > 0n; e >>= 1n) {
    if ((e & 1n) === 1n) result = (result * b) % p
    b = (b * b) % p
  }
  return result
}

function rightSide (curve: ShortWeierstrassCurve, x: bigint): bigint {
  return mod(x * x * x + curve.a * x + curve.b, curve.p)
}

/**
 * Whether `point`, an uncompressed SEC1 encoding (0x04 || X || Y), lies on `curve`. Coordinates
 * must be reduced (below p), as @noble/curves and Go require.
 */
export function isUncompressedPointOnCurve (curve: ShortWeierstrassCurve, point: Uint8Array): boolean {
  if (point.length !== 1 + 2 * curve.size || point[0] !== 0x04) return false
  const x = toBigInt(point.subarray(1, 1 + curve.size))
  const y = toBigInt(point.subarray(1 + curve.size))
  if (x >= curve.p || y >= curve.p) return false
  return mod(y * y, curve.p) === rightSide(curve, x)
}

/**
 * A secp256k1 public key in its 33-byte compressed form, from the compressed or uncompressed
 * encoding; undefined when the bytes are not a point on the curve. (p = 3 mod 4, so a square
 * root of r is r^((p+1)/4) when one exists.)
 */
export function compressedSecp256k1Point (encoded: Uint8Array): Uint8Array | undefined {
  const { p, size } = SECP256K1
  if (encoded.length === 1 + 2 * size) {
    if (!isUncompressedPointOnCurve(SECP256K1, encoded)) return undefined
    const compressed = encoded.slice(0, 1 + size)
    compressed[0] = 0x02 | (encoded[2 * size] & 1)
    return compressed
  }
  if (encoded.length !== 1 + size || (encoded[0] !== 0x02 && encoded[0] !== 0x03)) return undefined
  const x = toBigInt(encoded.subarray(1))
  if (x >= p) return undefined
  const r = rightSide(SECP256K1, x)
  const y = powMod(r, (p + 1n) >> 2n, p)
  if ((y * y) % p !== r) return undefined
  return encoded.slice()
}
