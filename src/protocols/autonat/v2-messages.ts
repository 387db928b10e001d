/**
 * AutoNAT v2 wire messages (specs autonat/autonat-v2.md). On `/libp2p/autonat/2/dial-request`
 * every frame is a length-prefixed `Message` whose `oneof msg` is one of DialRequest (1),
 * DialResponse (2), DialDataRequest (3), DialDataResponse (4); on `/libp2p/autonat/2/dial-back`
 * the server sends a bare `DialBack{fixed64 nonce}` and the client answers `DialBackResponse`.
 *
 * proto3 zero values matter here and are easy to get wrong: an absent `status` is
 * E_INTERNAL_ERROR (0), not OK (200); an absent `dialStatus` is UNUSED (0); an absent
 * DialBackResponse status IS OK (0); an absent `addrIdx` is index 0. The decoders report
 * exactly what the bytes say and the client/server decide what a zero means.
 *
 * Every decoder is bounded: frame size (8 KiB, as go), addresses per request (50), address
 * length, data chunk length; hostile input gives InvalidMessageError, never a crash.
 */
import { ProtobufReader, ProtobufWriter, pushBounded } from '../../util/protobuf.ts'
import { InvalidMessageError } from '../../util/errors.ts'

export const DIAL_REQUEST_PROTOCOL = '/libp2p/autonat/2/dial-request'
export const DIAL_BACK_PROTOCOL = '/libp2p/autonat/2/dial-back'

/** Largest frame either side reads on either stream (go: 8192). */
export const MAX_MESSAGE_SIZE = 8192
/** Addresses one DialRequest may carry (go's server limit). */
export const MAX_REQUEST_ADDRS = 50
/** A multiaddr on the wire longer than this is not one anybody can dial. */
export const MAX_ADDR_LENGTH = 1024
/** The spec's chunk size for DialDataResponse.data. */
export const DIAL_DATA_CHUNK = 4096

export const ResponseStatus = {
  E_INTERNAL_ERROR: 0,
  E_REQUEST_REJECTED: 100,
  E_DIAL_REFUSED: 101,
  OK: 200
} as const

export const DialStatus = {
  UNUSED: 0,
  E_DIAL_ERROR: 100,
  E_DIAL_BACK_ERROR: 101,
  OK: 200
} as const

export const DialBackStatus = { OK: 0 } as const

export interface DialRequest { addrs: Uint8Array[], nonce: bigint }
export interface DialResponse { status: number, addrIdx: number, dialStatus: number }
export interface DialDataRequest { addrIdx: number, numBytes: number }
export interface DialDataResponse { data: Uint8Array }

export type AutoNATv2Message =
  | { type: 'dialRequest', dialRequest: DialRequest }
  | { type: 'dialResponse', dialResponse: DialResponse }
  | { type: 'dialDataRequest', dialDataRequest: DialDataRequest }
  | { type: 'dialDataResponse', dialDataResponse: DialDataResponse }

const FIELD_DIAL_REQUEST = 1
const FIELD_DIAL_RESPONSE = 2
const FIELD_DIAL_DATA_REQUEST = 3
const FIELD_DIAL_DATA_RESPONSE = 4

export function encodeV2Message (message: AutoNATv2Message): Uint8Array {
  const w = new ProtobufWriter()
  switch (message.type) {
    case 'dialRequest': {
      const inner = new ProtobufWriter()
      for (const addr of message.dialRequest.addrs) inner.bytes(1, addr)
      inner.fixed64(2, message.dialRequest.nonce)
      w.bytes(FIELD_DIAL_REQUEST, inner.finish())
      break
    }
    case 'dialResponse': {
      // Written in full even when zero: a reader must see the status we mean, and
      // E_INTERNAL_ERROR happens to be 0.
      const { status, addrIdx, dialStatus } = message.dialResponse
      const inner = new ProtobufWriter(16).uint(1, status).uint(2, addrIdx).uint(3, dialStatus)
      w.bytes(FIELD_DIAL_RESPONSE, inner.finish())
      break
    }
    case 'dialDataRequest': {
      const inner = new ProtobufWriter(16).uint(1, message.dialDataRequest.addrIdx).uint(2, message.dialDataRequest.numBytes)
      w.bytes(FIELD_DIAL_DATA_REQUEST, inner.finish())
      break
    }
    case 'dialDataResponse': {
      const data = message.dialDataResponse.data
      w.bytes(FIELD_DIAL_DATA_RESPONSE, new ProtobufWriter(data.length + 8).bytes(1, data).finish())
      break
    }
  }
  return w.finish()
}

