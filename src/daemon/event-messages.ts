/**
 * Messages of our connection-notification request (docs/daemon/notifications.md), an
 * extension of p2pd's control protocol: `Request{type: NOTIFY (10), notify (field 10)}`, answered
 * by `Response{OK}` and then a bare varint-delimited `Event` per connection or stream event.
 *
 *   NotifyRequest { repeated EventType types = 1; }           // empty: every type
 *   Event { EventType type = 1; bytes peer = 2; bytes addr = 3; Direction direction = 4; string proto = 5; }
 *   EventType { CONNECTED = 0; DISCONNECTED = 1; STREAM_OPENED = 2; }
 *   Direction { INBOUND = 0; OUTBOUND = 1; }
 *
 * Decoders are bounded like the rest of the control protocol (typed errors).
 */
import { InvalidMessageError } from '../util/errors.ts'
import { ProtobufReader, ProtobufWriter, pushBounded } from '../util/protobuf.ts'

export const EventType = { CONNECTED: 0, DISCONNECTED: 1, STREAM_OPENED: 2 } as const
export const EventDirection = { INBOUND: 0, OUTBOUND: 1 } as const
const MAX_EVENT_TYPES = 16
const MAX_FIELD_LENGTH = 1024

export interface NotifyRequest { types: number[] }
export interface DaemonEventMessage { type: number, peer: Uint8Array, addr: Uint8Array, direction: number, proto?: string }

export function encodeNotifyRequest (n: NotifyRequest): Uint8Array {
  const w = new ProtobufWriter()
  for (const t of n.types) w.uint(1, t)
  return w.finish()
}

export function decodeNotifyRequest (bytes: Uint8Array): NotifyRequest {
  const out: NotifyRequest = { types: [] }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) {
      const type = r.uint(wire)
      if (!Object.values(EventType).includes(type as 0)) throw new InvalidMessageError(`unknown event type ${type}`)
      pushBounded(out.types, type, MAX_EVENT_TYPES, 'event types')
    } else r.skip(wire)
  }
  return out
}

export function encodeEvent (e: DaemonEventMessage): Uint8Array {
  const w = new ProtobufWriter().uint(1, e.type).bytes(2, e.peer).bytes(3, e.addr).uint(4, e.direction)
  if (e.proto !== undefined) w.string(5, e.proto)
  return w.finish()
}

export function decodeEvent (bytes: Uint8Array): DaemonEventMessage {
  const out: DaemonEventMessage = { type: -1, peer: new Uint8Array(0), addr: new Uint8Array(0), direction: 0 }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    switch (field) {
      case 1: out.type = r.uint(wire); break
      case 2: out.peer = r.bytes(wire, MAX_FIELD_LENGTH); break
      case 3: out.addr = r.bytes(wire, MAX_FIELD_LENGTH); break
      case 4: out.direction = r.uint(wire); break
      case 5: out.proto = r.string(wire, MAX_FIELD_LENGTH); break
      default: r.skip(wire)
    }
  }
  if (out.type === -1) throw new InvalidMessageError('Event without a type')
  return out
}
