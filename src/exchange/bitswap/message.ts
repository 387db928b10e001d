/**
 * Bitswap messages (ipfs/specs bitswap-protocol.md), one codec for 1.0.0, 1.1.0 and 1.2.0:
 *
 * ```
 * Message { Wantlist wantlist = 1; repeated bytes blocks = 2 (1.0.0);
 *           repeated Block payload = 3 (1.1.0+); repeated BlockPresence blockPresences = 4;
 *           int32 pendingBytes = 5 }                                               (1.2.0)
 * Wantlist { repeated Entry entries = 1; bool full = 2 }
 * Entry { bytes block = 1 (CID); int32 priority = 2; bool cancel = 3;
 *         WantType wantType = 4 (Block 0, Have 1); bool sendDontHave = 5 }
 * Block { bytes prefix = 1; bytes data = 2 }    BlockPresence { bytes cid = 1; type = 2 (Have 0, DontHave 1) }
 * ```
 *
 * The decoder is bounded: the whole message by the stream reader (4 MiB), each block by 2 MiB,
 * each CID by 128 bytes, and entries, blocks and presences by counts; any violation is an
 * InvalidMessageError (or MessageTooLargeError). Blocks and CIDs stay views of the message (no
 * copy); decoding CIDs and hashing blocks is left to the caller, which knows what it wants.
 * The encoder writes what the peer's protocol version understands (`encodeMessage(msg, version)`).
 */
import { ProtobufReader } from '../../util/protobuf.ts'
import { decodeVarint, encodeVarintInto, varintLength } from '../../util/varint.ts'
import { InvalidMessageError, MessageTooLargeError } from '../../util/errors.ts'

export const BITSWAP_120 = '/ipfs/bitswap/1.2.0'
export const BITSWAP_110 = '/ipfs/bitswap/1.1.0'
export const BITSWAP_100 = '/ipfs/bitswap/1.0.0'
/** The id of 1.0.0 before versions were spelled out; go still answers it. */
export const BITSWAP_LEGACY = '/ipfs/bitswap'
/** Our preference when opening a stream. */
export const BITSWAP_PROTOCOLS = [BITSWAP_120, BITSWAP_110, BITSWAP_100, BITSWAP_LEGACY]

export type BitswapVersion = '1.0.0' | '1.1.0' | '1.2.0'

export function versionOf (protocol: string): BitswapVersion {
  if (protocol === BITSWAP_120) return '1.2.0'
  if (protocol === BITSWAP_110) return '1.1.0'
  return '1.0.0'
}

/** The spec's limits: every implementation sends and takes messages up to 4 MiB and blocks up to 2 MiB. */
export const MAX_MESSAGE_SIZE = 4 * 1024 * 1024
export const MAX_BLOCK_SIZE = 2 * 1024 * 1024
export const MAX_CID_LENGTH = 128

export const WANT_BLOCK = 0
export const WANT_HAVE = 1
export const PRESENCE_HAVE = 0
export const PRESENCE_DONT_HAVE = 1

export interface WantlistEntry {
  /** CID bytes (a CIDv0 = multihash in 1.0.0). */
  cid: Uint8Array
  priority: number
  cancel: boolean
  wantType: number
  sendDontHave: boolean
}

export interface MessageBlock {
  /** The CID prefix (1.1.0+); undefined for a 1.0.0 block, which is dag-pb sha2-256 CIDv0. */
  prefix?: Uint8Array
  data: Uint8Array
}

export interface BlockPresence {
  cid: Uint8Array
  type: number
}

export interface BitswapMessage {
  wantlist?: { entries: WantlistEntry[], full: boolean }
  blocks: MessageBlock[]
  presences: BlockPresence[]
  pendingBytes: number
}

export interface DecodeLimits {
  /** Wantlist entries in one message (default 8192). */
  maxEntries?: number
  /** Blocks in one message (default 1024). */
  maxBlocks?: number
  /** Presences in one message (default 8192). */
  maxPresences?: number
}

export function emptyMessage (): BitswapMessage {
  return { blocks: [], presences: [], pendingBytes: 0 }
}