/** Decodes a `Message`; the last `oneof` member present wins (protobuf's rule). */
export function decodeV2Message (bytes: Uint8Array): AutoNATv2Message {
  if (bytes.length > MAX_MESSAGE_SIZE) throw new InvalidMessageError(`autonat v2 message of ${bytes.length} bytes exceeds ${MAX_MESSAGE_SIZE}`)
  const r = new ProtobufReader(bytes)
  let out: AutoNATv2Message | undefined
  while (!r.done) {
    const [field, wire] = r.tag()
    switch (field) {
      case FIELD_DIAL_REQUEST: out = { type: 'dialRequest', dialRequest: decodeDialRequest(r.bytes(wire)) }; break
      case FIELD_DIAL_RESPONSE: out = { type: 'dialResponse', dialResponse: decodeDialResponse(r.bytes(wire)) }; break
      case FIELD_DIAL_DATA_REQUEST: out = { type: 'dialDataRequest', dialDataRequest: decodeDialDataRequest(r.bytes(wire)) }; break
      case FIELD_DIAL_DATA_RESPONSE: out = { type: 'dialDataResponse', dialDataResponse: decodeDialDataResponse(r.bytes(wire)) }; break
      default: r.skip(wire)
    }
  }
  if (out === undefined) throw new InvalidMessageError('autonat v2 message carries none of its oneof fields')
  return out
}

function decodeDialRequest (bytes: Uint8Array): DialRequest {
  const r = new ProtobufReader(bytes)
  const out: DialRequest = { addrs: [], nonce: 0n }
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) pushBounded(out.addrs, r.bytes(wire, MAX_ADDR_LENGTH), MAX_REQUEST_ADDRS, 'addresses in a dial request')
    else if (field === 2) out.nonce = r.fixed64(wire)
    else r.skip(wire)
  }
  return out
}

function decodeDialResponse (bytes: Uint8Array): DialResponse {
  const r = new ProtobufReader(bytes)
  const out: DialResponse = { status: ResponseStatus.E_INTERNAL_ERROR, addrIdx: 0, dialStatus: DialStatus.UNUSED }
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.status = r.uint(wire)
    else if (field === 2) out.addrIdx = r.uint(wire)
    else if (field === 3) out.dialStatus = r.uint(wire)
    else r.skip(wire)
  }
  return out
}

function decodeDialDataRequest (bytes: Uint8Array): DialDataRequest {
  const r = new ProtobufReader(bytes)
  const out: DialDataRequest = { addrIdx: 0, numBytes: 0 }
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.addrIdx = r.uint(wire)
    else if (field === 2) {
      const n = r.uint64(wire)
      // Anything past 2^32 is absurd; the client refuses far less (its maxDialDataBytes).
      out.numBytes = n > 0xffffffffn ? Number.MAX_SAFE_INTEGER : Number(n)
    } else r.skip(wire)
  }
  return out
}

function decodeDialDataResponse (bytes: Uint8Array): DialDataResponse {
  const r = new ProtobufReader(bytes)
  let data: Uint8Array = new Uint8Array(0)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) data = r.bytes(wire)
    else r.skip(wire)
  }
  return { data }
}

export function encodeDialBack (nonce: bigint): Uint8Array {
  return new ProtobufWriter(16).fixed64(1, nonce).finish()
}

export function decodeDialBack (bytes: Uint8Array): { nonce: bigint } {
  if (bytes.length > MAX_MESSAGE_SIZE) throw new InvalidMessageError('autonat v2 dial-back message too large')
  const r = new ProtobufReader(bytes)
  let nonce: bigint | undefined
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) nonce = r.fixed64(wire)
    else r.skip(wire)
  }
  // A zero nonce would be written as nothing by a proto3 encoder; treat absent as 0.
  return { nonce: nonce ?? 0n }
}

/**
 * Writes the status even when it is OK (proto3's zero): an empty frame would also mean OK, but
 * a zero-length message is the one readers are most likely to mishandle.
 */
export function encodeDialBackResponse (status: number = DialBackStatus.OK): Uint8Array {
  return new ProtobufWriter(8).uint(1, status).finish()
}

export function decodeDialBackResponse (bytes: Uint8Array): { status: number } {
  if (bytes.length > MAX_MESSAGE_SIZE) throw new InvalidMessageError('autonat v2 dial-back response too large')
  const r = new ProtobufReader(bytes)
  let status: number = DialBackStatus.OK
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) status = r.uint(wire)
    else r.skip(wire)
  }
  return { status }
}
