/**
 * The p2pd control protocol messages (go-libp2p-daemon pb/p2pd.proto, plus the PEERSTORE
 * request type 9 of the js and Python clients), written and read by hand over
 * util/protobuf.ts. On the control socket every message is uvarint-length-prefixed; peer ids
 * are multihash bytes and addresses binary multiaddrs.
 *
 * Decoders are bounded: the frame itself is capped at MAX_CONTROL_MESSAGE_SIZE (p2pd's 4 MiB),
 * every repeated field has a count limit and every address/protocol a length limit, so a
 * hostile client gets InvalidMessageError / MessageTooLargeError, never a large allocation.
 * Byte fields are views into the input; a caller that keeps them past the next read copies.
 */
import { MessageTooLargeError } from '../util/errors.ts'
import { ProtobufReader, ProtobufWriter, pushBounded } from '../util/protobuf.ts'
import { decodeNotifyRequest, encodeNotifyRequest, type NotifyRequest } from './event-messages.ts'

/** p2pd's network.MessageSizeMax; the js daemon server uses the same 1 << 22. */
export const MAX_CONTROL_MESSAGE_SIZE = 4 * 1024 * 1024
export const MAX_ADDRS_PER_PEER = 128
export const MAX_ADDR_LENGTH = 1024
export const MAX_PROTOCOLS = 128
export const MAX_STRING_LENGTH = 1024
export const MAX_PEERS_PER_RESPONSE = 16 * 1024
export const MAX_TOPICS = 16 * 1024

export const RequestType = {
  IDENTIFY: 0,
  CONNECT: 1,
  STREAM_OPEN: 2,
  STREAM_HANDLER: 3,
  DHT: 4,
  LIST_PEERS: 5,
  CONNMANAGER: 6,
  DISCONNECT: 7,
  PUBSUB: 8,
  PEERSTORE: 9,
  /** Ours: connection and stream notifications (docs/daemon/notifications.md). */
  NOTIFY: 10
} as const

export const ResponseType = { OK: 0, ERROR: 1 } as const

export const DHTRequestType = {
  FIND_PEER: 0,
  FIND_PEERS_CONNECTED_TO_PEER: 1,
  FIND_PROVIDERS: 2,
  GET_CLOSEST_PEERS: 3,
  GET_PUBLIC_KEY: 4,
  GET_VALUE: 5,
  SEARCH_VALUE: 6,
  PUT_VALUE: 7,
  PROVIDE: 8
} as const

export const DHTResponseType = { BEGIN: 0, VALUE: 1, END: 2 } as const
export const ConnManagerRequestType = { TAG_PEER: 0, UNTAG_PEER: 1, TRIM: 2 } as const
export const PSRequestType = { GET_TOPICS: 0, LIST_PEERS: 1, PUBLISH: 2, SUBSCRIBE: 3 } as const
export const PeerstoreRequestType = { UNSPECIFIED: 0, GET_PROTOCOLS: 1, GET_PEER_INFO: 2 } as const

export interface PeerInfo { id: Uint8Array, addrs: Uint8Array[] }
export interface ConnectRequest { peer: Uint8Array, addrs: Uint8Array[], timeout?: number }
export interface StreamOpenRequest { peer: Uint8Array, proto: string[], timeout?: number }
export interface StreamHandlerRequest { addr: Uint8Array, proto: string[] }
export interface StreamInfo { peer: Uint8Array, addr: Uint8Array, proto: string }
export interface DisconnectRequest { peer: Uint8Array }
export interface DHTRequest { type: number, peer?: Uint8Array, cid?: Uint8Array, key?: Uint8Array, value?: Uint8Array, count?: number, timeout?: number }
export interface DHTResponse { type: number, peer?: PeerInfo, value?: Uint8Array }
export interface ConnManagerRequest { type: number, peer?: Uint8Array, tag?: string, weight?: number }
export interface PSRequest { type: number, topic?: string, data?: Uint8Array }
export interface PSMessage { from?: Uint8Array, data?: Uint8Array, seqno?: Uint8Array, topicIDs: string[], signature?: Uint8Array, key?: Uint8Array }
export interface PSResponse { topics: string[], peerIDs: Uint8Array[] }
export interface PeerstoreRequest { type: number, id?: Uint8Array, protos: string[] }
export interface PeerstoreResponse { peer?: PeerInfo, protos: string[] }
export interface IdentifyResponse { id: Uint8Array, addrs: Uint8Array[] }
export interface ErrorResponse { msg: string }

