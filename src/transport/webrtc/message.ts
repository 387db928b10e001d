/**
 * The framing every libp2p data channel uses (specs webrtc/README.md): a sequence of
 * varint-length-prefixed protobuf `Message { optional Flag flag = 1; optional bytes message = 2 }`
 * with Flag FIN = 0, STOP_SENDING = 1, RESET_STREAM = 2, FIN_ACK = 3.
 *
 * A frame, prefix included, is at most 16 KiB: go and js refuse anything larger, so we never
 * send one and a peer that does gets WebRTCFrameTooLargeError (its stream is reset, the
 * connection lives on). A frame usually arrives as exactly one data channel message and is then
 * parsed in place; the decoder still copes with frames split across or packed into messages,
 * buffering at most one frame.
 */
import { decodeVarint, encodeVarintInto, varintLength } from '../../util/varint.ts'
import { InvalidMessageError } from '../../util/errors.ts'
import { WebRTCFrameTooLargeError, WebRTCMessageError } from './errors.ts'

export const Flag = {
  FIN: 0,
  STOP_SENDING: 1,
  RESET_STREAM: 2,
  FIN_ACK: 3
} as const
export type FlagValue = typeof Flag[keyof typeof Flag]

/** The largest frame, length prefix included (specs: 16 KiB). */
export const MAX_FRAME_LENGTH = 16 * 1024
/** Prefix (<= 2 bytes for 16 KiB) + field tag + payload length varint (<= 3 bytes) + flag (2). */
const FRAME_OVERHEAD = 2 + 1 + 3 + 2
/**
 * The largest frame we send. Smaller than the 16 KiB we accept because go-libp2p reads each
 * data channel message through a 4096-byte buffer and fails ("short buffer") on a larger one
 * (measured against go-libp2p 0.51 in test/interop/webrtc-direct.test.ts).
 */
export const MAX_SEND_FRAME_LENGTH = 4096
/** The largest payload we put in one frame. */
export const MAX_PAYLOAD_LENGTH = MAX_SEND_FRAME_LENGTH - FRAME_OVERHEAD

/** One frame carrying `payload` (no flag). Costs one allocation and one copy. */
export function encodeDataFrame (payload: Uint8Array): Uint8Array {
  const bodyLength = 1 + varintLength(payload.length) + payload.length
  const frame = new Uint8Array(varintLength(bodyLength) + bodyLength)
  let pos = encodeVarintInto(bodyLength, frame, 0)
  frame[pos++] = 0x12
  pos = encodeVarintInto(payload.length, frame, pos)
  frame.set(payload, pos)
  return frame
}

/** One frame carrying only `flag`. Flags are < 128, so the frame is 3 bytes. */
export function encodeFlagFrame (flag: FlagValue): Uint8Array {
  return Uint8Array.of(2, 0x08, flag)
}

export interface FrameHandler {
  /** A frame's payload (a view into the received bytes, valid until the next message). */
  onData(payload: Uint8Array): void
  onFlag(flag: FlagValue): void
}

/**
 * Splits received data channel messages into frames. `push` throws WebRTCMessageError or
 * WebRTCFrameTooLargeError for bytes that break the framing; the decoder is then unusable.
 */
export class FrameDecoder {
  readonly #handler: FrameHandler
  /** A partial frame kept between messages (rare: peers send one frame per message). */
  #partial: Uint8Array | undefined

  constructor (handler: FrameHandler) {
    this.#handler = handler
  }

  push (chunk: Uint8Array): void {
    let buf = chunk
    if (this.#partial !== undefined) {
      const joined = new Uint8Array(this.#partial.length + chunk.length)
      joined.set(this.#partial, 0)
      joined.set(chunk, this.#partial.length)
      buf = joined
      this.#partial = undefined
    }
    let offset = 0
    while (offset < buf.length) {
      let prefix: [number, number] | undefined
      try {
        prefix = decodeVarint(buf, offset, 3)
      } catch (err) {
        throw new WebRTCMessageError('bad frame length prefix', { cause: err })
      }
      if (prefix === undefined) break
      const [bodyLength, prefixLength] = prefix
      if (prefixLength + bodyLength > MAX_FRAME_LENGTH) {
        throw new WebRTCFrameTooLargeError(`frame of ${prefixLength + bodyLength} bytes exceeds ${MAX_FRAME_LENGTH}`)
      }
      const end = offset + prefixLength + bodyLength
      if (end > buf.length) break
      this.#decodeBody(buf, offset + prefixLength, end)
      offset = end
    }
    if (offset < buf.length) {
      // Only the unfinished frame is kept, and it is bounded by MAX_FRAME_LENGTH (checked
      // above once its prefix is known; a prefix itself is at most 3 bytes).
      this.#partial = buf.slice(offset)
    }
  }

  /** Bytes of an unfinished frame held back. */
  get bufferedLength (): number { return this.#partial?.length ?? 0 }

  #decodeBody (buf: Uint8Array, start: number, end: number): void {
    let pos = start
    let flag: FlagValue | undefined
    let payload: Uint8Array | undefined
    try {
      while (pos < end) {
        const tag = buf[pos++]
        if (tag === 0x08) {
          const v = decodeVarint(buf.subarray(0, end), pos)
          if (v === undefined) throw new WebRTCMessageError('truncated flag')
          if (v[0] > 3) throw new WebRTCMessageError(`unknown flag ${v[0]}`)
          flag = v[0] as FlagValue
          pos += v[1]
        } else if (tag === 0x12) {
          const v = decodeVarint(buf.subarray(0, end), pos)
          if (v === undefined || pos + v[1] + v[0] > end) throw new WebRTCMessageError('truncated message field')
          pos += v[1]
          payload = buf.subarray(pos, pos + v[0])
          pos += v[0]
        } else {
          throw new WebRTCMessageError(`unexpected field tag 0x${tag.toString(16)}`)
        }
      }
    } catch (err) {
      if (err instanceof WebRTCMessageError) throw err
      if (err instanceof InvalidMessageError) throw new WebRTCMessageError(err.message, { cause: err })
      throw err
    }
    // The spec allows a flag and data in one frame: data first, then the flag's effect.
    if (payload !== undefined && payload.length > 0) this.#handler.onData(payload)
    if (flag !== undefined) this.#handler.onFlag(flag)
  }
}
