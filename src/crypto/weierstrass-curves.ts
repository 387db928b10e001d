/**
 * The short Weierstrass curves of libp2p keys, the one module curves-on-demand.browser.ts
 * loads with a dynamic import: a bundler keeps every export of a dynamically imported module, so
 * importing @noble/curves' own modules that way would also ship their Schnorr, FROST and
 * hash-to-curve code. Re-exported here, only these four curves are kept.
 */
export { secp256k1 } from '@noble/curves/secp256k1.js'
export { p256, p384, p521 } from '@noble/curves/nist.js'
