/**
 * The fetch protocol's messages (specs fetch/README.md, proto3), each sent length-prefixed:
 *   message FetchRequest { string identifier = 1; }
 *   message FetchResponse { StatusCode status = 1; bytes data = 2; }   // OK = 0, NOT_FOUND = 1, ERROR = 2
 * The spec lists OK and NOT_FOUND; ERROR (2) is what js-libp2p sends when a lookup throws, with
 * the error message as data. The identifier is handled as bytes: js-libp2p sends any bytes, and
 * proto3 strings and bytes look the same on the wire. Decoding is bounded and fails with
 * InvalidMessageError.
 */
import { InvalidMessageError } from '../../util/errors.ts'
import { ProtobufReader, ProtobufWriter, WIRE_LENGTH_DELIMITED, WIRE_VARINT } from '../../util/protobuf.ts'

export const FETCH_PROTOCOL = '/libp2p/fetch/0.0.1'

export const FetchStatus = { OK: 0, NOT_FOUND: 1, ERROR: 2 } as const
export type FetchStatus = typeof FetchStatus[keyof typeof FetchStatus]

export interface FetchResponseMessage {
  status: FetchStatus
  data: Uint8Array
}

export function encodeFetchRequest (identifier: Uint8Array): Uint8Array {
  return new ProtobufWriter(identifier.length + 8).bytes(1, identifier).finish()
}

/** The identifier of a request (a view into `bytes`). */
export function decodeFetchRequest (bytes: Uint8Array): Uint8Array {
  const reader = new ProtobufReader(bytes)
  let identifier: Uint8Array = new Uint8Array(0)
  while (!reader.done) {
    const [field, wire] = reader.tag()
    if (field === 1) identifier = reader.bytes(wire)
    else reader.skip(wire)
  }
  return identifier
}

export function encodeFetchResponse (message: FetchResponseMessage): Uint8Array {
  const writer = new ProtobufWriter(message.data.length + 16)
  if (message.status !== FetchStatus.OK) writer.uint(1, message.status)
  if (message.data.length > 0) writer.bytes(2, message.data)
  return writer.finish()
}

export function decodeFetchResponse (bytes: Uint8Array): FetchResponseMessage {
  const reader = new ProtobufReader(bytes)
  let status: number = FetchStatus.OK
  let data: Uint8Array = new Uint8Array(0)
  while (!reader.done) {
    const [field, wire] = reader.tag()
    if (field === 1 && wire === WIRE_VARINT) status = reader.uint(wire)
    else if (field === 2 && wire === WIRE_LENGTH_DELIMITED) data = reader.bytes(wire)
    else reader.skip(wire)
  }
  if (status !== FetchStatus.OK && status !== FetchStatus.NOT_FOUND && status !== FetchStatus.ERROR) throw new InvalidMessageError(`unknown fetch status ${status}`)
  return { status: status as FetchStatus, data }
}
