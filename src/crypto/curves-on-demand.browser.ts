/**
 * The browser's `#noble-curves-on-demand`: public keys of secp256k1 and ECDSA load their curve
 * module with a dynamic import the first time they verify, and use it synchronously from then on.
 * A failed load is not cached (the next verification tries again). See curves.ts.
 */
import type { CurveOrLoading, CurvesOnDemand } from './curves.ts'

type CurvesModule = typeof import('./weierstrass-curves.ts')

let loaded: CurvesModule | undefined
let loading: Promise<CurvesModule> | undefined

function load<C> (pick: (m: CurvesModule) => C): CurveOrLoading<C> {
  if (loaded !== undefined) return pick(loaded)
  loading ??= import('./weierstrass-curves.ts').then(
    m => { loaded = m; return m },
    err => { loading = undefined; throw err })
  return loading.then(pick)
}

export const curvesOnDemand: CurvesOnDemand = {
  secp256k1: () => load(m => m.secp256k1),
  secp256k1Now: () => loaded?.secp256k1,
  p256: () => load(m => m.p256),
  p384: () => load(m => m.p384),
  p521: () => load(m => m.p521)
}
