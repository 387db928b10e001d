/**
 * The identify `Identify` protobuf message: encoding, bounded decoding, merging of split
 * messages, and reading a whole (possibly split) identify exchange from a stream.
 *
 * go-libp2p sends the signed peer record in a second LP message when the first would be too
 * large, and protobuf semantics say that concatenated messages merge (scalars: last one wins,
 * repeated fields: appended). So a reader must read until end-of-stream and merge, with a cap
 * on the number of messages, the size of each, and the size of every field inside.
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { InvalidMessageError, MessageTooLargeError } from '../../util/errors.ts'
import { ProtobufReader, ProtobufWriter, lengthDelimitedSize, pushBounded } from '../../util/protobuf.ts'
import { StreamReader } from '../../util/stream-reader.ts'
import { utf8Encode } from '../../util/bytes.ts'

export interface IdentifyMessage {
  protocolVersion?: string
  agentVersion?: string
  /** PublicKey protobuf bytes. */
  publicKey?: Uint8Array
  /** Binary multiaddrs, without /p2p. */
  listenAddrs: Uint8Array[]
  observedAddr?: Uint8Array
  protocols: string[]
  /** A signed envelope holding a peer record. */
  signedPeerRecord?: Uint8Array
}

export const FIELD_PUBLIC_KEY = 1
export const FIELD_LISTEN_ADDRS = 2
export const FIELD_PROTOCOLS = 3
export const FIELD_OBSERVED_ADDR = 4
export const FIELD_PROTOCOL_VERSION = 5
export const FIELD_AGENT_VERSION = 6
export const FIELD_SIGNED_PEER_RECORD = 8

/** Bounds on what a peer may send us. The defaults fit what go and js ever send. */
export interface IdentifyLimits {
  /** Largest single LP message (go and js: 8 KiB). */
  maxMessageSize: number
  /** Most LP messages in one exchange (go and js: 10). */
  maxMessages: number
  /** Most listen addresses after merging. */
  maxListenAddrs: number
  /** Most protocols after merging. */
  maxProtocols: number
  /** Longest protocol id, agent or protocol version string, in bytes. */
  maxStringLength: number
  /** Longest binary multiaddr, in bytes. */
  maxAddrLength: number
}

export const DEFAULT_IDENTIFY_LIMITS: Readonly<IdentifyLimits> = Object.freeze({
  maxMessageSize: 8192,
  maxMessages: 10,
  maxListenAddrs: 128,
  maxProtocols: 512,
  // mss caps protocol ids at 1024 bytes including the newline
  maxStringLength: 1024,
  maxAddrLength: 1024
})

export function emptyIdentifyMessage (): IdentifyMessage {
  return { listenAddrs: [], protocols: [] }
}

/** Encodes fields in field-number order (what go emits), so output is deterministic. */
export function encodeIdentify (msg: IdentifyMessage): Uint8Array {
  const protocolBytes = msg.protocols.map(utf8Encode)
  const agentBytes = msg.agentVersion !== undefined ? utf8Encode(msg.agentVersion) : undefined
  const versionBytes = msg.protocolVersion !== undefined ? utf8Encode(msg.protocolVersion) : undefined
  let size = 0
  if (msg.publicKey !== undefined) size += lengthDelimitedSize(FIELD_PUBLIC_KEY, msg.publicKey.length)
  for (const a of msg.listenAddrs) size += lengthDelimitedSize(FIELD_LISTEN_ADDRS, a.length)
  for (const p of protocolBytes) size += lengthDelimitedSize(FIELD_PROTOCOLS, p.length)
  if (msg.observedAddr !== undefined) size += lengthDelimitedSize(FIELD_OBSERVED_ADDR, msg.observedAddr.length)
  if (versionBytes !== undefined) size += lengthDelimitedSize(FIELD_PROTOCOL_VERSION, versionBytes.length)
  if (agentBytes !== undefined) size += lengthDelimitedSize(FIELD_AGENT_VERSION, agentBytes.length)
  if (msg.signedPeerRecord !== undefined) size += lengthDelimitedSize(FIELD_SIGNED_PEER_RECORD, msg.signedPeerRecord.length)

  const w = new ProtobufWriter(Math.max(size, 1))
  if (msg.publicKey !== undefined) w.bytes(FIELD_PUBLIC_KEY, msg.publicKey)
  for (const a of msg.listenAddrs) w.bytes(FIELD_LISTEN_ADDRS, a)
  for (const p of protocolBytes) w.bytes(FIELD_PROTOCOLS, p)
  if (msg.observedAddr !== undefined) w.bytes(FIELD_OBSERVED_ADDR, msg.observedAddr)
  if (versionBytes !== undefined) w.bytes(FIELD_PROTOCOL_VERSION, versionBytes)
  if (agentBytes !== undefined) w.bytes(FIELD_AGENT_VERSION, agentBytes)
  if (msg.signedPeerRecord !== undefined) w.bytes(FIELD_SIGNED_PEER_RECORD, msg.signedPeerRecord)
  return w.finish()
}

