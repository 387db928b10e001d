/**
 * The Kademlia wire message (specs kad-dht/README.md, "RPC messages"): one protobuf `Message`
 * per length-prefixed frame, with nested `Record` and `Peer`.
 *
 * The decoder is bounded: byte fields have size limits, and repeated `closerPeers` /
 * `providerPeers` and a peer's `addrs` are truncated at a count limit (the rest is skipped
 * without being materialised), so a peer answering with thousands of fake peers costs at most
 * one bounded frame of parsing and a small fixed number of objects.
 */
import { InvalidMessageError } from '../util/errors.ts'
import { ProtobufReader, ProtobufWriter } from '../util/protobuf.ts'

export const MessageType = {
  PUT_VALUE: 0,
  GET_VALUE: 1,
  ADD_PROVIDER: 2,
  GET_PROVIDERS: 3,
  FIND_NODE: 4,
  PING: 5
} as const
export type MessageType = typeof MessageType[keyof typeof MessageType]

export const ConnectionType = {
  NOT_CONNECTED: 0,
  CONNECTED: 1,
  CAN_CONNECT: 2,
  CANNOT_CONNECT: 3
} as const
export type ConnectionType = typeof ConnectionType[keyof typeof ConnectionType]

export interface DhtRecord {
  key: Uint8Array
  value: Uint8Array
  /** RFC 3339 time the record was received, set by the receiver ('' when absent). */
  timeReceived: string
}

export interface DhtPeer {
  /** Peer id multihash bytes. */
  id: Uint8Array
  addrs: Uint8Array[]
  connection: ConnectionType
}

export interface DhtMessage {
  type: MessageType
  key?: Uint8Array
  record?: DhtRecord
  closerPeers: DhtPeer[]
  providerPeers: DhtPeer[]
  clusterLevelRaw?: number
}

export interface MessageLimits {
  /** Peers kept per repeated field; later ones are skipped (default 64). */
  maxPeers: number
  /** Addresses kept per peer; later ones are skipped (default 32). */
  maxAddrs: number
  /** Largest accepted key (default 1024 bytes; keys are stored hex-encoded). */
  maxKeyLength: number
  /** Largest accepted peer id (default 128 bytes: RSA ids are hashed, so ids are small). */
  maxPeerIdLength: number
  /** Largest accepted multiaddr (default 1024 bytes). */
  maxAddrLength: number
}

export const DEFAULT_MESSAGE_LIMITS: MessageLimits = {
  maxPeers: 64,
  maxAddrs: 32,
  maxKeyLength: 1024,
  maxPeerIdLength: 128,
  maxAddrLength: 1024
}

export function encodeMessage (message: DhtMessage): Uint8Array {
  const w = new ProtobufWriter(64)
  // go and js always write the type, even PUT_VALUE = 0
  w.uint(1, message.type)
  if (message.key !== undefined) w.bytes(2, message.key)
  if (message.record !== undefined) w.bytes(3, encodeRecord(message.record))
  for (const peer of message.closerPeers) w.bytes(8, encodePeer(peer))
  for (const peer of message.providerPeers) w.bytes(9, encodePeer(peer))
  if (message.clusterLevelRaw !== undefined && message.clusterLevelRaw !== 0) w.uint(10, message.clusterLevelRaw)
  return w.finish()
}

export function encodeRecord (record: DhtRecord): Uint8Array {
  const w = new ProtobufWriter(record.key.length + record.value.length + 48)
  w.bytes(1, record.key)
  w.bytes(2, record.value)
  if (record.timeReceived !== '') w.string(5, record.timeReceived)
  return w.finish()
}

export function encodePeer (peer: DhtPeer): Uint8Array {
  const w = new ProtobufWriter(64)
  w.bytes(1, peer.id)
  for (const addr of peer.addrs) w.bytes(2, addr)
  if (peer.connection !== ConnectionType.NOT_CONNECTED) w.uint(3, peer.connection)
  return w.finish()
}

/** Decodes one frame. Byte fields are views into `bytes`: copy what you keep long-term. */
export function decodeMessage (bytes: Uint8Array, limits: MessageLimits = DEFAULT_MESSAGE_LIMITS): DhtMessage {
  const r = new ProtobufReader(bytes)
  let type: number | undefined
  const message: DhtMessage = { type: MessageType.PING, closerPeers: [], providerPeers: [] }
  while (!r.done) {
    const [field, wire] = r.tag()
    switch (field) {
      case 1: type = r.uint(wire); break
      case 2: message.key = r.bytes(wire, limits.maxKeyLength); break
      case 3: message.record = decodeRecord(r.bytes(wire), limits); break
      case 8: {
        const raw = r.bytes(wire)
        if (message.closerPeers.length < limits.maxPeers) message.closerPeers.push(decodePeer(raw, limits))
        break
      }
      case 9: {
        const raw = r.bytes(wire)
        if (message.providerPeers.length < limits.maxPeers) message.providerPeers.push(decodePeer(raw, limits))
        break
      }
      case 10: message.clusterLevelRaw = r.uint(wire); break
      default: r.skip(wire)
    }
  }
  if (type === undefined) type = MessageType.PUT_VALUE
  if (type > MessageType.PING) throw new InvalidMessageError(`unknown DHT message type ${type}`)
  message.type = type as MessageType
  return message
}

export function decodeRecord (bytes: Uint8Array, limits: MessageLimits = DEFAULT_MESSAGE_LIMITS): DhtRecord {
  const r = new ProtobufReader(bytes)
  const record: DhtRecord = { key: new Uint8Array(0), value: new Uint8Array(0), timeReceived: '' }
  while (!r.done) {
    const [field, wire] = r.tag()
    switch (field) {
      case 1: record.key = r.bytes(wire, limits.maxKeyLength); break
      case 2: record.value = r.bytes(wire); break
      case 5: record.timeReceived = r.string(wire, 64); break
      default: r.skip(wire)
    }
  }
  return record
}

export function decodePeer (bytes: Uint8Array, limits: MessageLimits = DEFAULT_MESSAGE_LIMITS): DhtPeer {
  const r = new ProtobufReader(bytes)
  const peer: DhtPeer = { id: new Uint8Array(0), addrs: [], connection: ConnectionType.NOT_CONNECTED }
  while (!r.done) {
    const [field, wire] = r.tag()
    switch (field) {
      case 1: peer.id = r.bytes(wire, limits.maxPeerIdLength); break
      case 2: {
        const addr = r.bytes(wire, limits.maxAddrLength)
        if (peer.addrs.length < limits.maxAddrs) peer.addrs.push(addr)
        break
      }
      case 3: {
        const c = r.uint(wire)
        peer.connection = c <= ConnectionType.CANNOT_CONNECT ? c as ConnectionType : ConnectionType.NOT_CONNECTED
        break
      }
      default: r.skip(wire)
    }
  }
  if (peer.id.length === 0) throw new InvalidMessageError('DHT peer without an id')
  return peer
}
