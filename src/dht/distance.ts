/**
 * Kademlia distance: every key (peer id multihash, provider multihash, record key) is mapped
 * into the 256-bit keyspace by sha256, and the distance of two keys is the XOR of their
 * images, compared as big-endian unsigned integers (specs kad-dht "Distance").
 */
import { sha256 } from '../crypto/index.ts'

export const KEYSPACE_BYTES = 32

/** A key's position in the keyspace. */
export function toKadId (key: Uint8Array): Uint8Array {
  return sha256(key)
}

/** Negative when `a` is closer to `target` than `b`, positive when farther, 0 when equal. */
export function compareDistance (a: Uint8Array, b: Uint8Array, target: Uint8Array): number {
  for (let i = 0; i < KEYSPACE_BYTES; i++) {
    const da = a[i] ^ target[i]
    const db = b[i] ^ target[i]
    if (da !== db) return da - db
  }
  return 0
}

/** Number of leading bits `a` and `b` share (256 when equal). */
export function commonPrefixLength (a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < KEYSPACE_BYTES; i++) {
    const x = a[i] ^ b[i]
    if (x !== 0) return i * 8 + Math.clz32(x) - 24
  }
  return KEYSPACE_BYTES * 8
}

/** Refresh only targets buckets up to this prefix length (2^cpl hashes to find a key). */
export const MAX_REFRESH_CPL = 15

/**
 * A random 32-byte lookup key whose keyspace image shares exactly `cpl` leading bits with
 * `self`: looking it up refreshes that bucket. Found by trial (2^cpl sha256 on average), so
 * `cpl` is capped at MAX_REFRESH_CPL.
 */
export function randomKeyForBucket (self: Uint8Array, cpl: number): Uint8Array {
  const target = Math.min(cpl, MAX_REFRESH_CPL)
  for (;;) {
    const key = crypto.getRandomValues(new Uint8Array(KEYSPACE_BYTES))
    if (commonPrefixLength(toKadId(key), self) === target) return key
  }
}
