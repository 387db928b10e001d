/**
 * NAT-PMP messages (RFC 6886): the external-address request and the mapping request, and one
 * bounded decoder for the gateway's replies. All integers are big-endian; version is 0; a
 * reply's opcode is the request's plus 128. Browser-safe.
 */
import { InvalidMessageError, MessageTooLargeError } from '../../util/errors.ts'

export const NAT_PMP_PORT = 5351
export const NAT_PMP_VERSION = 0
export const OP_EXTERNAL_ADDRESS = 0
export const OP_MAP_UDP = 1
export const OP_MAP_TCP = 2
const REPLY_BIT = 128
/** Replies are 12 (address) or 16 (mapping) bytes; anything past 1100 (RFC 6887's size) is not NAT-PMP. */
const MAX_REPLY_BYTES = 1100

/** RFC 6886 section 3.5 result codes. */
export const NAT_PMP_RESULT = {
  success: 0,
  unsupportedVersion: 1,
  notAuthorized: 2,
  networkFailure: 3,
  outOfResources: 4,
  unsupportedOpcode: 5
} as const

export type NatPmpProtocol = 'tcp' | 'udp'

export function encodeExternalAddressRequest (): Uint8Array {
  return Uint8Array.of(NAT_PMP_VERSION, OP_EXTERNAL_ADDRESS)
}

/**
 * A mapping request: `lifetimeSeconds` 0 with `suggestedExternalPort` 0 deletes the mapping of
 * `internalPort` (section 3.4).
 */
export function encodeMappingRequest (protocol: NatPmpProtocol, internalPort: number, suggestedExternalPort: number, lifetimeSeconds: number): Uint8Array {
  const out = new Uint8Array(12)
  const view = new DataView(out.buffer)
  out[0] = NAT_PMP_VERSION
  out[1] = protocol === 'udp' ? OP_MAP_UDP : OP_MAP_TCP
  view.setUint16(4, internalPort)
  view.setUint16(6, suggestedExternalPort)
  view.setUint32(8, lifetimeSeconds)
  return out
}

export type NatPmpReply =
  | { readonly op: typeof OP_EXTERNAL_ADDRESS, readonly resultCode: number, readonly epoch: number, readonly externalIp: string }
  | { readonly op: typeof OP_MAP_UDP | typeof OP_MAP_TCP, readonly resultCode: number, readonly epoch: number, readonly internalPort: number, readonly externalPort: number, readonly lifetimeSeconds: number }

/**
 * Decodes a reply. A reply with a non-zero result code needs only its first 8 bytes (the
 * fields after them are undefined by the RFC) and comes back with zeroes there; the caller
 * checks `resultCode`. Throws InvalidMessageError / MessageTooLargeError.
 */
export function decodeReply (bytes: Uint8Array): NatPmpReply {
  if (bytes.length > MAX_REPLY_BYTES) throw new MessageTooLargeError(`NAT-PMP reply of ${bytes.length} bytes`)
  if (bytes.length < 4) throw new InvalidMessageError(`NAT-PMP reply of ${bytes.length} bytes is truncated`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = bytes[0]
  const opByte = bytes[1]
  const resultCode = view.getUint16(2)
  if ((opByte & REPLY_BIT) === 0) throw new InvalidMessageError(`NAT-PMP opcode ${opByte} is not a reply`)
  const op = opByte - REPLY_BIT
  if (op !== OP_EXTERNAL_ADDRESS && op !== OP_MAP_UDP && op !== OP_MAP_TCP) throw new InvalidMessageError(`NAT-PMP reply opcode ${opByte} is unknown`)
  // A gateway that speaks a newer version (PCP) answers ours with result 1 and its version.
  if (version !== NAT_PMP_VERSION && resultCode !== NAT_PMP_RESULT.unsupportedVersion) throw new InvalidMessageError(`NAT-PMP reply version ${version}`)
  if (resultCode !== NAT_PMP_RESULT.success) {
    const epoch = bytes.length >= 8 ? view.getUint32(4) : 0
    return op === OP_EXTERNAL_ADDRESS
      ? { op, resultCode, epoch, externalIp: '0.0.0.0' }
      : { op, resultCode, epoch, internalPort: 0, externalPort: 0, lifetimeSeconds: 0 }
  }
  if (op === OP_EXTERNAL_ADDRESS) {
    if (bytes.length < 12) throw new InvalidMessageError(`NAT-PMP address reply of ${bytes.length} bytes is truncated`)
    return { op, resultCode, epoch: view.getUint32(4), externalIp: `${bytes[8]}.${bytes[9]}.${bytes[10]}.${bytes[11]}` }
  }
  if (bytes.length < 16) throw new InvalidMessageError(`NAT-PMP mapping reply of ${bytes.length} bytes is truncated`)
  return { op, resultCode, epoch: view.getUint32(4), internalPort: view.getUint16(8), externalPort: view.getUint16(10), lifetimeSeconds: view.getUint32(12) }
}
