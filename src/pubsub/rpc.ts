/**
 * The pubsub wire format (specs pubsub/README.md, gossipsub-v1.0/v1.1/v1.2): `RPC`, `Message`,
 * `ControlMessage` and their parts, with a bounded decoder and an exact-size encoder.
 *
 * Decoding keeps views into the input buffer (the caller owns a private copy of each RPC), and
 * remembers every message's encoded bytes (`raw`) so a router forwards a message without
 * re-encoding it. Field presence is kept exactly (undefined = absent, empty = present but
 * empty), because signatures cover the re-marshalled message and go marshals an empty,
 * non-nil `data` as a present field.
 *
 * Encoding computes the size first and writes once into a buffer that already has room for
 * the length prefix, so an outgoing RPC costs one allocation and no copies.
 */
import { InvalidMessageError } from '../util/errors.ts'
import { ProtobufReader, WIRE_LENGTH_DELIMITED } from '../util/protobuf.ts'
import { utf8Encode } from '../util/bytes.ts'
import { varintLength } from '../util/varint.ts'

export interface PubSubRpcMessage {
  /** The author's peer id multihash (StrictSign), absent with StrictNoSign. */
  from?: Uint8Array
  data?: Uint8Array
  /** 8 bytes, big-endian. */
  seqno?: Uint8Array
  topic: string
  signature?: Uint8Array
  /** The author's public key protobuf, when it cannot be inlined in `from`. */
  key?: Uint8Array
  /** The message exactly as it arrived (set by the decoder, reused when forwarding). */
  raw?: Uint8Array
}

export interface SubOpts {
  subscribe: boolean
  topic: string
}

export interface ControlIHave { topic: string, messageIds: Uint8Array[] }
export interface ControlIWant { messageIds: Uint8Array[] }
export interface ControlGraft { topic: string }
export interface PeerInfo { peerId?: Uint8Array, signedPeerRecord?: Uint8Array }
export interface ControlPrune { topic: string, peers: PeerInfo[], backoff?: number }
export interface ControlIDontWant { messageIds: Uint8Array[] }

export interface ControlMessage {
  ihave: ControlIHave[]
  iwant: ControlIWant[]
  graft: ControlGraft[]
  prune: ControlPrune[]
  idontwant: ControlIDontWant[]
}

export interface Rpc {
  subscriptions: SubOpts[]
  messages: PubSubRpcMessage[]
  control?: ControlMessage
}

export interface RpcLimits {
  /** Largest RPC accepted or sent, in bytes (default 1 MiB). */
  maxRpcSize: number
  maxSubscriptions: number
  maxMessages: number
  /** IHAVE + IWANT + GRAFT + PRUNE + IDONTWANT entries in one RPC. */
  maxControlEntries: number
  /** Message ids across all IHAVE, IWANT and IDONTWANT entries of one RPC. */
  maxMessageIds: number
  /** Peer infos across all PRUNE entries of one RPC. */
  maxPeerInfos: number
  maxTopicLength: number
  maxMessageIdLength: number
}

export const DEFAULT_RPC_LIMITS: Readonly<RpcLimits> = Object.freeze({
  maxRpcSize: 1024 * 1024,
  maxSubscriptions: 5000,
  maxMessages: 5000,
  maxControlEntries: 5000,
  maxMessageIds: 20_000,
  maxPeerInfos: 1000,
  maxTopicLength: 4096,
  maxMessageIdLength: 1024
})

export function emptyControl (): ControlMessage {
  return { ihave: [], iwant: [], graft: [], prune: [], idontwant: [] }
}

export function controlIsEmpty (c: ControlMessage): boolean {
  return c.ihave.length === 0 && c.iwant.length === 0 && c.graft.length === 0 && c.prune.length === 0 && c.idontwant.length === 0
}

// ---------------------------------------------------------------- decode --

/** Running totals that bound one RPC's repeated fields. */
interface Budget { ids: number, entries: number, peers: number }

function tooMany (what: string, max: number): never {
  throw new InvalidMessageError(`RPC has more than ${max} ${what}`)
}

