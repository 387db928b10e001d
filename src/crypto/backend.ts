/**
 * The contract of the per-runtime crypto backend. `#crypto-backend` (package.json "imports")
 * resolves to backend.node.ts under Node (node:crypto, OpenSSL-fast) and to backend.browser.ts
 * elsewhere (@noble and WebCrypto, no Node built-ins). Only the primitives whose speed differs a
 * lot between runtimes live here; everything else is shared code.
 */

export type Verifier = (data: Uint8Array, signature: Uint8Array) => boolean | Promise<boolean>
export type Signer = (data: Uint8Array) => Uint8Array | Promise<Uint8Array>

export interface CryptoBackend {
  randomBytes(length: number): Uint8Array
  sha256(data: Uint8Array): Uint8Array
  /** The 32-byte Ed25519 public key of a 32-byte seed. */
  ed25519PublicKeyFromSeed(seed: Uint8Array): Uint8Array
  /** A signer that keeps any imported key material for reuse across calls (always synchronous). */
  ed25519Signer(seed: Uint8Array, publicKey: Uint8Array): (data: Uint8Array) => Uint8Array
  /** A verifier that keeps the imported public key; returns false (never throws) for bad input. */
  ed25519Verifier(publicKey: Uint8Array): (data: Uint8Array, signature: Uint8Array) => boolean
  /** A fresh RSA key as PKCS#1 DER. */
  rsaGenerate(bits: number): Promise<Uint8Array>
  /** PKCS#1 v1.5 over SHA-256, key as PKCS#1 DER (already validated by the caller). */
  rsaSigner(pkcs1: Uint8Array): Signer
  /** PKCS#1 v1.5 over SHA-256, key as SPKI DER (already validated by the caller). */
  rsaVerifier(spki: Uint8Array): Verifier
  /**
   * ECDSA over SHA-256 with a DER signature, key as SPKI DER (already validated by the caller);
   * false, never a throw, for bad input. Optional: a runtime without a fast one uses @noble.
   */
  ecdsaVerifier?(spki: Uint8Array): (data: Uint8Array, signature: Uint8Array) => boolean
}