function decodeEntry (bytes: Uint8Array): WantlistEntry {
  const r = new ProtobufReader(bytes)
  const entry: WantlistEntry = { cid: new Uint8Array(0), priority: 1, cancel: false, wantType: WANT_BLOCK, sendDontHave: false }
  let hasCid = false
  while (!r.done) {
    const [field, wire] = r.tag()
    switch (field) {
      case 1: entry.cid = r.bytes(wire, MAX_CID_LENGTH); hasCid = true; break
      // int32: negative values arrive as 10-byte varints; keep the low 32 bits, signed
      case 2: entry.priority = Number(BigInt.asIntN(32, r.uint64(wire))); break
      case 3: entry.cancel = r.bool(wire); break
      case 4: entry.wantType = r.uint(wire); break
      case 5: entry.sendDontHave = r.bool(wire); break
      default: r.skip(wire)
    }
  }
  if (!hasCid) throw new InvalidMessageError('bitswap wantlist entry without a CID')
  if (entry.wantType !== WANT_BLOCK && entry.wantType !== WANT_HAVE) throw new InvalidMessageError(`bitswap want type ${entry.wantType}`)
  return entry
}

function decodeBlock (bytes: Uint8Array): MessageBlock {
  const r = new ProtobufReader(bytes)
  let prefix: Uint8Array | undefined
  let data: Uint8Array | undefined
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) prefix = r.bytes(wire, 64)
    else if (field === 2) data = r.bytes(wire, MAX_BLOCK_SIZE)
    else r.skip(wire)
  }
  if (prefix === undefined) throw new InvalidMessageError('bitswap payload block without a CID prefix')
  return { prefix, data: data ?? new Uint8Array(0) }
}

function decodePresence (bytes: Uint8Array): BlockPresence {
  const r = new ProtobufReader(bytes)
  let cid: Uint8Array | undefined
  let type = PRESENCE_HAVE
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) cid = r.bytes(wire, MAX_CID_LENGTH)
    else if (field === 2) type = r.uint(wire)
    else r.skip(wire)
  }
  if (cid === undefined) throw new InvalidMessageError('bitswap block presence without a CID')
  if (type !== PRESENCE_HAVE && type !== PRESENCE_DONT_HAVE) throw new InvalidMessageError(`bitswap presence type ${type}`)
  return { cid, type }
}

function bounded<T> (list: T[], item: T, max: number, what: string): void {
  if (list.length >= max) throw new InvalidMessageError(`bitswap message has more than ${max} ${what}`)
  list.push(item)
}

/** Decodes one message (the bytes of one length-prefixed frame). */
export function decodeMessage (bytes: Uint8Array, limits: DecodeLimits = {}): BitswapMessage {
  if (bytes.length > MAX_MESSAGE_SIZE) throw new MessageTooLargeError(`bitswap message of ${bytes.length} bytes exceeds ${MAX_MESSAGE_SIZE}`)
  const maxEntries = limits.maxEntries ?? 8192
  const maxBlocks = limits.maxBlocks ?? 1024
  const maxPresences = limits.maxPresences ?? 8192
  const msg = emptyMessage()
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    switch (field) {
      case 1: {
        const w = new ProtobufReader(r.bytes(wire))
        const wantlist = msg.wantlist ?? { entries: [], full: false }
        msg.wantlist = wantlist
        while (!w.done) {
          const [f, wt] = w.tag()
          if (f === 1) bounded(wantlist.entries, decodeEntry(w.bytes(wt)), maxEntries, 'wantlist entries')
          else if (f === 2) wantlist.full = w.bool(wt)
          else w.skip(wt)
        }
        break
      }
      case 2: bounded(msg.blocks, { data: r.bytes(wire, MAX_BLOCK_SIZE) }, maxBlocks, 'blocks'); break
      case 3: bounded(msg.blocks, decodeBlock(r.bytes(wire)), maxBlocks, 'blocks'); break
      case 4: bounded(msg.presences, decodePresence(r.bytes(wire)), maxPresences, 'block presences'); break
      case 5: msg.pendingBytes = Math.max(0, Number(BigInt.asIntN(32, r.uint64(wire)))); break
      default: r.skip(wire)
    }
  }
  return msg
}

function ld (field: number, length: number): number {
  return varintLength(field << 3) + varintLength(length) + length
}

function int32Length (v: number): number {
  // negative int32s are sign-extended to 10 bytes, as protobuf does
  return v < 0 ? 10 : varintLength(v)
}

