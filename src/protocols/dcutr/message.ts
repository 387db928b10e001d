/**
 * The DCUtR `HolePunch` message (specs relay/DCUtR.md, proto2):
 *   message HolePunch { enum Type { CONNECT = 100; SYNC = 300; } optional Type type = 1; repeated bytes ObsAddrs = 2; }
 * Each is sent length-prefixed; the spec says to refuse messages over 4 KiB. Decoding is
 * bounded (message size, address count, address length) and fails with InvalidMessageError.
 */
import { InvalidMessageError } from '../../util/errors.ts'
import { ProtobufReader, ProtobufWriter, WIRE_VARINT, pushBounded } from '../../util/protobuf.ts'

export const DCUTR_PROTOCOL = '/libp2p/dcutr'

/** The spec's limit for one encoded message (length prefix excluded). */
export const MAX_HOLE_PUNCH_MESSAGE_SIZE = 4096
/** Far more than any host has (go sends its listen + observed addresses). */
export const MAX_OBSERVED_ADDRS = 64
/** A binary multiaddr longer than this is not an address anyone dials. */
export const MAX_ADDR_LENGTH = 1024

export const HOLE_PUNCH_CONNECT = 100
export const HOLE_PUNCH_SYNC = 300

export type HolePunchType = 'CONNECT' | 'SYNC'

export interface HolePunchMessage {
  type: HolePunchType
  /** Binary multiaddrs (only CONNECT carries them). */
  observedAddrs: Uint8Array[]
}

const FIELD_TYPE = 1
const FIELD_OBS_ADDRS = 2

export function encodeHolePunch (message: HolePunchMessage): Uint8Array {
  const writer = new ProtobufWriter(16 + message.observedAddrs.reduce((n, a) => n + a.length + 3, 0))
  writer.uint(FIELD_TYPE, message.type === 'CONNECT' ? HOLE_PUNCH_CONNECT : HOLE_PUNCH_SYNC)
  for (const addr of message.observedAddrs) writer.bytes(FIELD_OBS_ADDRS, addr)
  return writer.finish()
}

/** Decodes one message; the caller has already bounded `bytes` to MAX_HOLE_PUNCH_MESSAGE_SIZE. */
export function decodeHolePunch (bytes: Uint8Array): HolePunchMessage {
  if (bytes.length > MAX_HOLE_PUNCH_MESSAGE_SIZE) throw new InvalidMessageError(`HolePunch message of ${bytes.length} bytes exceeds ${MAX_HOLE_PUNCH_MESSAGE_SIZE}`)
  const reader = new ProtobufReader(bytes)
  let type: number | undefined
  const observedAddrs: Uint8Array[] = []
  while (!reader.done) {
    const [field, wire] = reader.tag()
    if (field === FIELD_TYPE && wire === WIRE_VARINT) {
      type = reader.uint(wire)
    } else if (field === FIELD_OBS_ADDRS) {
      pushBounded(observedAddrs, reader.bytes(wire, MAX_ADDR_LENGTH).slice(), MAX_OBSERVED_ADDRS, 'observed addresses in a HolePunch message')
    } else {
      reader.skip(wire)
    }
  }
  if (type === undefined) throw new InvalidMessageError('HolePunch message without a type')
  if (type === HOLE_PUNCH_CONNECT) return { type: 'CONNECT', observedAddrs }
  if (type === HOLE_PUNCH_SYNC) return { type: 'SYNC', observedAddrs }
  throw new InvalidMessageError(`HolePunch message of unknown type ${type}`)
}