export interface Request {
  type: number
  connect?: ConnectRequest
  streamOpen?: StreamOpenRequest
  streamHandler?: StreamHandlerRequest
  dht?: DHTRequest
  connManager?: ConnManagerRequest
  disconnect?: DisconnectRequest
  pubsub?: PSRequest
  peerStore?: PeerstoreRequest
  notify?: NotifyRequest
}

export interface Response {
  type: number
  error?: ErrorResponse
  streamInfo?: StreamInfo
  identify?: IdentifyResponse
  dht?: DHTResponse
  peers?: PeerInfo[]
  pubsub?: PSResponse
  peerStore?: PeerstoreResponse
}

// ---- encoders (fields in tag order) ------------------------------------------------------

function writePeerInfo (w: ProtobufWriter, p: PeerInfo): ProtobufWriter {
  w.bytes(1, p.id)
  for (const a of p.addrs) w.bytes(2, a)
  return w
}

function sub (field: number, w: ProtobufWriter, fill: (inner: ProtobufWriter) => unknown): void {
  const inner = new ProtobufWriter()
  fill(inner)
  w.bytes(field, inner.finish())
}

export function encodePeerInfo (p: PeerInfo): Uint8Array { return writePeerInfo(new ProtobufWriter(), p).finish() }

export function encodeStreamInfo (s: StreamInfo): Uint8Array {
  return new ProtobufWriter().bytes(1, s.peer).bytes(2, s.addr).string(3, s.proto).finish()
}

function writeDHTResponse (w: ProtobufWriter, d: DHTResponse): ProtobufWriter {
  w.uint(1, d.type)
  if (d.peer !== undefined) sub(2, w, inner => writePeerInfo(inner, d.peer as PeerInfo))
  if (d.value !== undefined) w.bytes(3, d.value)
  return w
}

export function encodeDHTResponse (d: DHTResponse): Uint8Array { return writeDHTResponse(new ProtobufWriter(), d).finish() }

export function encodePSMessage (m: PSMessage): Uint8Array {
  const w = new ProtobufWriter()
  if (m.from !== undefined) w.bytes(1, m.from)
  if (m.data !== undefined) w.bytes(2, m.data)
  if (m.seqno !== undefined) w.bytes(3, m.seqno)
  for (const t of m.topicIDs) w.string(4, t)
  if (m.signature !== undefined) w.bytes(5, m.signature)
  if (m.key !== undefined) w.bytes(6, m.key)
  return w.finish()
}

