/**
 * The portable crypto backend for browsers and other runtimes without node:crypto: @noble for
 * hashing and Ed25519 (synchronous), WebCrypto for RSA (asynchronous; RSA is rare in libp2p).
 * Imports no Node built-ins.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import type { CryptoBackend, Signer, Verifier } from './backend.ts'
import { DerReader, TAG_OCTET_STRING, TAG_SEQUENCE, TAG_INTEGER, derEncode } from './der.ts'

const RSA_ALGORITHM_IDENTIFIER = Uint8Array.from([0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00])
const RSA_IMPORT = { name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } }
/** getRandomValues refuses more than 64 KiB per call. */
const RANDOM_CHUNK = 65536

function subtle (): SubtleCrypto {
  const s = globalThis.crypto?.subtle
  if (s == null) throw new Error('WebCrypto is not available in this runtime (RSA keys need it)')
  return s
}

function pkcs1ToPkcs8 (pkcs1: Uint8Array): Uint8Array {
  return derEncode(TAG_SEQUENCE, Uint8Array.of(TAG_INTEGER, 1, 0), RSA_ALGORITHM_IDENTIFIER, derEncode(TAG_OCTET_STRING, pkcs1))
}

function pkcs8ToPkcs1 (pkcs8: Uint8Array): Uint8Array {
  const outer = new DerReader(new DerReader(pkcs8).read(TAG_SEQUENCE))
  outer.read(TAG_INTEGER)
  outer.read(TAG_SEQUENCE)
  return outer.read(TAG_OCTET_STRING).slice()
}

export const backend: CryptoBackend = {
  randomBytes (length: number): Uint8Array {
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i += RANDOM_CHUNK) {
      globalThis.crypto.getRandomValues(out.subarray(i, Math.min(length, i + RANDOM_CHUNK)))
    }
    return out
  },

  sha256 (data: Uint8Array): Uint8Array {
    return sha256(data)
  },

  ed25519PublicKeyFromSeed (seed: Uint8Array): Uint8Array {
    return ed25519.getPublicKey(seed)
  },

  ed25519Signer (seed: Uint8Array): (data: Uint8Array) => Uint8Array {
    return (data) => ed25519.sign(data, seed)
  },

  ed25519Verifier (publicKey: Uint8Array): (data: Uint8Array, signature: Uint8Array) => boolean {
    return (data, signature) => {
      if (signature.length !== 64) return false
      try {
        // zip215 off: strict RFC 8032 verification, as Go's crypto/ed25519 and OpenSSL do.
        return ed25519.verify(signature, data, publicKey, { zip215: false })
      } catch {
        return false
      }
    }
  },

  async rsaGenerate (bits: number): Promise<Uint8Array> {
    const pair = await subtle().generateKey({ ...RSA_IMPORT, modulusLength: bits, publicExponent: Uint8Array.of(1, 0, 1) }, true, ['sign', 'verify'])
    return pkcs8ToPkcs1(new Uint8Array(await subtle().exportKey('pkcs8', pair.privateKey)))
  },

  rsaSigner (pkcs1: Uint8Array): Signer {
    let key: Promise<CryptoKey> | undefined
    return async (data) => {
      key ??= subtle().importKey('pkcs8', pkcs1ToPkcs8(pkcs1) as Uint8Array<ArrayBuffer>, RSA_IMPORT, false, ['sign'])
      return new Uint8Array(await subtle().sign(RSA_IMPORT, await key, data as Uint8Array<ArrayBuffer>))
    }
  },

  rsaVerifier (spki: Uint8Array): Verifier {
    let key: Promise<CryptoKey> | undefined
    return async (data, signature) => {
      try {
        key ??= subtle().importKey('spki', spki as Uint8Array<ArrayBuffer>, RSA_IMPORT, false, ['verify'])
        return await subtle().verify(RSA_IMPORT, await key, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>)
      } catch {
        return false
      }
    }
  }
}
