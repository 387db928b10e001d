/**
 * multistream-select 1.0 message encoding: each message is `uvarint(len) || utf8 || "\n"`
 * where `len` counts the trailing newline, at most 1024 bytes (the limit go-libp2p and
 * js-libp2p enforce, so the length prefix never exceeds 2 bytes).
 */
import type { AbortOptions } from '../interface/common.ts'
import type { StreamReader } from '../util/stream-reader.ts'
import { InvalidMessageError, InvalidParametersError, UnexpectedEOFError } from '../util/errors.ts'
import { utf8Decode, utf8Encode } from '../util/bytes.ts'
import { encodeVarintInto, varintLength } from '../util/varint.ts'

export const PROTOCOL_ID = '/multistream/1.0.0'
/** Largest message body, newline included. */
export const MAX_MESSAGE_LENGTH = 1024
/** Proposals a listener answers (with `na` or `ls`) before giving up on a dialer. */
export const MAX_NEGOTIATION_ROUNDS = 32
export const NA = 'na'
export const LS = 'ls'

const NEWLINE = 0x0a

/** `uvarint(len) || text || "\n"`, validated against the 1024-byte limit. */
export function encodeMessage (text: string): Uint8Array {
  const body = utf8Encode(text)
  const length = body.length + 1
  if (body.length === 0 || length > MAX_MESSAGE_LENGTH) {
    throw new InvalidParametersError(`multistream message must be 1..${MAX_MESSAGE_LENGTH - 1} bytes, got ${body.length}`)
  }
  const out = new Uint8Array(varintLength(length) + length)
  const offset = encodeVarintInto(length, out, 0)
  out.set(body, offset)
  out[out.length - 1] = NEWLINE
  return out
}

/** Several messages in one buffer, so they go out in a single write. */
export function encodeMessages (...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const p of parts) length += p.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const p of parts) { out.set(p, offset); offset += p.length }
  return out
}

export const HEADER_BYTES = encodeMessage(PROTOCOL_ID)
export const NA_BYTES = encodeMessage(NA)
export const LS_BYTES = encodeMessage(LS)

/**
 * The header followed by `text`'s message: a lazy dialer's proposal and the listener's answer
 * to it. A node proposes and answers the same few protocols on every connection (ping,
 * identify, ...), so each is encoded once; bounded (past the limit the cache starts over).
 * The returned bytes are shared: copy them before handing them to a stream (the receiving
 * end of a transport may own, and decrypt in place, the very buffer sent).
 */
export function headerAndMessage (text: string): Uint8Array {
  let bytes = headerAndMessages.get(text)
  if (bytes === undefined) {
    bytes = encodeMessages(HEADER_BYTES, encodeMessage(text))
    if (headerAndMessages.size >= MAX_CACHED_HEADER_AND_MESSAGES) headerAndMessages.clear()
    headerAndMessages.set(text, bytes)
  }
  return bytes
}

const headerAndMessages = new Map<string, Uint8Array>()
const MAX_CACHED_HEADER_AND_MESSAGES = 64

/** Decodes a message body (without its length prefix); throws InvalidMessageError. */
export function decodeMessageBody (body: Uint8Array): string {
  if (body.length < 2 || body[body.length - 1] !== NEWLINE) {
    throw new InvalidMessageError('multistream message does not end with a newline')
  }
  try {
    return utf8Decode(body.subarray(0, body.length - 1))
  } catch {
    throw new InvalidMessageError('multistream message is not valid UTF-8')
  }
}

/**
 * readMessage's synchronous path: the next message when it is buffered whole (a proposal and
 * its header usually arrive in one chunk), else undefined (then readMessage waits for it).
 */
export function takeMessage (reader: StreamReader): string | undefined {
  const body = reader.takeLP(MAX_MESSAGE_LENGTH)
  return body === undefined ? undefined : decodeMessageBody(body)
}

/** Reads one message; a stream that ends first gives UnexpectedEOFError. */
export async function readMessage (reader: StreamReader, options?: AbortOptions, maxLength: number = MAX_MESSAGE_LENGTH): Promise<string> {
  const body = await reader.readLP({ maxLength, signal: options?.signal })
  if (body === null) throw new UnexpectedEOFError('stream ended during multistream-select negotiation')
  return decodeMessageBody(body)
}
