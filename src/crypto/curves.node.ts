/**
 * Node's `#noble-curves`: loads each @noble/curves module the first time a key needs it, with a
 * synchronous require of the ES module (Node >= 22.12), since key parsing and signing are
 * synchronous APIs. Also Node's `#noble-curves-on-demand`. See curves.ts.
 */
import { createRequire } from 'node:module'
import type { Curves, CurvesOnDemand, NistCurve, Secp256k1Curve } from './curves.ts'

const require = createRequire(import.meta.url)

let secp: Secp256k1Curve | undefined
let nist: typeof import('@noble/curves/nist.js') | undefined

function nistModule (): typeof import('@noble/curves/nist.js') {
  nist ??= require('@noble/curves/nist.js') as typeof import('@noble/curves/nist.js')
  return nist
}

export const curves: Curves = {
  secp256k1: () => {
    secp ??= (require('@noble/curves/secp256k1.js') as typeof import('@noble/curves/secp256k1.js')).secp256k1
    return secp
  },
  p256: (): NistCurve => nistModule().p256,
  p384: (): NistCurve => nistModule().p384,
  p521: (): NistCurve => nistModule().p521
}

/** Node loads synchronously on first use either way: public keys verify through the same accessors. */
export const curvesOnDemand: CurvesOnDemand = { ...curves, secp256k1Now: curves.secp256k1 }