/**
 * Decodes one message, merging it into `into` when given (protobuf merge semantics). Byte
 * fields are views into `bytes`; callers that keep them must not reuse `bytes`.
 * Throws InvalidMessageError on malformed input or when a bound is exceeded.
 */
export function decodeIdentify (bytes: Uint8Array, limits: Readonly<IdentifyLimits> = DEFAULT_IDENTIFY_LIMITS, into: IdentifyMessage = emptyIdentifyMessage()): IdentifyMessage {
  if (bytes.length > limits.maxMessageSize) throw new MessageTooLargeError(`identify message of ${bytes.length} bytes exceeds ${limits.maxMessageSize}`)
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    switch (field) {
      case FIELD_PUBLIC_KEY: into.publicKey = r.bytes(wire); break
      case FIELD_LISTEN_ADDRS: pushBounded(into.listenAddrs, r.bytes(wire, limits.maxAddrLength), limits.maxListenAddrs, 'listen addresses'); break
      case FIELD_PROTOCOLS: pushBounded(into.protocols, r.string(wire, limits.maxStringLength), limits.maxProtocols, 'protocols'); break
      case FIELD_OBSERVED_ADDR: into.observedAddr = r.bytes(wire, limits.maxAddrLength); break
      case FIELD_PROTOCOL_VERSION: into.protocolVersion = r.string(wire, limits.maxStringLength); break
      case FIELD_AGENT_VERSION: into.agentVersion = r.string(wire, limits.maxStringLength); break
      case FIELD_SIGNED_PEER_RECORD: into.signedPeerRecord = r.bytes(wire); break
      default: r.skip(wire)
    }
  }
  return into
}

/**
 * Splits a message the way go does when it is too large for one LP frame: the second part
 * carries only the signed peer record. Returns one message when everything fits.
 */
export function encodeIdentifyFrames (msg: IdentifyMessage, maxMessageSize: number): Uint8Array[] {
  const whole = encodeIdentify(msg)
  if (whole.length <= maxMessageSize || msg.signedPeerRecord === undefined) return [whole]
  const rest = encodeIdentify({ ...msg, signedPeerRecord: undefined })
  const record = encodeIdentify({ listenAddrs: [], protocols: [], signedPeerRecord: msg.signedPeerRecord })
  return [rest, record]
}

export interface ReadIdentifyOptions extends AbortOptions {
  limits?: Readonly<IdentifyLimits>
}

/**
 * Reads LP-framed identify messages until the remote closes its write side and merges them.
 * Fails with MessageTooLargeError / InvalidMessageError / UnexpectedEOFError on hostile input.
 */
export async function readIdentify (stream: ByteStream, options: ReadIdentifyOptions = {}): Promise<IdentifyMessage> {
  const limits = options.limits ?? DEFAULT_IDENTIFY_LIMITS
  const reader = new StreamReader(stream)
  const msg = emptyIdentifyMessage()
  let count = 0
  for (;;) {
    const frame = await reader.readLP({ maxLength: limits.maxMessageSize, signal: options.signal })
    if (frame === null) break
    if (++count > limits.maxMessages) throw new InvalidMessageError(`more than ${limits.maxMessages} identify messages`)
    decodeIdentify(frame, limits, msg)
  }
  if (count === 0) throw new InvalidMessageError('the stream ended without an identify message')
  return msg
}
