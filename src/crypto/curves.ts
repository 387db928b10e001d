/**
 * The @noble/curves modules the secp256k1 and ECDSA keys use, behind accessors so a runtime can
 * load them on first use: `#noble-curves` (package.json "imports") resolves to curves.node.ts
 * under Node, which defers loading until a key of that type appears (most nodes only ever see
 * Ed25519; the curve code would otherwise sit in the heap that every garbage collection
 * marks), and to curves.browser.ts elsewhere, which imports them up front (private keys: their
 * parsing derives the public key, synchronously).
 *
 * `#noble-curves-on-demand` is what public keys use, only to verify: Node's is the same lazy
 * require; a browser's (curves-on-demand.browser.ts) loads the module with a dynamic import on the
 * first verification, so a page that never meets such a key never downloads the curve code
 * (a bundler splits it into its own chunk). Parsing checks the point without it (curve-points.ts).
 */
import type { secp256k1 } from '@noble/curves/secp256k1.js'
import type { p256, p384, p521 } from '@noble/curves/nist.js'

export type Secp256k1Curve = typeof secp256k1
export type NistCurve = typeof p256 | typeof p384 | typeof p521

export interface Curves {
  secp256k1(): Secp256k1Curve
  p256(): NistCurve
  p384(): NistCurve
  p521(): NistCurve
}

/** A curve, or the promise of it while its module loads (browsers, first use only). */
export type CurveOrLoading<C> = C | Promise<C>

export interface CurvesOnDemand {
  secp256k1(): CurveOrLoading<Secp256k1Curve>
  /** The curve if this runtime has it synchronously now (Node: always; a browser: once loaded), without starting a load. */
  secp256k1Now(): Secp256k1Curve | undefined
  p256(): CurveOrLoading<NistCurve>
  p384(): CurveOrLoading<NistCurve>
  p521(): CurveOrLoading<NistCurve>
}

/** Runs `use` on the curve now when it is loaded, else once it is (a promise then). */
export function withCurve<C, R> (curve: CurveOrLoading<C>, use: (curve: C) => R): R | Promise<R> {
  return curve instanceof Promise ? curve.then(use) : use(curve)
}
