/**
 * AutoNAT v1 wire messages (specs autonat/autonat-v1.md), one length-prefixed `Message` each
 * way on `/libp2p/autonat/1.0.0`:
 * `Message{type=1 (DIAL=0, DIAL_RESPONSE=1), dial=2{peer=1{id=1, addrs=2}}, dialResponse=3{status=1, statusText=2, addr=3}}`.
 *
 * The schema is proto2 with `optional` fields, so zeros are written explicitly (type DIAL = 0,
 * status OK = 0) and the decoder tells "absent" from "zero": a response without a status is
 * not an OK. Bounded: 4 KiB frames (go's limit), 32 addresses, 1 KiB per address.
 */
import { ProtobufReader, ProtobufWriter, pushBounded } from '../../util/protobuf.ts'
import { InvalidMessageError } from '../../util/errors.ts'

export const AUTONAT_V1_PROTOCOL = '/libp2p/autonat/1.0.0'
export const V1_MAX_MESSAGE_SIZE = 4096
export const V1_MAX_ADDRS = 32
const MAX_ADDR_LENGTH = 1024
const MAX_PEER_ID_LENGTH = 128

export const MessageType = { DIAL: 0, DIAL_RESPONSE: 1 } as const

export const V1Status = {
  OK: 0,
  E_DIAL_ERROR: 100,
  E_DIAL_REFUSED: 101,
  E_BAD_REQUEST: 200,
  E_INTERNAL_ERROR: 300
} as const

export interface V1Dial { peerId?: Uint8Array, addrs: Uint8Array[] }
export interface V1DialResponse { status?: number, statusText?: string, addr?: Uint8Array }
export interface V1Message { type?: number, dial?: V1Dial, dialResponse?: V1DialResponse }

export function encodeV1Message (message: V1Message): Uint8Array {
  const w = new ProtobufWriter()
  if (message.type !== undefined) w.uint(1, message.type)
  if (message.dial !== undefined) {
    const peer = new ProtobufWriter()
    if (message.dial.peerId !== undefined) peer.bytes(1, message.dial.peerId)
    for (const addr of message.dial.addrs) peer.bytes(2, addr)
    w.bytes(2, new ProtobufWriter().bytes(1, peer.finish()).finish())
  }
  if (message.dialResponse !== undefined) {
    const r = new ProtobufWriter()
    const { status, statusText, addr } = message.dialResponse
    if (status !== undefined) r.uint(1, status)
    if (statusText !== undefined) r.string(2, statusText)
    if (addr !== undefined) r.bytes(3, addr)
    w.bytes(3, r.finish())
  }
  return w.finish()
}

export function decodeV1Message (bytes: Uint8Array): V1Message {
  if (bytes.length > V1_MAX_MESSAGE_SIZE) throw new InvalidMessageError(`autonat v1 message of ${bytes.length} bytes exceeds ${V1_MAX_MESSAGE_SIZE}`)
  const r = new ProtobufReader(bytes)
  const out: V1Message = {}
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.type = r.uint(wire)
    else if (field === 2) out.dial = decodeDial(r.bytes(wire))
    else if (field === 3) out.dialResponse = decodeDialResponse(r.bytes(wire))
    else r.skip(wire)
  }
  return out
}

function decodeDial (bytes: Uint8Array): V1Dial {
  const r = new ProtobufReader(bytes)
  const out: V1Dial = { addrs: [] }
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field !== 1) { r.skip(wire); continue }
    const peer = new ProtobufReader(r.bytes(wire))
    while (!peer.done) {
      const [f, w] = peer.tag()
      if (f === 1) out.peerId = peer.bytes(w, MAX_PEER_ID_LENGTH)
      else if (f === 2) pushBounded(out.addrs, peer.bytes(w, MAX_ADDR_LENGTH), V1_MAX_ADDRS, 'addresses in an autonat v1 dial')
      else peer.skip(w)
    }
  }
  return out
}

function decodeDialResponse (bytes: Uint8Array): V1DialResponse {
  const r = new ProtobufReader(bytes)
  const out: V1DialResponse = {}
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) out.status = r.uint(wire)
    // go puts whole dial errors in the text; the frame limit bounds it
    else if (field === 2) out.statusText = r.string(wire, V1_MAX_MESSAGE_SIZE)
    else if (field === 3) out.addr = r.bytes(wire, MAX_ADDR_LENGTH)
    else r.skip(wire)
  }
  return out
}
