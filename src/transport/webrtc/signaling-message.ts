/**
 * The `/webrtc-signaling/0.0.1` message (specs webrtc/webrtc.md "Signaling Protocol"): each is
 * varint-length-prefixed protobuf `Message { optional Type type = 1; optional string data = 2 }`
 * with Type SDP_OFFER = 0, SDP_ANSWER = 1, ICE_CANDIDATE = 2. `data` is the SDP text, or an
 * ICE candidate as the JSON of `RTCIceCandidate.toJSON()`.
 *
 * Bounded: a message is at most MAX_SIGNALING_MESSAGE_LENGTH bytes (an SDP with one data
 * channel m-line is ~1 KiB, a candidate ~200 bytes), an unknown type or a missing field is a
 * WebRTCSignalingError, and candidate JSON is checked field by field before it reaches the
 * native WebRTC code.
 */
import { ProtobufReader, ProtobufWriter, WIRE_VARINT } from '../../util/protobuf.ts'
import { WebRTCSignalingError } from './errors.ts'

export const SIGNALING_PROTOCOL = '/webrtc-signaling/0.0.1'

/** The largest signaling message we read or write (its length prefix excluded). */
export const MAX_SIGNALING_MESSAGE_LENGTH = 64 * 1024
/** The longest candidate line we pass on (RFC 8839 lines are well under 1 KiB). */
const MAX_CANDIDATE_LENGTH = 1024

export const SignalingType = {
  SDP_OFFER: 0,
  SDP_ANSWER: 1,
  ICE_CANDIDATE: 2
} as const
export type SignalingTypeValue = typeof SignalingType[keyof typeof SignalingType]

export interface SignalingMessage {
  type: SignalingTypeValue
  data: string
}

export function encodeSignalingMessage (message: SignalingMessage): Uint8Array {
  // proto3 `optional`: the type is written even when it is SDP_OFFER (0), as go and js do.
  return new ProtobufWriter(message.data.length + 16).uint(1, message.type).string(2, message.data).finish()
}

export function decodeSignalingMessage (bytes: Uint8Array): SignalingMessage {
  if (bytes.length > MAX_SIGNALING_MESSAGE_LENGTH) throw new WebRTCSignalingError(`signaling message of ${bytes.length} bytes (limit ${MAX_SIGNALING_MESSAGE_LENGTH})`)
  let type: number | undefined
  let data: string | undefined
  try {
    const reader = new ProtobufReader(bytes)
    while (!reader.done) {
      const [field, wire] = reader.tag()
      if (field === 1 && wire === WIRE_VARINT) type = reader.uint(wire)
      else if (field === 2) data = reader.string(wire, MAX_SIGNALING_MESSAGE_LENGTH)
      else reader.skip(wire)
    }
  } catch (err) {
    throw new WebRTCSignalingError(`malformed signaling message: ${(err as Error).message}`, { cause: err })
  }
  if (type !== SignalingType.SDP_OFFER && type !== SignalingType.SDP_ANSWER && type !== SignalingType.ICE_CANDIDATE) {
    throw new WebRTCSignalingError(`signaling message of unknown type ${String(type)}`)
  }
  return { type, data: data ?? '' }
}

/** What `RTCPeerConnection.addIceCandidate` takes, checked. */
export interface IceCandidateInit {
  candidate: string
  sdpMid?: string | null
  sdpMLineIndex?: number | null
  usernameFragment?: string | null
}

/**
 * Parses an ICE_CANDIDATE's data. `null` is returned for the end-of-candidates markers (the
 * JSON `null`, or an empty candidate string, which peers send when gathering finished).
 */
export function parseCandidate (data: string): IceCandidateInit | null {
  let value: unknown
  try {
    value = JSON.parse(data)
  } catch (err) {
    throw new WebRTCSignalingError('an ICE candidate that is not JSON', { cause: err })
  }
  if (value === null || value === '') return null
  if (typeof value !== 'object') throw new WebRTCSignalingError('an ICE candidate that is not a JSON object')
  const { candidate, sdpMid, sdpMLineIndex, usernameFragment } = value as Record<string, unknown>
  if (typeof candidate !== 'string' || candidate.length > MAX_CANDIDATE_LENGTH) throw new WebRTCSignalingError('an ICE candidate without a valid candidate line')
  if (candidate === '') return null
  const init: IceCandidateInit = { candidate }
  if (sdpMid !== undefined && sdpMid !== null) {
    if (typeof sdpMid !== 'string' || sdpMid.length > 64) throw new WebRTCSignalingError('an ICE candidate with an invalid sdpMid')
    init.sdpMid = sdpMid
  }
  if (sdpMLineIndex !== undefined && sdpMLineIndex !== null) {
    if (typeof sdpMLineIndex !== 'number' || !Number.isInteger(sdpMLineIndex) || sdpMLineIndex < 0 || sdpMLineIndex > 255) throw new WebRTCSignalingError('an ICE candidate with an invalid sdpMLineIndex')
    init.sdpMLineIndex = sdpMLineIndex
  }
  if (usernameFragment !== undefined && usernameFragment !== null) {
    if (typeof usernameFragment !== 'string' || usernameFragment.length > 256) throw new WebRTCSignalingError('an ICE candidate with an invalid usernameFragment')
    init.usernameFragment = usernameFragment
  }
  if (init.sdpMid === undefined && init.sdpMLineIndex === undefined) init.sdpMLineIndex = 0
  return init
}
