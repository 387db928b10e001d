/**
 * Circuit relay v2 wire messages (specs relay/circuit-v2.md): `HopMessage` on
 * `/libp2p/circuit/relay/0.2.0/hop` (client <-> relay), `StopMessage` on
 * `/libp2p/circuit/relay/0.2.0/stop` (relay -> target), and the `Peer`, `Reservation`, `Limit`
 * parts they carry. Each travels as one varint-length-prefixed protobuf of at most 4096 bytes
 * (go's and js's cap); after a STATUS OK the stream stops carrying messages and carries the
 * relayed bytes.
 *
 * Encoders write fields in tag order. Decoders are bounded: the message size, every byte field
 * and every repeated field has a limit, a missing required field or an out-of-range number is
 * an InvalidMessageError, and nothing allocates more than the input. Peer ids and addresses
 * stay bytes here (views into the input): the roles parse what they use, so a malformed
 * address only costs the message that carries it.
 */
import { InvalidMessageError, MessageTooLargeError } from '../util/errors.ts'
import { ProtobufReader, ProtobufWriter, pushBounded } from '../util/protobuf.ts'

export const HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop'
export const STOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/stop'

/** Largest hop or stop message, as go (circuitv2 maxMessageSize) and js cap it. */
export const MAX_RELAY_MESSAGE_SIZE = 4096
/** Addresses in one Peer or Reservation: far above what 4 KiB can usefully hold. */
export const MAX_RELAY_ADDRS = 64
/** A peer id's bytes: an identity multihash of the largest inlined key is well under this. */
export const MAX_PEER_ID_LENGTH = 128
/** One multiaddr's bytes. */
export const MAX_ADDR_LENGTH = 1024

/** HopMessage.Type */
export const HopType = { RESERVE: 0, CONNECT: 1, STATUS: 2 } as const
/** StopMessage.Type */
export const StopType = { CONNECT: 0, STATUS: 1 } as const

/** The relay status codes (the spec's `Status` enum). UNUSED (0) is what a missing field reads as. */
export const RelayStatus = {
  UNUSED: 0,
  OK: 100,
  RESERVATION_REFUSED: 200,
  RESOURCE_LIMIT_EXCEEDED: 201,
  PERMISSION_DENIED: 202,
  CONNECTION_FAILED: 203,
  NO_RESERVATION: 204,
  MALFORMED_MESSAGE: 400,
  UNEXPECTED_MESSAGE: 401
} as const
export type RelayStatusCode = typeof RelayStatus[keyof typeof RelayStatus]

const STATUS_NAMES = new Map<number, string>(Object.entries(RelayStatus).map(([name, code]) => [code, name]))

/** `NO_RESERVATION` for 204; `UNKNOWN(n)` for a code the spec does not define. */
export function relayStatusName (status: number): string {
  return STATUS_NAMES.get(status) ?? `UNKNOWN(${status})`
}

export interface RelayPeer {
  /** The peer id's bytes (a multihash). */
  id: Uint8Array
  /** Multiaddr bytes. */
  addrs: Uint8Array[]
}

export interface RelayReservation {
  /** Unix seconds (UTC) when the reservation ends. */
  expire?: bigint
  /** The relay's own addresses (with `/p2p/<relay>`, without `/p2p-circuit`), as multiaddr bytes. */
  addrs: Uint8Array[]
  /** A signed envelope (domain `libp2p-relay-rsvp`) holding a Voucher. */
  voucher?: Uint8Array
}

/** Limits of one relayed connection; an absent field means no limit of that kind. */
export interface RelayLimit {
  /** Seconds (uint32). */
  duration?: number
  /** Bytes per direction (uint64). */
  data?: bigint
}

export interface HopMessage {
  /** A HopType value; other numbers are kept so the handler can answer UNEXPECTED_MESSAGE. */
  type: number
  peer?: RelayPeer
  reservation?: RelayReservation
  limit?: RelayLimit
  status?: number
}

export interface StopMessage {
  /** A StopType value; other numbers are kept for the handler to refuse. */
  type: number
  peer?: RelayPeer
  limit?: RelayLimit
  status?: number
}

const UINT32_MAX = 0xffffffff

// ---- encoding -----------------------------------------------------------------------------

function encodePeer (peer: RelayPeer): Uint8Array {
  const w = new ProtobufWriter(64)
  w.bytes(1, peer.id)
  for (const addr of peer.addrs) w.bytes(2, addr)
  return w.finish()
}

function encodeReservation (reservation: RelayReservation): Uint8Array {
  const w = new ProtobufWriter(128)
  if (reservation.expire !== undefined) w.uint64(1, reservation.expire)
  for (const addr of reservation.addrs) w.bytes(2, addr)
  if (reservation.voucher !== undefined) w.bytes(3, reservation.voucher)
  return w.finish()
}

function encodeLimit (limit: RelayLimit): Uint8Array {
  const w = new ProtobufWriter(16)
  if (limit.duration !== undefined) w.uint(1, limit.duration)
  if (limit.data !== undefined) w.uint64(2, limit.data)
  return w.finish()
}

export function encodeHopMessage (msg: HopMessage): Uint8Array {
  const w = new ProtobufWriter(128)
  w.uint(1, msg.type)
  if (msg.peer !== undefined) w.bytes(2, encodePeer(msg.peer))
  if (msg.reservation !== undefined) w.bytes(3, encodeReservation(msg.reservation))
  if (msg.limit !== undefined) w.bytes(4, encodeLimit(msg.limit))
  if (msg.status !== undefined) w.uint(5, msg.status)
  return checkSize(w.finish().slice())
}

