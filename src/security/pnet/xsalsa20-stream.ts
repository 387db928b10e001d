/**
 * An XSalsa20 keystream XORed over a byte stream of any chunking: the cipher works in 64-byte
 * blocks, so a chunk that ends inside a block leaves the rest of that block's keystream for
 * the next chunk. Whole blocks go through @noble/ciphers' xsalsa20 at the right block counter
 * in one call; only the ragged edges use the saved block.
 */
import { xsalsa20 } from '@noble/ciphers/salsa.js'
import { LimitExceededError } from '../../util/errors.ts'

const BLOCK = 64
/** noble exposes a 32-bit block counter: 2^32 blocks of 64 bytes (256 GiB) per direction. */
const MAX_BLOCKS = 2 ** 32

export class XSalsa20Stream {
  readonly #key: Uint8Array
  readonly #nonce: Uint8Array
  /** Bytes of keystream used so far. */
  #offset = 0
  readonly #block = new Uint8Array(BLOCK)
  readonly #zeros = new Uint8Array(BLOCK)

  constructor (key: Uint8Array, nonce: Uint8Array) {
    this.#key = key
    this.#nonce = nonce
  }

  /** XORs the next `input.length` keystream bytes over `input` into `output` (may be the same array). */
  xor (input: Uint8Array, output: Uint8Array = input): Uint8Array {
    let i = 0
    const n = input.length
    if (Math.floor((this.#offset + n) / BLOCK) >= MAX_BLOCKS) throw new LimitExceededError('the private network keystream is exhausted (256 GiB in one direction)')
    // The rest of a block a previous chunk started.
    let inBlock = this.#offset % BLOCK
    if (inBlock !== 0) {
      const take = Math.min(BLOCK - inBlock, n)
      for (; i < take; i++) output[i] = input[i] ^ this.#block[inBlock + i]
      this.#offset += take
      inBlock = this.#offset % BLOCK
    }
    // Whole blocks in one call.
    const whole = Math.floor((n - i) / BLOCK) * BLOCK
    if (whole > 0) {
      xsalsa20(this.#key, this.#nonce, input.subarray(i, i + whole), output.subarray(i, i + whole), this.#offset / BLOCK)
      i += whole
      this.#offset += whole
    }
    // A ragged tail starts a new block whose keystream is kept for the next chunk.
    if (i < n) {
      xsalsa20(this.#key, this.#nonce, this.#zeros, this.#block, this.#offset / BLOCK)
      const tail = n - i
      for (let j = 0; j < tail; j++) output[i + j] = input[i + j] ^ this.#block[j]
      this.#offset += tail
    }
    return output
  }
}