/** Decodes one RPC; throws InvalidMessageError for malformed or over-limit input. */
export function decodeRpc (buf: Uint8Array, limits: RpcLimits = DEFAULT_RPC_LIMITS): Rpc {
  if (buf.length > limits.maxRpcSize) throw new InvalidMessageError(`RPC of ${buf.length} bytes exceeds ${limits.maxRpcSize}`)
  const rpc: Rpc = { subscriptions: [], messages: [] }
  const budget: Budget = { ids: 0, entries: 0, peers: 0 }
  const r = new ProtobufReader(buf)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1 && wire === WIRE_LENGTH_DELIMITED) {
      if (rpc.subscriptions.length >= limits.maxSubscriptions) tooMany('subscriptions', limits.maxSubscriptions)
      rpc.subscriptions.push(decodeSubOpts(r.bytes(wire), limits))
    } else if (field === 2 && wire === WIRE_LENGTH_DELIMITED) {
      if (rpc.messages.length >= limits.maxMessages) tooMany('messages', limits.maxMessages)
      rpc.messages.push(decodeMessage(r.bytes(wire), limits))
    } else if (field === 3 && wire === WIRE_LENGTH_DELIMITED) {
      // protobuf merges repeated occurrences of an embedded message
      rpc.control = decodeControl(r.bytes(wire), limits, budget, rpc.control)
    } else {
      r.skip(wire)
    }
  }
  return rpc
}

function decodeSubOpts (buf: Uint8Array, limits: RpcLimits): SubOpts {
  const out: SubOpts = { subscribe: false, topic: '' }
  const r = new ProtobufReader(buf)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.subscribe = r.bool(wire)
    else if (field === 2) out.topic = r.string(wire, limits.maxTopicLength)
    else r.skip(wire)
  }
  return out
}

/** Decodes one `Message`; `raw` is the input itself. */
export function decodeMessage (buf: Uint8Array, limits: RpcLimits = DEFAULT_RPC_LIMITS): PubSubRpcMessage {
  const out: PubSubRpcMessage = { topic: '', raw: buf }
  const r = new ProtobufReader(buf)
  while (!r.done) {
    const [field, wire] = r.tag()
    switch (field) {
      case 1: out.from = r.bytes(wire); break
      case 2: out.data = r.bytes(wire); break
      case 3: out.seqno = r.bytes(wire); break
      case 4: out.topic = r.string(wire, limits.maxTopicLength); break
      case 5: out.signature = r.bytes(wire); break
      case 6: out.key = r.bytes(wire); break
      default: r.skip(wire)
    }
  }
  return out
}

function decodeIds (r: ProtobufReader, wire: number, ids: Uint8Array[], limits: RpcLimits, budget: Budget): void {
  if (++budget.ids > limits.maxMessageIds) tooMany('message ids', limits.maxMessageIds)
  ids.push(r.bytes(wire, limits.maxMessageIdLength))
}

function countEntry (limits: RpcLimits, budget: Budget): void {
  if (++budget.entries > limits.maxControlEntries) tooMany('control entries', limits.maxControlEntries)
}

function decodeControl (buf: Uint8Array, limits: RpcLimits, budget: Budget, into?: ControlMessage): ControlMessage {
  const c = into ?? emptyControl()
  const r = new ProtobufReader(buf)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (wire !== WIRE_LENGTH_DELIMITED || field < 1 || field > 5) {
      r.skip(wire)
      continue
    }
    countEntry(limits, budget)
    const sub = new ProtobufReader(r.bytes(wire))
    switch (field) {
      case 1: {
        const e: ControlIHave = { topic: '', messageIds: [] }
        while (!sub.done) {
          const [f, w] = sub.tag()
          if (f === 1) e.topic = sub.string(w, limits.maxTopicLength)
          else if (f === 2) decodeIds(sub, w, e.messageIds, limits, budget)
          else sub.skip(w)
        }
        c.ihave.push(e)
        break
      }
      case 2:
      case 5: {
        const e = { messageIds: [] as Uint8Array[] }
        while (!sub.done) {
          const [f, w] = sub.tag()
          if (f === 1) decodeIds(sub, w, e.messageIds, limits, budget)
          else sub.skip(w)
        }
        if (field === 2) c.iwant.push(e)
        else c.idontwant.push(e)
        break
      }
      case 3: {
        const e: ControlGraft = { topic: '' }
        while (!sub.done) {
          const [f, w] = sub.tag()
          if (f === 1) e.topic = sub.string(w, limits.maxTopicLength)
          else sub.skip(w)
        }
        c.graft.push(e)
        break
      }
      case 4: {
        const e: ControlPrune = { topic: '', peers: [] }
        while (!sub.done) {
          const [f, w] = sub.tag()
          if (f === 1) e.topic = sub.string(w, limits.maxTopicLength)
          else if (f === 2) {
            if (++budget.peers > limits.maxPeerInfos) tooMany('prune peer infos', limits.maxPeerInfos)
            e.peers.push(decodePeerInfo(sub.bytes(w)))
          } else if (f === 3) e.backoff = Number(sub.uint64(w))
          else sub.skip(w)
        }
        c.prune.push(e)
        break
      }
    }
  }
  return c
}

