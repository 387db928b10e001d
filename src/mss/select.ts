/**
 * The dialer side of multistream-select 1.0: `select` proposes protocols one by one until the
 * listener echoes one, `listProtocols` asks for the listener's list with `ls`.
 *
 * The header and the first proposal go out in one write, so a listener that accepts the first
 * proposal costs exactly one round trip. For zero round trips see `lazySelect`.
 */
import type { AbortOptions } from '../interface/common.ts'
import type { ByteStream } from '../interface/stream.ts'
import { Deadline } from '../util/deadline.ts'
import { InvalidMessageError, InvalidParametersError, UnsupportedProtocolError } from '../util/errors.ts'
import { StreamReader } from '../util/stream-reader.ts'
import { decodeMessageBody, encodeMessage, encodeMessages, HEADER_BYTES, LS_BYTES, NA, PROTOCOL_ID, readMessage } from './codec.ts'
import { decodeVarint } from '../util/varint.ts'

export interface MssOptions extends AbortOptions {
  /** Upper bound for the whole negotiation, in milliseconds (TimeoutError when exceeded). */
  timeoutMs?: number
}

/** The options one negotiation runs with, and `clear()` to release its time limit when it ends. */
export function negotiationDeadline (options?: MssOptions): { options: AbortOptions, clear: () => void } {
  if (options?.timeoutMs === undefined) return { options: options ?? {}, clear: noop }
  const deadline = new Deadline(options.timeoutMs, options.signal, 'multistream-select negotiation timed out')
  return { options: { signal: deadline.signal }, clear: () => { deadline.clear() } }
}

function noop (): void {}

/** Reads the listener's header; anything else means it does not speak multistream 1.0. */
export async function expectHeader (reader: StreamReader, options?: AbortOptions): Promise<void> {
  const header = await readMessage(reader, options)
  if (header !== PROTOCOL_ID) throw new InvalidMessageError(`expected the ${PROTOCOL_ID} header, got "${header.slice(0, 64)}"`)
}

/**
 * Proposes `protocols` in preference order and returns the one the listener accepted.
 * Throws UnsupportedProtocolError when it refused them all. Data the listener sent after its
 * answer stays readable on `stream`.
 */
export async function select (stream: ByteStream, protocols: readonly string[], options?: MssOptions): Promise<string> {
  if (protocols.length === 0) throw new InvalidParametersError('select needs at least one protocol')
  const proposals = protocols.map(encodeMessage)
  const negotiation = negotiationDeadline(options)
  const opts = negotiation.options
  const reader = new StreamReader(stream)
  try {
    await stream.write(encodeMessages(HEADER_BYTES, proposals[0]), opts)
    await expectHeader(reader, opts)
    for (let i = 0; ;) {
      const answer = await readMessage(reader, opts)
      if (answer === protocols[i]) return protocols[i]
      if (answer !== NA) throw new InvalidMessageError(`listener answered "${answer.slice(0, 64)}" to "${protocols[i]}"`)
      if (++i === protocols.length) {
        throw new UnsupportedProtocolError(`the remote supports none of ${protocols.join(', ')}`)
      }
      await stream.write(proposals[i], opts)
    }
  } finally {
    reader.release()
    negotiation.clear()
  }
}

/** Largest `ls` answer accepted; it lists every protocol, so it may exceed one message. */
export const MAX_LS_RESPONSE_LENGTH = 64 * 1024
const MAX_LS_ENTRIES = 1024

/** Asks the listener for the protocols it supports (`ls` is optional: it may answer `na`). */
export async function listProtocols (stream: ByteStream, options?: MssOptions): Promise<string[]> {
  const negotiation = negotiationDeadline(options)
  const opts = negotiation.options
  const reader = new StreamReader(stream)
  try {
    await stream.write(encodeMessages(HEADER_BYTES, LS_BYTES), opts)
    await expectHeader(reader, opts)
    const body = await reader.readLP({ maxLength: MAX_LS_RESPONSE_LENGTH, signal: opts.signal })
    if (body === null) throw new InvalidMessageError('stream ended before the ls answer')
    if (body.length === 3 && decodeMessageBody(body) === NA) throw new UnsupportedProtocolError('the remote does not support ls')
    return decodeListing(body)
  } finally {
    reader.release()
    negotiation.clear()
  }
}

/** The `ls` answer body: LP-framed `proto\n` entries followed by a final `\n`. */
export function decodeListing (body: Uint8Array): string[] {
  const protocols: string[] = []
  let offset = 0
  const end = body.length - 1
  if (end < 0 || body[end] !== 0x0a) throw new InvalidMessageError('ls answer does not end with a newline')
  while (offset < end) {
    const prefix = decodeVarint(body, offset, 2)
    if (prefix === undefined) throw new InvalidMessageError('truncated ls entry')
    const [length, used] = prefix
    offset += used
    if (length > end - offset) throw new InvalidMessageError('ls entry exceeds the answer')
    if (protocols.length === MAX_LS_ENTRIES) throw new InvalidMessageError(`ls answer lists more than ${MAX_LS_ENTRIES} protocols`)
    protocols.push(decodeMessageBody(body.subarray(offset, offset + length)))
    offset += length
  }
  return protocols
}
