/**
 * Input mutations for the coverage-guided fuzzer (engine.ts). Besides the byte-level ones every
 * fuzzer has (bit flips, interesting bytes, arithmetic, inserts, deletes, duplicated slices,
 * splices with another corpus entry), some know the shapes libp2p's formats are made of:
 * unsigned LEB128 varints (protobuf fields, multistream and mplex length prefixes), QUIC's
 * 2-bit-prefixed varints, big-endian 16/24-bit lengths (TLS vectors, NAT-PMP fields), and
 * length prefixes that are made to match, undershoot or overshoot what follows them. A
 * dictionary of protocol ids and tokens is spliced in so multistream and text decoders get past
 * their string compares, which byte mutations alone almost never do.
 */

/** A small seeded PRNG (splitmix32), so a run is reproducible from its seed. */
export class Random {
  private state: number

  constructor (seed: number) {
    this.state = seed >>> 0
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  next (): number {
    let z = (this.state = (this.state + 0x9e3779b9) >>> 0)
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }

  /** An integer in [0, n). */
  below (n: number): number {
    return n <= 1 ? 0 : this.next() % n
  }

  pick<T> (list: readonly T[]): T {
    return list[this.below(list.length)]
  }
}

const utf8 = new TextEncoder()

/** Tokens libp2p's decoders compare against; targets may add their own. */
export const BASE_DICTIONARY: readonly Uint8Array[] = [
  '/multistream/1.0.0\n', '/noise', '/tls/1.0.0', '/yamux/1.0.0', '/mplex/6.7.0', '/ipfs/id/1.0.0',
  '/ipfs/id/push/1.0.0', '/ipfs/ping/1.0.0', '/ipfs/kad/1.0.0', '/meshsub/1.1.0', '/floodsub/1.0.0',
  '/libp2p/circuit/relay/0.2.0/hop', '/libp2p/circuit/relay/0.2.0/stop', '/libp2p/dcutr', 'na\n', 'ls\n',
  '\n', '/ip4/', '/ip6/', '/tcp/', '/udp/', '/quic-v1', '/p2p/', '/key/swarm/psk/1.0.0/', '/base16/', '/base64/',
  'libp2p-peer-record', 'libp2p-tls-handshake:', 'noise-libp2p-static-key:'
].map(s => utf8.encode(s))

/** Values where decoders have boundaries: one and two-byte varint edges, 2^31, 2^32, 2^53. */
const INTERESTING_NUMBERS = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x4000, 0xffff, 0x10000, 2 ** 21, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]
const INTERESTING_BYTES = [0, 1, 0x7f, 0x80, 0xff, 0x40, 0x3f, 0xc0, 0x20, 0x0a]

export function encodeLeb128 (value: number): Uint8Array {
  const out: number[] = []
  let v = value
  while (v >= 0x80) { out.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80) }
  out.push(v)
  return Uint8Array.from(out)
}

/** Reads a LEB128 varint at `at` (at most 10 bytes); undefined when none ends there. */
function readLeb128 (b: Uint8Array, at: number): { value: number, end: number } | undefined {
  let value = 0
  let scale = 1
  for (let i = at; i < b.length && i < at + 10; i++) {
    value += (b[i] & 0x7f) * scale
    scale *= 0x80
    if ((b[i] & 0x80) === 0) return { value, end: i + 1 }
  }
  return undefined
}

