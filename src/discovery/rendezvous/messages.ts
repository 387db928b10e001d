/**
 * Rendezvous wire messages (specs rendezvous/README.md), one length-prefixed `Message` per
 * request and per response on `/rendezvous/1.0.0`:
 * `Message{type=1, register=2{ns=1, signedPeerRecord=2, ttl=3}, registerResponse=3{status=1,
 * statusText=2, ttl=3}, unregister=4{ns=1}, discover=5{ns=1, limit=2, cookie=3},
 * discoverResponse=6{registrations=1 (Register), cookie=2, status=3, statusText=4}}`.
 *
 * proto2 with `optional` fields: zeros are written explicitly (type REGISTER = 0, status OK =
 * 0) and "absent" is told from "zero". Bounded with InvalidMessageError: the frame (requests
 * 64 KiB, a discover response 4 MiB), registrations per response, namespace, cookie and
 * record sizes.
 */
import { ProtobufReader, ProtobufWriter, pushBounded } from '../../util/protobuf.ts'
import { InvalidMessageError } from '../../util/errors.ts'

export const RENDEZVOUS_PROTOCOL = '/rendezvous/1.0.0'
/** A request (register, unregister, discover) or a register response. */
export const MAX_REQUEST_SIZE = 64 * 1024
/** A discover response: up to MAX_REGISTRATIONS_PER_RESPONSE records. */
export const MAX_RESPONSE_SIZE = 4 * 1024 * 1024
export const MAX_REGISTRATIONS_PER_RESPONSE = 1000
export const MAX_NAMESPACE_LENGTH = 255
const MAX_COOKIE_LENGTH = 1024
const MAX_SIGNED_RECORD_LENGTH = 16 * 1024
const MAX_STATUS_TEXT_LENGTH = 1024

export const MessageType = { REGISTER: 0, REGISTER_RESPONSE: 1, UNREGISTER: 2, DISCOVER: 3, DISCOVER_RESPONSE: 4 } as const

export const ResponseStatus = {
  OK: 0,
  E_INVALID_NAMESPACE: 100,
  E_INVALID_SIGNED_PEER_RECORD: 101,
  E_INVALID_TTL: 102,
  E_INVALID_COOKIE: 103,
  E_NOT_AUTHORIZED: 200,
  E_INTERNAL_ERROR: 300,
  E_UNAVAILABLE: 400
} as const

export interface Register { ns?: string, signedPeerRecord?: Uint8Array, ttl?: bigint }
export interface RegisterResponse { status?: number, statusText?: string, ttl?: bigint }
export interface Unregister { ns?: string }
export interface Discover { ns?: string, limit?: bigint, cookie?: Uint8Array }
export interface DiscoverResponse { registrations: Register[], cookie?: Uint8Array, status?: number, statusText?: string }

export interface RendezvousMessage {
  type?: number
  register?: Register
  registerResponse?: RegisterResponse
  unregister?: Unregister
  discover?: Discover
  discoverResponse?: DiscoverResponse
}

function writeRegister (r: Register): Uint8Array {
  const w = new ProtobufWriter()
  if (r.ns !== undefined) w.string(1, r.ns)
  if (r.signedPeerRecord !== undefined) w.bytes(2, r.signedPeerRecord)
  if (r.ttl !== undefined) w.uint64(3, r.ttl)
  return w.finish()
}