export function encodeRequest (r: Request): Uint8Array {
  const w = new ProtobufWriter().uint(1, r.type)
  if (r.connect !== undefined) {
    const c = r.connect
    sub(2, w, i => { i.bytes(1, c.peer); for (const a of c.addrs) i.bytes(2, a); if (c.timeout !== undefined) i.int64(3, c.timeout) })
  }
  if (r.streamOpen !== undefined) {
    const s = r.streamOpen
    sub(3, w, i => { i.bytes(1, s.peer); for (const p of s.proto) i.string(2, p); if (s.timeout !== undefined) i.int64(3, s.timeout) })
  }
  if (r.streamHandler !== undefined) {
    const s = r.streamHandler
    sub(4, w, i => { i.bytes(1, s.addr); for (const p of s.proto) i.string(2, p) })
  }
  if (r.dht !== undefined) {
    const d = r.dht
    sub(5, w, i => {
      i.uint(1, d.type)
      if (d.peer !== undefined) i.bytes(2, d.peer)
      if (d.cid !== undefined) i.bytes(3, d.cid)
      if (d.key !== undefined) i.bytes(4, d.key)
      if (d.value !== undefined) i.bytes(5, d.value)
      if (d.count !== undefined) i.int64(6, d.count)
      if (d.timeout !== undefined) i.int64(7, d.timeout)
    })
  }
  if (r.connManager !== undefined) {
    const c = r.connManager
    sub(6, w, i => {
      i.uint(1, c.type)
      if (c.peer !== undefined) i.bytes(2, c.peer)
      if (c.tag !== undefined) i.string(3, c.tag)
      if (c.weight !== undefined) i.int64(4, c.weight)
    })
  }
  if (r.disconnect !== undefined) {
    const d = r.disconnect
    sub(7, w, i => i.bytes(1, d.peer))
  }
  if (r.pubsub !== undefined) {
    const p = r.pubsub
    sub(8, w, i => { i.uint(1, p.type); if (p.topic !== undefined) i.string(2, p.topic); if (p.data !== undefined) i.bytes(3, p.data) })
  }
  if (r.peerStore !== undefined) {
    const p = r.peerStore
    sub(9, w, i => { i.uint(1, p.type); if (p.id !== undefined) i.bytes(2, p.id); for (const x of p.protos) i.string(3, x) })
  }
  if (r.notify !== undefined) w.bytes(10, encodeNotifyRequest(r.notify))
  return w.finish()
}

export function encodeResponse (r: Response): Uint8Array {
  const w = new ProtobufWriter().uint(1, r.type)
  if (r.error !== undefined) { const e = r.error; sub(2, w, i => i.string(1, e.msg)) }
  if (r.streamInfo !== undefined) w.bytes(3, encodeStreamInfo(r.streamInfo))
  if (r.identify !== undefined) { const id = r.identify; sub(4, w, i => { i.bytes(1, id.id); for (const a of id.addrs) i.bytes(2, a) }) }
  if (r.dht !== undefined) { const d = r.dht; sub(5, w, i => writeDHTResponse(i, d)) }
  for (const p of r.peers ?? []) sub(6, w, i => writePeerInfo(i, p))
  if (r.pubsub !== undefined) {
    const p = r.pubsub
    sub(7, w, i => { for (const t of p.topics) i.string(1, t); for (const id of p.peerIDs) i.bytes(2, id) })
  }
  if (r.peerStore !== undefined) {
    const p = r.peerStore
    sub(8, w, i => { if (p.peer !== undefined) { const peer = p.peer; sub(1, i, j => writePeerInfo(j, peer)) } for (const x of p.protos) i.string(2, x) })
  }
  return w.finish()
}

// ---- decoders -----------------------------------------------------------------------------

function checkSize (bytes: Uint8Array, what: string): void {
  if (bytes.length > MAX_CONTROL_MESSAGE_SIZE) throw new MessageTooLargeError(`${what} of ${bytes.length} bytes exceeds ${MAX_CONTROL_MESSAGE_SIZE}`)
}

/** An int64 field as a JS number: timeouts and counts beyond 2^53 saturate. */
function int64Number (r: ProtobufReader, wire: number): number {
  const v = r.int64(wire)
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER
  if (v < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER
  return Number(v)
}

export function decodePeerInfo (bytes: Uint8Array): PeerInfo {
  const out: PeerInfo = { id: new Uint8Array(0), addrs: [] }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.id = r.bytes(wire, MAX_ADDR_LENGTH)
    else if (field === 2) pushBounded(out.addrs, r.bytes(wire, MAX_ADDR_LENGTH), MAX_ADDRS_PER_PEER, 'addresses')
    else r.skip(wire)
  }
  return out
}

export function decodeStreamInfo (bytes: Uint8Array): StreamInfo {
  checkSize(bytes, 'StreamInfo')
  const out: StreamInfo = { peer: new Uint8Array(0), addr: new Uint8Array(0), proto: '' }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.peer = r.bytes(wire, MAX_ADDR_LENGTH)
    else if (field === 2) out.addr = r.bytes(wire, MAX_ADDR_LENGTH)
    else if (field === 3) out.proto = r.string(wire, MAX_STRING_LENGTH)
    else r.skip(wire)
  }
  return out
}