function encodeQuicVarint (value: number): Uint8Array {
  if (value < 0x40) return Uint8Array.of(value)
  if (value < 0x4000) return Uint8Array.of(0x40 | (value >> 8), value & 0xff)
  if (value < 2 ** 30) return Uint8Array.of(0x80 | (value >>> 24), (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff)
  const hi = Math.floor(value / 2 ** 32)
  return Uint8Array.of(0xc0 | ((hi >>> 24) & 0x3f), (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff, (value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff)
}

function replace (b: Uint8Array, start: number, end: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length - (end - start) + insert.length)
  out.set(b.subarray(0, start), 0)
  out.set(insert, start)
  out.set(b.subarray(end), start + insert.length)
  return out
}

export interface MutationContext {
  random: Random
  /** Other corpus entries, for splices. */
  corpus: readonly Uint8Array[]
  dictionary: readonly Uint8Array[]
  maxLength: number
}

type Mutator = (b: Uint8Array, c: MutationContext) => Uint8Array

const mutators: Mutator[] = [
  // flip one bit
  (b, { random }) => { if (b.length === 0) return b; const o = b.slice(); o[random.below(o.length)] ^= 1 << random.below(8); return o },
  // a random byte
  (b, { random }) => { if (b.length === 0) return b; const o = b.slice(); o[random.below(o.length)] = random.below(256); return o },
  // an interesting byte
  (b, { random }) => { if (b.length === 0) return b; const o = b.slice(); o[random.below(o.length)] = random.pick(INTERESTING_BYTES); return o },
  // small arithmetic on a byte
  (b, { random }) => { if (b.length === 0) return b; const o = b.slice(); const i = random.below(o.length); o[i] = (o[i] + random.below(71) - 35) & 0xff; return o },
  // insert 1-8 random bytes
  (b, { random }) => {
    const n = 1 + random.below(8)
    const bytes = new Uint8Array(n)
    for (let i = 0; i < n; i++) bytes[i] = random.below(256)
    const at = random.below(b.length + 1)
    return replace(b, at, at, bytes)
  },
  // delete a slice
  (b, { random }) => { if (b.length === 0) return b; const at = random.below(b.length); const n = 1 + random.below(Math.min(16, b.length - at)); return replace(b, at, at + n, new Uint8Array(0)) },
  // duplicate a slice somewhere else
  (b, { random }) => { if (b.length === 0) return b; const at = random.below(b.length); const n = 1 + random.below(Math.min(64, b.length - at)); const to = random.below(b.length + 1); return replace(b, to, to, b.slice(at, at + n)) },
  // splice: a prefix of this input and a suffix of another corpus entry
  (b, { random, corpus }) => {
    const other = random.pick(corpus)
    if (other === undefined || other.length === 0) return b
    const cut = random.below(b.length + 1)
    const from = random.below(other.length)
    return replace(b, cut, b.length, other.subarray(from))
  },
  // insert a dictionary token
  (b, { random, dictionary }) => { const at = random.below(b.length + 1); return replace(b, at, at, random.pick(dictionary)) },
  // overwrite with a dictionary token
  (b, { random, dictionary }) => { const token = random.pick(dictionary); const at = random.below(b.length + 1); return replace(b, at, Math.min(b.length, at + token.length), token) },
  // replace a LEB128 varint with an interesting value (an overlong 10-byte one included)
  (b, { random }) => {
    const at = random.below(b.length + 1)
    const found = readLeb128(b, at)
    const end = found?.end ?? at
    const value = random.below(8) === 0 ? Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01) : encodeLeb128(random.pick(INTERESTING_NUMBERS))
    return replace(b, at, end, value)
  },
  // make a LEB128 length prefix match what follows it, or miss by a little
  (b, { random }) => {
    const at = random.below(b.length)
    const found = readLeb128(b, at)
    if (found === undefined) return b
    const remaining = b.length - found.end
    const value = Math.max(0, remaining + random.pick([0, 0, 0, 1, -1, 2, -2, 100]))
    return replace(b, at, found.end, encodeLeb128(value))
  },
  // a big-endian 16 or 24-bit length (TLS vectors, NAT-PMP fields) set to what follows, or an edge
  (b, { random }) => {
    if (b.length < 3) return b
    const width = random.below(2) === 0 ? 2 : 3
    const at = random.below(b.length - width + 1)
    const remaining = b.length - at - width
    const value = random.below(2) === 0 ? remaining : random.pick(INTERESTING_NUMBERS) % (2 ** (8 * width))
    const o = b.slice()
    for (let i = 0; i < width; i++) o[at + i] = Math.floor(value / 2 ** (8 * (width - 1 - i))) & 0xff
    return o
  },
  // a QUIC varint (2-bit length prefix) with an interesting value
  (b, { random }) => { const at = random.below(b.length + 1); return replace(b, at, Math.min(b.length, at + 1 + random.below(2)), encodeQuicVarint(random.pick(INTERESTING_NUMBERS))) },
  // truncate
  (b, { random }) => b.subarray(0, random.below(b.length + 1))
]

/**
 * Stacked mutations of `input` (one in half the cases, two in a quarter, ... at most eight: a
 * step past one compare is rarely undone by the others), cut to the maximum length.
 */
export function mutate (input: Uint8Array, context: MutationContext): Uint8Array {
  let out = input
  let count = 1
  while (count < 8 && context.random.below(2) === 0) count++
  for (let i = 0; i < count; i++) out = context.random.pick(mutators)(out, context)
  return out.length > context.maxLength ? out.subarray(0, context.maxLength) : out
}