export function encodeStopMessage (msg: StopMessage): Uint8Array {
  const w = new ProtobufWriter(128)
  w.uint(1, msg.type)
  if (msg.peer !== undefined) w.bytes(2, encodePeer(msg.peer))
  if (msg.limit !== undefined) w.bytes(3, encodeLimit(msg.limit))
  if (msg.status !== undefined) w.uint(4, msg.status)
  return checkSize(w.finish().slice())
}

/** We never send what a peer would refuse to read. */
function checkSize (bytes: Uint8Array): Uint8Array {
  if (bytes.length > MAX_RELAY_MESSAGE_SIZE) throw new MessageTooLargeError(`relay message of ${bytes.length} bytes exceeds ${MAX_RELAY_MESSAGE_SIZE}`)
  return bytes
}

// ---- decoding -----------------------------------------------------------------------------

function decodePeer (bytes: Uint8Array): RelayPeer {
  let id: Uint8Array | undefined
  const addrs: Uint8Array[] = []
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) id = r.bytes(wire, MAX_PEER_ID_LENGTH)
    else if (field === 2) pushBounded(addrs, r.bytes(wire, MAX_ADDR_LENGTH), MAX_RELAY_ADDRS, 'peer addresses')
    else r.skip(wire)
  }
  if (id === undefined || id.length === 0) throw new InvalidMessageError('relay Peer has no id')
  return { id, addrs }
}

function decodeReservation (bytes: Uint8Array): RelayReservation {
  const reservation: RelayReservation = { addrs: [] }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) reservation.expire = r.uint64(wire)
    else if (field === 2) pushBounded(reservation.addrs, r.bytes(wire, MAX_ADDR_LENGTH), MAX_RELAY_ADDRS, 'reservation addresses')
    else if (field === 3) reservation.voucher = r.bytes(wire, MAX_RELAY_MESSAGE_SIZE)
    else r.skip(wire)
  }
  return reservation
}

function decodeLimit (bytes: Uint8Array): RelayLimit {
  const limit: RelayLimit = {}
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) {
      const duration = r.uint64(wire)
      if (duration > BigInt(UINT32_MAX)) throw new InvalidMessageError(`relay limit duration ${duration} exceeds uint32`)
      limit.duration = Number(duration)
    } else if (field === 2) {
      limit.data = r.uint64(wire)
    } else {
      r.skip(wire)
    }
  }
  return limit
}

function decodeStatus (r: ProtobufReader, wire: number): number {
  const status = r.uint64(wire)
  if (status > BigInt(UINT32_MAX)) throw new InvalidMessageError(`relay status ${status} out of range`)
  return Number(status)
}

function decodeType (r: ProtobufReader, wire: number): number {
  const type = r.uint64(wire)
  if (type > BigInt(UINT32_MAX)) throw new InvalidMessageError(`relay message type ${type} out of range`)
  return Number(type)
}

function checkInput (bytes: Uint8Array, what: string): void {
  if (bytes.length > MAX_RELAY_MESSAGE_SIZE) throw new MessageTooLargeError(`${what} of ${bytes.length} bytes exceeds ${MAX_RELAY_MESSAGE_SIZE}`)
}

/** Where each field sits in a Hop or a Stop message (the same fields, numbered apart; type is 1 in both). */
interface CircuitFieldNumbers { peer: number, reservation?: number, limit: number, status: number }
const HOP_FIELDS: CircuitFieldNumbers = { peer: 2, reservation: 3, limit: 4, status: 5 }
const STOP_FIELDS: CircuitFieldNumbers = { peer: 2, limit: 3, status: 4 }

/** The one decoder of both messages. Throws InvalidMessageError (malformed, no type) or MessageTooLargeError. */
function decodeCircuitMessage (bytes: Uint8Array, what: string, fields: CircuitFieldNumbers): HopMessage {
  checkInput(bytes, what)
  let type: number | undefined
  const msg: Omit<HopMessage, 'type'> = {}
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) type = decodeType(r, wire)
    else if (field === fields.peer) msg.peer = decodePeer(r.bytes(wire))
    else if (field === fields.reservation) msg.reservation = decodeReservation(r.bytes(wire))
    else if (field === fields.limit) msg.limit = decodeLimit(r.bytes(wire))
    else if (field === fields.status) msg.status = decodeStatus(r, wire)
    else r.skip(wire)
  }
  if (type === undefined) throw new InvalidMessageError(`${what} has no type`)
  return { type, ...msg }
}

/** Throws InvalidMessageError (malformed, no type) or MessageTooLargeError. */
export function decodeHopMessage (bytes: Uint8Array): HopMessage {
  return decodeCircuitMessage(bytes, 'hop message', HOP_FIELDS)
}

/** Throws InvalidMessageError (malformed, no type) or MessageTooLargeError. */
export function decodeStopMessage (bytes: Uint8Array): StopMessage {
  // (a Stop message has no reservation field: STOP_FIELDS never fills it)
  const { reservation: _none, ...stop } = decodeCircuitMessage(bytes, 'stop message', STOP_FIELDS)
  return stop as StopMessage
}