function decodePeerInfo (buf: Uint8Array): PeerInfo {
  const out: PeerInfo = {}
  const r = new ProtobufReader(buf)
  while (!r.done) {
    const [f, w] = r.tag()
    if (f === 1) out.peerId = r.bytes(w)
    else if (f === 2) out.signedPeerRecord = r.bytes(w)
    else r.skip(w)
  }
  return out
}

// ---------------------------------------------------------------- encode --

/** UTF-8 bytes of recently used topic strings, so hot topics are encoded once. */
const topicBytesCache = new Map<string, Uint8Array>()
const TOPIC_CACHE_SIZE = 1024

export function topicBytes (topic: string): Uint8Array {
  let b = topicBytesCache.get(topic)
  if (b === undefined) {
    if (topicBytesCache.size >= TOPIC_CACHE_SIZE) topicBytesCache.clear()
    b = utf8Encode(topic)
    topicBytesCache.set(topic, b)
  }
  return b
}

/** Size of a length-delimited field (tag < 128) holding `n` bytes. */
function ldSize (n: number): number {
  return 1 + varintLength(n) + n
}

class Writer {
  readonly buf: Uint8Array
  pos: number

  constructor (buf: Uint8Array, pos: number) {
    this.buf = buf
    this.pos = pos
  }

  varint (v: number): void {
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80
      v = v >= 0x80000000 ? Math.floor(v / 0x80) : v >>> 7
    }
    this.buf[this.pos++] = v
  }

  /** A length-delimited field with a one-byte tag. */
  ld (field: number, b: Uint8Array): void {
    this.buf[this.pos++] = (field << 3) | 2
    this.varint(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }

  /** Opens an embedded message of a known size. */
  open (field: number, size: number): void {
    this.buf[this.pos++] = (field << 3) | 2
    this.varint(size)
  }
}

/** Encoded size of a message without its signature and key when `unsigned` is set. */
export function messageSize (m: PubSubRpcMessage, unsigned = false): number {
  if (m.raw !== undefined && !unsigned) return m.raw.length
  let n = ldSize(topicBytes(m.topic).length)
  if (m.from !== undefined) n += ldSize(m.from.length)
  if (m.data !== undefined) n += ldSize(m.data.length)
  if (m.seqno !== undefined) n += ldSize(m.seqno.length)
  if (!unsigned) {
    if (m.signature !== undefined) n += ldSize(m.signature.length)
    if (m.key !== undefined) n += ldSize(m.key.length)
  }
  return n
}

function writeMessage (w: Writer, m: PubSubRpcMessage, unsigned = false): void {
  if (m.raw !== undefined && !unsigned) {
    w.buf.set(m.raw, w.pos)
    w.pos += m.raw.length
    return
  }
  if (m.from !== undefined) w.ld(1, m.from)
  if (m.data !== undefined) w.ld(2, m.data)
  if (m.seqno !== undefined) w.ld(3, m.seqno)
  w.ld(4, topicBytes(m.topic))
  if (!unsigned) {
    if (m.signature !== undefined) w.ld(5, m.signature)
    if (m.key !== undefined) w.ld(6, m.key)
  }
}

/** `Message` bytes; with `unsigned`, without signature and key (what gets signed). */
export function encodeMessage (m: PubSubRpcMessage, unsigned = false, prefix?: Uint8Array): Uint8Array {
  const size = messageSize(m, unsigned)
  const pre = prefix?.length ?? 0
  const buf = new Uint8Array(pre + size)
  if (prefix !== undefined) buf.set(prefix)
  const w = new Writer(buf, pre)
  writeMessage(w, m, unsigned)
  return buf
}

