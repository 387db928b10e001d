/**
 * The Node.js crypto backend: OpenSSL through node:crypto. KeyObjects are created once per key
 * and kept by the signer/verifier closures, because importing a key costs more than an Ed25519
 * signature, and Noise signs or verifies on every connection.
 */
import crypto from 'node:crypto'
import type { CryptoBackend, Signer, Verifier } from './backend.ts'
import { publicKeyFromSpki, recentPublicKeyFromSpki } from './key-object.node.ts'

// Private keys are imported as JWK: OpenSSL 3 decodes it measurably faster than PKCS#8 DER.
// Public keys as PEM text (key-object.node.ts says why).
function base64url (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

function ed25519PrivateKeyObject (seed: Uint8Array, publicKey?: Uint8Array): crypto.KeyObject {
  const x = publicKey === undefined ? '' : base64url(publicKey)
  return crypto.createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: base64url(seed), x }, format: 'jwk' })
}

/** DER SubjectPublicKeyInfo of Ed25519 (RFC 8410) before the 32 key bytes. */
const ED25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])

function ed25519PublicKeyObject (publicKey: Uint8Array): crypto.KeyObject {
  if (publicKey.length !== 32) throw new RangeError(`Ed25519 public key of ${publicKey.length} bytes`)
  const spki = new Uint8Array(ED25519_SPKI_PREFIX.length + 32)
  spki.set(ED25519_SPKI_PREFIX)
  spki.set(publicKey, ED25519_SPKI_PREFIX.length)
  return recentPublicKeyFromSpki(spki)
}

/** A plain Uint8Array over a Buffer's bytes, so callers never see Buffer-only behaviour. */
function plain (b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

export const backend: CryptoBackend = {
  randomBytes (length: number): Uint8Array {
    return crypto.randomFillSync(new Uint8Array(length))
  },

  sha256 (data: Uint8Array): Uint8Array {
    return plain(crypto.hash('sha256', data, 'buffer'))
  },

  ed25519PublicKeyFromSeed (seed: Uint8Array): Uint8Array {
    const { x } = crypto.createPublicKey(ed25519PrivateKeyObject(seed)).export({ format: 'jwk' })
    return new Uint8Array(Buffer.from(x ?? '', 'base64url'))
  },

  ed25519Signer (seed: Uint8Array, publicKey: Uint8Array): (data: Uint8Array) => Uint8Array {
    let key: crypto.KeyObject | undefined
    return (data) => {
      key ??= ed25519PrivateKeyObject(seed, publicKey)
      return plain(crypto.sign(null, data, key))
    }
  },

  ed25519Verifier (publicKey: Uint8Array): (data: Uint8Array, signature: Uint8Array) => boolean {
    let key: crypto.KeyObject | undefined
    return (data, signature) => {
      if (signature.length !== 64) return false
      try {
        key ??= ed25519PublicKeyObject(publicKey)
        return crypto.verify(null, data, key, signature)
      } catch {
        return false
      }
    }
  },

  async rsaGenerate (bits: number): Promise<Uint8Array> {
    const { privateKey } = await new Promise<crypto.KeyPairKeyObjectResult>((resolve, reject) => {
      crypto.generateKeyPair('rsa', { modulusLength: bits, publicExponent: 65537 }, (err, publicKey, privateKey) => {
        if (err != null) reject(err)
        else resolve({ publicKey, privateKey })
      })
    })
    return plain(privateKey.export({ format: 'der', type: 'pkcs1' }))
  },

  rsaSigner (pkcs1: Uint8Array): Signer {
    let key: crypto.KeyObject | undefined
    return (data) => {
      key ??= crypto.createPrivateKey({ key: Buffer.from(pkcs1), format: 'der', type: 'pkcs1' })
      return plain(crypto.sign('sha256', data, key))
    }
  },

  ecdsaVerifier (spki: Uint8Array): (data: Uint8Array, signature: Uint8Array) => boolean {
    // OpenSSL verifies P-256 in tens of microseconds, @noble in milliseconds: every TLS and QUIC
    // handshake checks an ECDSA certificate signature.
    let key: crypto.KeyObject | undefined
    return (data, signature) => {
      try {
        key ??= recentPublicKeyFromSpki(spki)
        // The KeyObject itself, not { key, dsaEncoding: 'der' }: DER is the default, and an
        // options object costs node:crypto two thrown brand checks per call.
        return crypto.verify('sha256', data, key, signature)
      } catch {
        return false
      }
    }
  },

  rsaVerifier (spki: Uint8Array): Verifier {
    let key: crypto.KeyObject | undefined
    return (data, signature) => {
      try {
        key ??= publicKeyFromSpki(spki)
        return crypto.verify('sha256', data, { key, padding: crypto.constants.RSA_PKCS1_PADDING }, signature)
      } catch {
        return false
      }
    }
  }
}
