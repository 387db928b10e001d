/**
 * Portable backend for Noise (browsers, Deno, workers): X25519 from @noble/curves, SHA-256 and
 * HKDF from @noble/hashes, ChaCha20-Poly1305 from @noble/ciphers. No Node built-ins.
 */
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { isAllZero, partsLength, type Aead, type NoiseCrypto, type X25519KeyPair } from './crypto.ts'
import { HandshakeError } from '../../util/errors.ts'

const EMPTY = new Uint8Array(0)

class NobleAead implements Aead {
  readonly #key: Uint8Array

  constructor (key: Uint8Array) {
    this.#key = key.slice()
  }

  seal (nonce: Uint8Array, ad: Uint8Array | undefined, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    chacha20poly1305(this.#key, nonce, ad).encrypt(plaintext, out.subarray(offset, offset + plaintext.length + 16))
  }

  open (nonce: Uint8Array, ad: Uint8Array | undefined, sealed: Uint8Array): Uint8Array {
    return chacha20poly1305(this.#key, nonce, ad).decrypt(sealed)
  }

  // @noble works on one buffer: gather the pieces into it and encrypt in place.
  sealParts (nonce: Uint8Array, parts: readonly Uint8Array[], out: Uint8Array[]): void {
    const length = partsLength(parts)
    const sealed = new Uint8Array(length + 16)
    gather(parts, sealed)
    chacha20poly1305(this.#key, nonce).encrypt(sealed.subarray(0, length), sealed)
    out.push(sealed)
  }

  openParts (nonce: Uint8Array, parts: readonly Uint8Array[], tag: Uint8Array, out: Uint8Array[]): void {
    const length = partsLength(parts)
    const sealed = new Uint8Array(length + 16)
    gather(parts, sealed)
    sealed.set(tag, length)
    out.push(chacha20poly1305(this.#key, nonce).decrypt(sealed, sealed.subarray(0, length)))
  }
}

function gather (parts: readonly Uint8Array[], into: Uint8Array): void {
  let offset = 0
  for (const part of parts) {
    into.set(part, offset)
    offset += part.length
  }
}

export const noiseCrypto: NoiseCrypto = {
  generateX25519KeyPair (): X25519KeyPair {
    const privateKey = nobleX25519.utils.randomSecretKey()
    return { privateKey, publicKey: nobleX25519.getPublicKey(privateKey) }
  },

  x25519KeyPairFromPrivateKey (privateKey: Uint8Array): X25519KeyPair {
    if (privateKey.length !== 32) throw new RangeError('an X25519 private key has 32 bytes')
    return { privateKey: privateKey.slice(), publicKey: nobleX25519.getPublicKey(privateKey) }
  },

  x25519 (keyPair: X25519KeyPair, publicKey: Uint8Array): Uint8Array {
    if (publicKey.length !== 32) throw new RangeError('an X25519 public key has 32 bytes')
    const shared = nobleX25519.getSharedSecret(keyPair.privateKey, publicKey)
    if (isAllZero(shared)) throw new HandshakeError('X25519 produced the all-zero shared secret')
    return shared
  },

  sha256 (a: Uint8Array, b?: Uint8Array): Uint8Array {
    if (b === undefined) return nobleSha256(a)
    return nobleSha256.create().update(a).update(b).digest()
  },

  hkdf (chainingKey: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
    const out = nobleHkdf(nobleSha256, ikm, chainingKey, EMPTY, 64)
    return [out.subarray(0, 32), out.subarray(32, 64)]
  },

  createAead (key: Uint8Array): Aead {
    return new NobleAead(key)
  },

  allocUnsafe (size: number): Uint8Array {
    return new Uint8Array(size)
  }
}
