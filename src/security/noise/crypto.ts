/**
 * The primitives Noise_XX_25519_ChaChaPoly_SHA256 needs, behind one small interface so the
 * handshake and the transport code are shared while the implementation is picked per runtime:
 * `#noise-crypto` (package.json "imports") resolves to crypto.node.ts under Node (OpenSSL via
 * node:crypto, several times faster than JavaScript ChaCha20-Poly1305) and to crypto.browser.ts
 * elsewhere (@noble, no Node built-ins).
 */

export interface X25519KeyPair {
  /** 32 bytes, RFC 7748 encoding. */
  readonly publicKey: Uint8Array
  /** 32 bytes. */
  readonly privateKey: Uint8Array
}

/** ChaCha20-Poly1305 keyed once; the 12-byte nonce is supplied per message. */
export interface Aead {
  /** Writes ciphertext || 16-byte tag (plaintext.length + 16 bytes) into `out` at `offset`. */
  seal(nonce: Uint8Array, ad: Uint8Array | undefined, plaintext: Uint8Array, out: Uint8Array, offset: number): void
  /** The plaintext; throws (any error) when the tag does not verify. */
  open(nonce: Uint8Array, ad: Uint8Array | undefined, sealed: Uint8Array): Uint8Array
  /**
   * Transport messages (no associated data), sealed from and into pieces so a frame never has
   * to be assembled in one buffer: the plaintext is the concatenation of `parts`; appends to
   * `out` the ciphertext (one or more buffers, as long as the plaintext together) and then the
   * 16-byte tag. The appended buffers are the caller's to keep.
   */
  sealParts(nonce: Uint8Array, parts: readonly Uint8Array[], out: Uint8Array[]): void
  /**
   * The counterpart of `sealParts`: the ciphertext is the concatenation of `parts` and `tag` is
   * its 16-byte tag. Appends the plaintext (one or more buffers) to `out` only once the tag has
   * verified; throws (any error) otherwise, leaving `out` as it was.
   */
  openParts(nonce: Uint8Array, parts: readonly Uint8Array[], tag: Uint8Array, out: Uint8Array[]): void
  /**
   * Optional: opens a transport message whose ciphertext arrives in pieces, decrypting each as
   * it comes, so a receiver need not keep (or copy) the pieces until the last one is there.
   * The plaintext is the caller's only once `finish` has verified the tag.
   */
  beginOpen?(nonce: Uint8Array): PieceOpener
}

/** One message being opened piece by piece (see Aead.beginOpen). */
export interface PieceOpener {
  /** Decrypts the next ciphertext piece, appending its plaintext to `out`. */
  update(ciphertext: Uint8Array, out: Uint8Array[]): void
  /** Verifies the 16-byte tag; throws (any error) when it does not match. */
  finish(tag: Uint8Array): void
}

/** Total length of `parts`. */
export function partsLength (parts: readonly Uint8Array[]): number {
  let n = 0
  for (let i = 0; i < parts.length; i++) n += parts[i].length
  return n
}

export interface NoiseCrypto {
  generateX25519KeyPair(): X25519KeyPair
  x25519KeyPairFromPrivateKey(privateKey: Uint8Array): X25519KeyPair
  /** X25519(keyPair.privateKey, publicKey); throws for an all-zero (low-order) result. */
  x25519(keyPair: X25519KeyPair, publicKey: Uint8Array): Uint8Array
  /** SHA-256(a || b) without concatenating. */
  sha256(a: Uint8Array, b?: Uint8Array): Uint8Array
  /** Noise HKDF with two outputs: HKDF-SHA256(salt = chainingKey, ikm, info = ""), 64 bytes split. */
  hkdf(chainingKey: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array]
  createAead(key: Uint8Array): Aead
  /** A buffer whose every byte the caller overwrites (Node skips the zero-fill). */
  allocUnsafe(size: number): Uint8Array
}

/** True when all 32 bytes are zero: a DH with a low-order point, which Noise peers reject. */
export function isAllZero (bytes: Uint8Array): boolean {
  let acc = 0
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i]
  return acc === 0
}