export function decodeDHTResponse (bytes: Uint8Array): DHTResponse {
  checkSize(bytes, 'DHTResponse')
  const out: DHTResponse = { type: 0 }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.type = r.uint(wire)
    else if (field === 2) out.peer = decodePeerInfo(r.bytes(wire))
    else if (field === 3) out.value = r.bytes(wire)
    else r.skip(wire)
  }
  return out
}

export function decodePSMessage (bytes: Uint8Array): PSMessage {
  checkSize(bytes, 'PSMessage')
  const out: PSMessage = { topicIDs: [] }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    switch (field) {
      case 1: out.from = r.bytes(wire, MAX_ADDR_LENGTH); break
      case 2: out.data = r.bytes(wire); break
      case 3: out.seqno = r.bytes(wire, MAX_STRING_LENGTH); break
      case 4: pushBounded(out.topicIDs, r.string(wire, MAX_STRING_LENGTH), MAX_TOPICS, 'topics'); break
      case 5: out.signature = r.bytes(wire, MAX_STRING_LENGTH); break
      case 6: out.key = r.bytes(wire, MAX_STRING_LENGTH); break
      default: r.skip(wire)
    }
  }
  return out
}

export function decodeRequest (bytes: Uint8Array): Request {
  checkSize(bytes, 'Request')
  const out: Request = { type: -1 }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    switch (field) {
      case 1: out.type = r.uint(wire); break
      case 2: out.connect = decodeConnect(r.bytes(wire)); break
      case 3: out.streamOpen = decodeStreamOpen(r.bytes(wire)); break
      case 4: out.streamHandler = decodeStreamHandler(r.bytes(wire)); break
      case 5: out.dht = decodeDHTRequest(r.bytes(wire)); break
      case 6: out.connManager = decodeConnManager(r.bytes(wire)); break
      case 7: out.disconnect = { peer: decodePeerInfo(r.bytes(wire)).id }; break
      case 8: out.pubsub = decodePSRequest(r.bytes(wire)); break
      case 9: out.peerStore = decodePeerstoreRequest(r.bytes(wire)); break
      case 10: out.notify = decodeNotifyRequest(r.bytes(wire)); break
      default: r.skip(wire)
    }
  }
  return out
}

function decodeConnect (bytes: Uint8Array): ConnectRequest {
  const out: ConnectRequest = { peer: new Uint8Array(0), addrs: [] }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.peer = r.bytes(wire, MAX_ADDR_LENGTH)
    else if (field === 2) pushBounded(out.addrs, r.bytes(wire, MAX_ADDR_LENGTH), MAX_ADDRS_PER_PEER, 'addresses')
    else if (field === 3) out.timeout = int64Number(r, wire)
    else r.skip(wire)
  }
  return out
}

function decodeStreamOpen (bytes: Uint8Array): StreamOpenRequest {
  const out: StreamOpenRequest = { peer: new Uint8Array(0), proto: [] }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.peer = r.bytes(wire, MAX_ADDR_LENGTH)
    else if (field === 2) pushBounded(out.proto, r.string(wire, MAX_STRING_LENGTH), MAX_PROTOCOLS, 'protocols')
    else if (field === 3) out.timeout = int64Number(r, wire)
    else r.skip(wire)
  }
  return out
}

function decodeStreamHandler (bytes: Uint8Array): StreamHandlerRequest {
  const out: StreamHandlerRequest = { addr: new Uint8Array(0), proto: [] }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.addr = r.bytes(wire, MAX_ADDR_LENGTH)
    else if (field === 2) pushBounded(out.proto, r.string(wire, MAX_STRING_LENGTH), MAX_PROTOCOLS, 'protocols')
    else r.skip(wire)
  }
  return out
}

