/**
 * The @noble/curves modules the secp256k1 and ECDSA keys use, behind accessors so a runtime can
 * load them on first use: `#noble-curves` (package.json "imports") resolves to curves.node.ts
 * under Node, which defers loading until a key of that type appears (most nodes only ever see
 * Ed25519; the curve code would otherwise sit in the heap that every garbage collection
 * marks), and to curves.browser.ts elsewhere, which imports them up front.
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
