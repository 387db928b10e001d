/**
 * Decoder of the HPACK Huffman code (RFC 7541 section 5.2, Appendix B), which QPACK uses for
 * string literals: browsers Huffman-encode their request headers whenever it is shorter. We
 * only decode; our own literals go out unencoded (allowed, and our fields are few and short).
 *
 * The code is walked bit by bit through a binary trie built once from the table. Header
 * strings are small and bounded by the caller, so the simple walk costs nothing that matters.
 */
import { HUFFMAN_CODES, HUFFMAN_CODE_LENGTHS } from './qpack-tables.ts'
import { Http3Error, Http3ErrorCode } from './errors.ts'

const EOS = 256
/** trie[2n] / trie[2n+1]: child of node n for bit 0 / 1; >= 0 a node, < 0 a leaf (-1 - symbol). */
let trie: Int32Array | undefined

function buildTrie (): Int32Array {
  const nodes = new Int32Array(2 * 520).fill(0)
  let next = 1
  const insert = (code: number, length: number, symbol: number): void => {
    let node = 0
    for (let bit = length - 1; bit >= 0; bit--) {
      const b = Math.floor(code / 2 ** bit) % 2
      const slot = 2 * node + b
      if (bit === 0) {
        nodes[slot] = -1 - symbol
      } else {
        if (nodes[slot] === 0) nodes[slot] = next++
        node = nodes[slot]
      }
    }
  }
  for (let s = 0; s < 256; s++) insert(HUFFMAN_CODES[s], HUFFMAN_CODE_LENGTHS[s], s)
  insert(0x3fffffff, 30, EOS)
  return nodes
}

function fail (message: string): never {
  throw new Http3Error(`Huffman: ${message}`, Http3ErrorCode.QPACK_DECOMPRESSION_FAILED)
}

/** Decodes `input`; the result is at most `maxLength` bytes long (longer is an error). */
export function huffmanDecode (input: Uint8Array, maxLength: number): Uint8Array {
  trie ??= buildTrie()
  // No symbol is shorter than 5 bits, so the output is at most 8/5 of the input.
  const out = new Uint8Array(Math.min(maxLength, Math.ceil(input.length * 8 / 5)))
  let length = 0
  let node = 0
  let bitsInSymbol = 0
  let allOnes = true
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]
    for (let bit = 7; bit >= 0; bit--) {
      const b = (byte >> bit) & 1
      const child = trie[2 * node + b]
      bitsInSymbol++
      if (b === 0) allOnes = false
      if (child < 0) {
        const symbol = -1 - child
        if (symbol === EOS) fail('EOS symbol inside a string')
        if (length >= out.length) fail(`string longer than ${maxLength} bytes`)
        out[length++] = symbol
        node = 0
        bitsInSymbol = 0
        allOnes = true
      } else if (child === 0) {
        fail('invalid code')
      } else {
        node = child
      }
    }
  }
  // What is left must be padding: a prefix of EOS (all ones), shorter than a byte.
  if (bitsInSymbol > 7) fail('padding longer than 7 bits')
  if (!allOnes) fail('padding is not a prefix of EOS')
  return out.subarray(0, length)
}