function idsSize (ids: Uint8Array[]): number {
  let n = 0
  for (const id of ids) n += ldSize(id.length)
  return n
}

function peerInfoSize (p: PeerInfo): number {
  let n = 0
  if (p.peerId !== undefined) n += ldSize(p.peerId.length)
  if (p.signedPeerRecord !== undefined) n += ldSize(p.signedPeerRecord.length)
  return n
}

function pruneSize (p: ControlPrune): number {
  let n = ldSize(topicBytes(p.topic).length)
  for (const info of p.peers) n += ldSize(peerInfoSize(info))
  if (p.backoff !== undefined) n += 1 + varintLength(p.backoff)
  return n
}

function ihaveSize (e: ControlIHave): number {
  return ldSize(topicBytes(e.topic).length) + idsSize(e.messageIds)
}

export function controlSize (c: ControlMessage): number {
  let n = 0
  for (const e of c.ihave) n += ldSize(ihaveSize(e))
  for (const e of c.iwant) n += ldSize(idsSize(e.messageIds))
  for (const e of c.graft) n += ldSize(ldSize(topicBytes(e.topic).length))
  for (const e of c.prune) n += ldSize(pruneSize(e))
  for (const e of c.idontwant) n += ldSize(idsSize(e.messageIds))
  return n
}

function writeControl (w: Writer, c: ControlMessage): void {
  for (const e of c.ihave) {
    w.open(1, ihaveSize(e))
    w.ld(1, topicBytes(e.topic))
    for (const id of e.messageIds) w.ld(2, id)
  }
  for (const e of c.iwant) {
    w.open(2, idsSize(e.messageIds))
    for (const id of e.messageIds) w.ld(1, id)
  }
  for (const e of c.graft) {
    const t = topicBytes(e.topic)
    w.open(3, ldSize(t.length))
    w.ld(1, t)
  }
  for (const e of c.prune) {
    w.open(4, pruneSize(e))
    w.ld(1, topicBytes(e.topic))
    for (const info of e.peers) {
      w.open(2, peerInfoSize(info))
      if (info.peerId !== undefined) w.ld(1, info.peerId)
      if (info.signedPeerRecord !== undefined) w.ld(2, info.signedPeerRecord)
    }
    if (e.backoff !== undefined) {
      w.buf[w.pos++] = 3 << 3
      w.varint(e.backoff)
    }
  }
  for (const e of c.idontwant) {
    w.open(5, idsSize(e.messageIds))
    for (const id of e.messageIds) w.ld(1, id)
  }
}

function subSize (s: SubOpts): number {
  return 2 + ldSize(topicBytes(s.topic).length)
}

/** Encoded size of an RPC (without the length prefix). */
export function rpcSize (rpc: Rpc): number {
  let n = 0
  for (const s of rpc.subscriptions) n += ldSize(subSize(s))
  for (const m of rpc.messages) n += ldSize(messageSize(m))
  if (rpc.control !== undefined && !controlIsEmpty(rpc.control)) n += ldSize(controlSize(rpc.control))
  return n
}

function encodeInto (rpc: Rpc, size: number, withLengthPrefix: boolean): Uint8Array {
  const prefix = withLengthPrefix ? varintLength(size) : 0
  const buf = new Uint8Array(prefix + size)
  const w = new Writer(buf, 0)
  if (withLengthPrefix) w.varint(size)
  for (const s of rpc.subscriptions) {
    w.open(1, subSize(s))
    w.buf[w.pos++] = 1 << 3
    w.buf[w.pos++] = s.subscribe ? 1 : 0
    w.ld(2, topicBytes(s.topic))
  }
  for (const m of rpc.messages) {
    w.open(2, messageSize(m))
    writeMessage(w, m)
  }
  if (rpc.control !== undefined && !controlIsEmpty(rpc.control)) {
    w.open(3, controlSize(rpc.control))
    writeControl(w, rpc.control)
  }
  return buf
}

export function encodeRpc (rpc: Rpc): Uint8Array {
  return encodeInto(rpc, rpcSize(rpc), false)
}

/** `uvarint(length) || RPC` in one buffer, ready to send on a stream. */
export function encodeRpcFrame (rpc: Rpc): Uint8Array {
  return encodeInto(rpc, rpcSize(rpc), true)
}