/** Byte writer over one exactly sized buffer. */
class Out {
  readonly buf: Uint8Array
  pos: number
  constructor (size: number, start = 0) { this.buf = new Uint8Array(size); this.pos = start }
  varint (v: number): void { this.pos = encodeVarintInto(v, this.buf, this.pos) }
  int32 (v: number): void {
    if (v >= 0) { this.varint(v); return }
    let x = BigInt.asUintN(64, BigInt(v))
    for (let i = 0; i < 9; i++) { this.buf[this.pos++] = Number(x & 0x7fn) | 0x80; x >>= 7n }
    this.buf[this.pos++] = Number(x)
  }
  header (field: number, length: number): void { this.varint((field << 3) | 2); this.varint(length) }
  bytes (field: number, b: Uint8Array): void { this.header(field, b.length); this.buf.set(b, this.pos); this.pos += b.length }
}

/**
 * Encodes a message for a peer speaking `version`, already length-prefixed for the stream, in one
 * buffer of the exact size (each block is copied once, straight into it). 1.0.0 gets raw blocks
 * (field 2) and plain entries, 1.1.0 prefixed blocks (field 3), 1.2.0 also want types,
 * presences and pending bytes. The caller leaves out what the version cannot carry (a want-have,
 * a CIDv1 for 1.0.0).
 */
export function encodeMessageLP (msg: BitswapMessage, version: BitswapVersion): Uint8Array {
  const v12 = version === '1.2.0'
  const entrySizes: number[] = []
  let wantlistSize = 0
  if (msg.wantlist !== undefined) {
    for (const e of msg.wantlist.entries) {
      let n = ld(1, e.cid.length)
      if (e.priority !== 0) n += 1 + int32Length(e.priority)
      if (e.cancel) n += 2
      if (v12 && e.wantType !== WANT_BLOCK) n += 1 + varintLength(e.wantType)
      if (v12 && e.sendDontHave) n += 2
      entrySizes.push(n)
      wantlistSize += ld(1, n)
    }
    if (msg.wantlist.full) wantlistSize += 2
  }
  const blockSizes: number[] = []
  let size = msg.wantlist !== undefined ? ld(1, wantlistSize) : 0
  for (const b of msg.blocks) {
    if (version === '1.0.0') {
      size += ld(2, b.data.length)
    } else {
      const n = ld(1, b.prefix?.length ?? 0) + ld(2, b.data.length)
      blockSizes.push(n)
      size += ld(3, n)
    }
  }
  const presenceSizes: number[] = []
  if (v12) {
    for (const p of msg.presences) {
      const n = ld(1, p.cid.length) + (p.type !== PRESENCE_HAVE ? 2 : 0)
      presenceSizes.push(n)
      size += ld(4, n)
    }
    if (msg.pendingBytes > 0) size += 1 + int32Length(msg.pendingBytes)
  }
  const prefixLength = varintLength(size)
  const out = new Out(prefixLength + size)
  out.varint(size)
  if (msg.wantlist !== undefined) {
    out.header(1, wantlistSize)
    msg.wantlist.entries.forEach((e, i) => {
      out.header(1, entrySizes[i])
      out.bytes(1, e.cid)
      if (e.priority !== 0) { out.varint(2 << 3); out.int32(e.priority) }
      if (e.cancel) { out.varint(3 << 3); out.varint(1) }
      if (v12 && e.wantType !== WANT_BLOCK) { out.varint(4 << 3); out.varint(e.wantType) }
      if (v12 && e.sendDontHave) { out.varint(5 << 3); out.varint(1) }
    })
    if (msg.wantlist.full) { out.varint(2 << 3); out.varint(1) }
  }
  msg.blocks.forEach((b, i) => {
    if (version === '1.0.0') {
      out.bytes(2, b.data)
    } else {
      out.header(3, blockSizes[i])
      out.bytes(1, b.prefix ?? new Uint8Array(0))
      out.bytes(2, b.data)
    }
  })
  if (v12) {
    msg.presences.forEach((p, i) => {
      out.header(4, presenceSizes[i])
      out.bytes(1, p.cid)
      if (p.type !== PRESENCE_HAVE) { out.varint(2 << 3); out.varint(p.type) }
    })
    if (msg.pendingBytes > 0) { out.varint(5 << 3); out.int32(msg.pendingBytes) }
  }
  if (out.pos !== out.buf.length) throw new Error(`bitswap encoder wrote ${out.pos} of ${out.buf.length} bytes`)
  return out.buf
}

/** The message bytes without the length prefix (tests, fuzzing). */
export function encodeMessage (msg: BitswapMessage, version: BitswapVersion): Uint8Array {
  const framed = encodeMessageLP(msg, version)
  const r = decodeVarint(framed, 0)
  return framed.subarray(r === undefined ? 0 : r[1])
}