function decodeDHTRequest (bytes: Uint8Array): DHTRequest {
  const out: DHTRequest = { type: -1 }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    switch (field) {
      case 1: out.type = r.uint(wire); break
      case 2: out.peer = r.bytes(wire, MAX_ADDR_LENGTH); break
      case 3: out.cid = r.bytes(wire, MAX_ADDR_LENGTH); break
      case 4: out.key = r.bytes(wire, MAX_STRING_LENGTH); break
      case 5: out.value = r.bytes(wire); break
      case 6: out.count = int64Number(r, wire); break
      case 7: out.timeout = int64Number(r, wire); break
      default: r.skip(wire)
    }
  }
  return out
}

function decodeConnManager (bytes: Uint8Array): ConnManagerRequest {
  const out: ConnManagerRequest = { type: -1 }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.type = r.uint(wire)
    else if (field === 2) out.peer = r.bytes(wire, MAX_ADDR_LENGTH)
    else if (field === 3) out.tag = r.string(wire, MAX_STRING_LENGTH)
    else if (field === 4) out.weight = int64Number(r, wire)
    else r.skip(wire)
  }
  return out
}

function decodePSRequest (bytes: Uint8Array): PSRequest {
  const out: PSRequest = { type: -1 }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.type = r.uint(wire)
    else if (field === 2) out.topic = r.string(wire, MAX_STRING_LENGTH)
    else if (field === 3) out.data = r.bytes(wire)
    else r.skip(wire)
  }
  return out
}

function decodePeerstoreRequest (bytes: Uint8Array): PeerstoreRequest {
  const out: PeerstoreRequest = { type: 0, protos: [] }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.type = r.uint(wire)
    else if (field === 2) out.id = r.bytes(wire, MAX_ADDR_LENGTH)
    else if (field === 3) pushBounded(out.protos, r.string(wire, MAX_STRING_LENGTH), MAX_PROTOCOLS, 'protocols')
    else r.skip(wire)
  }
  return out
}

export function decodeResponse (bytes: Uint8Array): Response {
  checkSize(bytes, 'Response')
  const out: Response = { type: -1 }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    switch (field) {
      case 1: out.type = r.uint(wire); break
      case 2: out.error = decodeError(r.bytes(wire)); break
      case 3: out.streamInfo = decodeStreamInfo(r.bytes(wire)); break
      case 4: { const p = decodePeerInfo(r.bytes(wire)); out.identify = { id: p.id, addrs: p.addrs }; break }
      case 5: out.dht = decodeDHTResponse(r.bytes(wire)); break
      case 6: pushBounded(out.peers ??= [], decodePeerInfo(r.bytes(wire)), MAX_PEERS_PER_RESPONSE, 'peers'); break
      case 7: out.pubsub = decodePSResponse(r.bytes(wire)); break
      case 8: out.peerStore = decodePeerstoreResponse(r.bytes(wire)); break
      default: r.skip(wire)
    }
  }
  return out
}

function decodeError (bytes: Uint8Array): ErrorResponse {
  const r = new ProtobufReader(bytes)
  let msg = ''
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) msg = r.string(wire, 64 * 1024)
    else r.skip(wire)
  }
  return { msg }
}

function decodePSResponse (bytes: Uint8Array): PSResponse {
  const out: PSResponse = { topics: [], peerIDs: [] }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) pushBounded(out.topics, r.string(wire, MAX_STRING_LENGTH), MAX_TOPICS, 'topics')
    else if (field === 2) pushBounded(out.peerIDs, r.bytes(wire, MAX_ADDR_LENGTH), MAX_PEERS_PER_RESPONSE, 'peer ids')
    else r.skip(wire)
  }
  return out
}

function decodePeerstoreResponse (bytes: Uint8Array): PeerstoreResponse {
  const out: PeerstoreResponse = { protos: [] }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.peer = decodePeerInfo(r.bytes(wire))
    else if (field === 2) pushBounded(out.protos, r.string(wire, MAX_STRING_LENGTH), MAX_PROTOCOLS, 'protocols')
    else r.skip(wire)
  }
  return out
}
