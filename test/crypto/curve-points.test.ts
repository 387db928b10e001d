/** curve-points.ts: the parse-time point checks agree with @noble/curves, constants included. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { p256, p384, p521 } from '@noble/curves/nist.js'
import { NIST_CURVES, SECP256K1, compressedSecp256k1Point, isUncompressedPointOnCurve } from '../../src/crypto/curve-points.ts'
import { curvesOnDemand } from '../../src/crypto/curves-on-demand.browser.ts'
import { withCurve } from '../../src/crypto/curves.ts'

test('the curve constants are the ones @noble/curves uses', () => {
  for (const [ours, noble] of [[SECP256K1, secp256k1], [NIST_CURVES['P-256'], p256], [NIST_CURVES['P-384'], p384], [NIST_CURVES['P-521'], p521]] as const) {
    const params = noble.Point.CURVE()
    assert.equal(ours.p, params.p)
    assert.equal(((ours.a % params.p) + params.p) % params.p, params.a)
    assert.equal(ours.b, params.b)
    assert.equal(ours.size, noble.Point.Fp.BYTES)
  }
})

test('valid points pass, off-curve, unreduced and malformed ones do not (NIST)', () => {
  for (const [curve, noble] of [[NIST_CURVES['P-256'], p256], [NIST_CURVES['P-384'], p384], [NIST_CURVES['P-521'], p521]] as const) {
    for (let i = 0; i < 8; i++) {
      const point = noble.getPublicKey(noble.utils.randomSecretKey(), false)
      assert.ok(isUncompressedPointOnCurve(curve, point))
      const bent = point.slice()
      bent[bent.length - 1] ^= 1
      assert.equal(isUncompressedPointOnCurve(curve, bent), false, 'y changed by one bit')
      assert.equal(isUncompressedPointOnCurve(curve, point.subarray(0, point.length - 1)), false, 'short')
      const hybrid = point.slice()
      hybrid[0] = 0x06
      assert.equal(isUncompressedPointOnCurve(curve, hybrid), false, 'not the uncompressed prefix')
    }
    // x + p encodes the same residue but is not reduced: refused, as noble and Go refuse it
    const point = noble.getPublicKey(noble.utils.randomSecretKey(), false)
    const unreduced = point.slice()
    const yPlusP = BigInt('0x' + Buffer.from(point.subarray(1 + curve.size)).toString('hex')) + curve.p
    if (yPlusP < 1n << BigInt(8 * curve.size)) {
      unreduced.set(Buffer.from(yPlusP.toString(16).padStart(2 * curve.size, '0'), 'hex'), 1 + curve.size)
      assert.equal(isUncompressedPointOnCurve(curve, unreduced), false, 'unreduced y')
    }
    assert.equal(isUncompressedPointOnCurve(curve, new Uint8Array(1 + 2 * curve.size).fill(0).fill(4, 0, 1)), false, '(0, 0)')
  }
})

test('secp256k1: compressed and uncompressed points normalise to noble\'s compressed form; others are refused', () => {
  for (let i = 0; i < 16; i++) {
    const secret = secp256k1.utils.randomSecretKey()
    const compressed = secp256k1.getPublicKey(secret, true)
    assert.deepEqual(compressedSecp256k1Point(compressed), compressed)
    assert.deepEqual(compressedSecp256k1Point(secp256k1.getPublicKey(secret, false)), compressed)
  }
  // the same checks as noble on arbitrary x: on the curve for about half of them
  let agreed = 0
  for (let i = 0; i < 64; i++) {
    const candidate = new Uint8Array(33)
    crypto.getRandomValues(candidate)
    candidate[0] = 0x02 | (candidate[0] & 1)
    let nobleSays: Uint8Array | undefined
    try { nobleSays = secp256k1.Point.fromBytes(candidate).toBytes(true) } catch {}
    assert.deepEqual(compressedSecp256k1Point(candidate), nobleSays)
    if (nobleSays !== undefined) agreed++
  }
  assert.ok(agreed > 8 && agreed < 56, `${agreed} of 64 random x on the curve`)
  assert.equal(compressedSecp256k1Point(new Uint8Array(33)), undefined, 'prefix 0')
  const overP = new Uint8Array(33).fill(0xff)
  overP[0] = 0x02
  assert.equal(compressedSecp256k1Point(overP), undefined, 'x >= p')
})

test('the browser\'s curves on demand: a promise on first use, the curve synchronously after', async () => {
  assert.equal(curvesOnDemand.secp256k1Now(), undefined, 'not loaded, and asking does not load it')
  const first = curvesOnDemand.p256()
  assert.ok(first instanceof Promise)
  assert.equal(await first, p256)
  assert.equal(curvesOnDemand.p256(), p256)
  assert.equal(curvesOnDemand.secp256k1(), secp256k1, 'one module holds every curve')
  assert.equal(curvesOnDemand.secp256k1Now(), secp256k1)
  assert.equal(withCurve(curvesOnDemand.secp256k1(), c => c === secp256k1), true, 'withCurve runs synchronously once loaded')
  assert.ok(withCurve(Promise.resolve(p384), c => c === p384) instanceof Promise, 'and returns a promise while loading')
})
