/**
 * HMAC-SHA256 (RFC 2104) over node:crypto's one-shot `hash()`.
 *
 * Why not `createHmac`: it imports its key into a KeyObject on every call, and that import
 * (prepareSecretKey, getKeyObjectSlots) cost several times the two SHA-256 compressions it
 * guards: 13 % of a QUIC dial's CPU in the dial + first ping profile, where HKDF runs a few dozen
 * HMACs per handshake side. Here a key is two 64-byte pads XORed once; each MAC is two one-shot
 * hashes over pad || message.
 */
import { hash } from 'node:crypto'

const BLOCK_LENGTH = 64
export const HMAC_SHA256_LENGTH = 32

/** A key prepared once for many MACs (stateless reset tokens, Retry tokens). */
export class HmacSha256Key {
  readonly #inner: Uint8Array
  readonly #outer: Uint8Array

  constructor (key: Uint8Array) {
    // RFC 2104 2: keys longer than the block are hashed first.
    const k = key.length > BLOCK_LENGTH ? hash('sha256', key, 'buffer') : key
    const inner = new Uint8Array(BLOCK_LENGTH).fill(0x36)
    const outer = new Uint8Array(BLOCK_LENGTH + HMAC_SHA256_LENGTH).fill(0x5c, 0, BLOCK_LENGTH)
    for (let i = 0; i < k.length; i++) {
      inner[i] ^= k[i]
      outer[i] ^= k[i]
    }
    this.#inner = inner
    this.#outer = outer
  }

  /** HMAC-SHA256 of the concatenated parts (32 bytes, a fresh array). */
  mac (...parts: Uint8Array[]): Uint8Array {
    let length = BLOCK_LENGTH
    for (const p of parts) length += p.length
    const message = new Uint8Array(length)
    message.set(this.#inner, 0)
    let offset = BLOCK_LENGTH
    for (const p of parts) {
      message.set(p, offset)
      offset += p.length
    }
    const outer = this.#outer
    outer.set(hash('sha256', message, 'buffer'), BLOCK_LENGTH)
    return new Uint8Array(hash('sha256', outer, 'buffer'))
  }
}

/** One HMAC-SHA256 with a key used once. */
export function hmacSha256 (key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  return new HmacSha256Key(key).mac(...parts)
}
