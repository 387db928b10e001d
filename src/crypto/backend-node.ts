/**
 * The Node.js crypto backend: OpenSSL through node:crypto. KeyObjects are created once per key
 * and kept by the signer/verifier closures, because importing a key costs more than an Ed25519
 * signature, and Noise signs or verifies on every connection.
 */
import crypto from 'node:crypto'
import type { CryptoBackend, Signer, Verifier } from './backend.ts'

const ED25519_PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const ED25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])

function withPrefix (prefix: Uint8Array, bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(prefix.length + bytes.length)
  out.set(prefix)
  out.set(bytes, prefix.length)
  return out
}

function ed25519PrivateKeyObject (seed: Uint8Array): crypto.KeyObject {
  return crypto.createPrivateKey({ key: withPrefix(ED25519_PKCS8_PREFIX, seed), format: 'der', type: 'pkcs8' })
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
    const spki = crypto.createPublicKey(ed25519PrivateKeyObject(seed)).export({ format: 'der', type: 'spki' })
    return new Uint8Array(spki.subarray(ED25519_SPKI_PREFIX.length))
  },

  ed25519Signer (seed: Uint8Array): (data: Uint8Array) => Uint8Array {
    let key: crypto.KeyObject | undefined
    return (data) => {
      key ??= ed25519PrivateKeyObject(seed)
      return plain(crypto.sign(null, data, key))
    }
  },

  ed25519Verifier (publicKey: Uint8Array): (data: Uint8Array, signature: Uint8Array) => boolean {
    let key: crypto.KeyObject | undefined
    return (data, signature) => {
      if (signature.length !== 64) return false
      try {
        key ??= crypto.createPublicKey({ key: withPrefix(ED25519_SPKI_PREFIX, publicKey), format: 'der', type: 'spki' })
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

  rsaVerifier (spki: Uint8Array): Verifier {
    let key: crypto.KeyObject | undefined
    return (data, signature) => {
      try {
        key ??= crypto.createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
        return crypto.verify('sha256', data, { key, padding: crypto.constants.RSA_PKCS1_PADDING }, signature)
      } catch {
        return false
      }
    }
  }
}
