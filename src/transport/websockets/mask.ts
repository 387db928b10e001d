/**
 * WebSocket masking (RFC 6455 §5.3): XOR with a 4-byte key, byte i with key[i % 4]. Done 32
 * bits at a time on the aligned middle of the buffer, several times faster than the byte loop
 * the `ws` library runs when its optional native addon is absent (it is, here: no native
 * builds). Used by our frame writer and, through fast-unmask.node.ts, by ws' receiver.
 */

// scratch for the rotated key, so a call allocates nothing but its one view
const keyWord = new Uint32Array(1)
const keyBytes = new Uint8Array(keyWord.buffer)

/** XORs `bytes` in place with `key` (4 bytes), byte 0 of `bytes` taking key[0]. */
export function maskInPlace (bytes: Uint8Array, key: Uint8Array): void {
  const length = bytes.length
  const k0 = key[0]; const k1 = key[1]; const k2 = key[2]; const k3 = key[3]
  // bytes before the first 4-byte boundary of the underlying buffer
  const head = Math.min(length, (4 - (bytes.byteOffset & 3)) & 3)
  for (let i = 0; i < head; i++) bytes[i] ^= key[i & 3]
  const words = (length - head) >>> 2
  if (words > 0) {
    // the key as it lines up with the aligned words (rotated by `head`), in the platform's byte order
    keyBytes[0] = key[head & 3]; keyBytes[1] = key[(head + 1) & 3]; keyBytes[2] = key[(head + 2) & 3]; keyBytes[3] = key[(head + 3) & 3]
    const word = keyWord[0]
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + head, words)
    for (let i = 0; i < words; i++) view[i] ^= word
  }
  for (let i = head + words * 4; i < length; i++) bytes[i] ^= (i & 3) === 0 ? k0 : (i & 3) === 1 ? k1 : (i & 3) === 2 ? k2 : k3
}