export function encodeRendezvousMessage (m: RendezvousMessage): Uint8Array {
  const w = new ProtobufWriter()
  if (m.type !== undefined) w.uint(1, m.type)
  if (m.register !== undefined) w.bytes(2, writeRegister(m.register))
  if (m.registerResponse !== undefined) {
    const r = new ProtobufWriter()
    const { status, statusText, ttl } = m.registerResponse
    if (status !== undefined) r.uint(1, status)
    if (statusText !== undefined) r.string(2, statusText)
    if (ttl !== undefined) r.uint64(3, ttl)
    w.bytes(3, r.finish())
  }
  if (m.unregister !== undefined) {
    const r = new ProtobufWriter()
    if (m.unregister.ns !== undefined) r.string(1, m.unregister.ns)
    w.bytes(4, r.finish())
  }
  if (m.discover !== undefined) {
    const r = new ProtobufWriter()
    const { ns, limit, cookie } = m.discover
    if (ns !== undefined) r.string(1, ns)
    if (limit !== undefined) r.uint64(2, limit)
    if (cookie !== undefined) r.bytes(3, cookie)
    w.bytes(5, r.finish())
  }
  if (m.discoverResponse !== undefined) {
    const r = new ProtobufWriter()
    const { registrations, cookie, status, statusText } = m.discoverResponse
    for (const reg of registrations) r.bytes(1, writeRegister(reg))
    if (cookie !== undefined) r.bytes(2, cookie)
    if (status !== undefined) r.uint(3, status)
    if (statusText !== undefined) r.string(4, statusText)
    w.bytes(6, r.finish())
  }
  return w.finish()
}

/** Decodes one message of at most `maxSize` bytes; throws InvalidMessageError. */
export function decodeRendezvousMessage (bytes: Uint8Array, maxSize: number = MAX_REQUEST_SIZE): RendezvousMessage {
  if (bytes.length > maxSize) throw new InvalidMessageError(`rendezvous message of ${bytes.length} bytes exceeds ${maxSize}`)
  const r = new ProtobufReader(bytes)
  const out: RendezvousMessage = {}
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.type = r.uint(wire)
    else if (field === 2) out.register = readRegister(r.bytes(wire))
    else if (field === 3) out.registerResponse = readRegisterResponse(r.bytes(wire))
    else if (field === 4) out.unregister = readUnregister(r.bytes(wire))
    else if (field === 5) out.discover = readDiscover(r.bytes(wire))
    else if (field === 6) out.discoverResponse = readDiscoverResponse(r.bytes(wire))
    else r.skip(wire)
  }
  return out
}

function readRegister (bytes: Uint8Array): Register {
  const r = new ProtobufReader(bytes)
  const out: Register = {}
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.ns = r.string(wire, MAX_NAMESPACE_LENGTH * 4)
    else if (field === 2) out.signedPeerRecord = r.bytes(wire, MAX_SIGNED_RECORD_LENGTH)
    else if (field === 3) out.ttl = r.uint64(wire)
    else r.skip(wire)
  }
  return out
}

function readRegisterResponse (bytes: Uint8Array): RegisterResponse {
  const r = new ProtobufReader(bytes)
  const out: RegisterResponse = {}
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.status = r.uint(wire)
    else if (field === 2) out.statusText = r.string(wire, MAX_STATUS_TEXT_LENGTH)
    else if (field === 3) out.ttl = r.uint64(wire)
    else r.skip(wire)
  }
  return out
}

function readUnregister (bytes: Uint8Array): Unregister {
  const r = new ProtobufReader(bytes)
  const out: Unregister = {}
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.ns = r.string(wire, MAX_NAMESPACE_LENGTH * 4)
    else r.skip(wire)
  }
  return out
}

function readDiscover (bytes: Uint8Array): Discover {
  const r = new ProtobufReader(bytes)
  const out: Discover = {}
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.ns = r.string(wire, MAX_NAMESPACE_LENGTH * 4)
    else if (field === 2) out.limit = r.uint64(wire)
    else if (field === 3) out.cookie = r.bytes(wire, MAX_COOKIE_LENGTH)
    else r.skip(wire)
  }
  return out
}

function readDiscoverResponse (bytes: Uint8Array): DiscoverResponse {
  const r = new ProtobufReader(bytes)
  const out: DiscoverResponse = { registrations: [] }
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) pushBounded(out.registrations, readRegister(r.bytes(wire)), MAX_REGISTRATIONS_PER_RESPONSE, 'registrations in a discover response')
    else if (field === 2) out.cookie = r.bytes(wire, MAX_COOKIE_LENGTH)
    else if (field === 3) out.status = r.uint(wire)
    else if (field === 4) out.statusText = r.string(wire, MAX_STATUS_TEXT_LENGTH)
    else r.skip(wire)
  }
  return out
}
