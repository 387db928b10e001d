/**
 * Deterministic randomness for tests and benchmarks: xorshift32, so a failing topology, key
 * set or payload can be replayed from its seed.
 */

/** Numbers in [0, 1) from `seed` (0 counts as 1: xorshift has no zero state). */
export function rng (seed: number): () => number {
  const next = xorshift32(seed)
  return () => next() / 0x100000000
}

/** Pseudo-random bytes, different per seed and the same for the same seed. */
export function seededBytes (length: number, seed: number = 1): Uint8Array {
  const next = xorshift32(Math.imul(seed, 2654435761))
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = next() & 0xff
  return out
}

function xorshift32 (seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    return x
  }
}
