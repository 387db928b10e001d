/** The portable `#noble-curves`: the @noble/curves modules, imported up front. See curves.ts. */
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { p256, p384, p521 } from '@noble/curves/nist.js'
import type { Curves } from './curves.ts'

export const curves: Curves = {
  secp256k1: () => secp256k1,
  p256: () => p256,
  p384: () => p384,
  p521: () => p521
}
