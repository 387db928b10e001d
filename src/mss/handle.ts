/**
 * The listener side of multistream-select 1.0: answers the header, echoes the first proposal
 * it supports (refusing others with `na`), answers `ls`, and returns the agreed protocol.
 *
 * A dialer using lazy (optimistic) select sends its proposal and application data in one
 * write; whatever follows the accepted proposal is handed back to the stream, so the protocol
 * handler reads it as if negotiation had never touched it.
 */
import type { ByteStream } from '../interface/stream.ts'
import { InvalidMessageError, UnsupportedProtocolError } from '../util/errors.ts'
import { encodeLP, StreamReader } from '../util/stream-reader.ts'
import { decodeMessageBody, encodeMessage, encodeMessages, headerAndMessage, HEADER_BYTES, LS, MAX_MESSAGE_LENGTH, MAX_NEGOTIATION_ROUNDS, NA, NA_BYTES, PROTOCOL_ID, readMessage, takeMessage } from './codec.ts'
import { decodeVarint } from '../util/varint.ts'
import { negotiationDeadline, type MssOptions } from './select.ts'

export type ProtocolMatcher = readonly string[] | ((protocol: string) => boolean)

/**
 * Negotiates the protocol for an incoming stream. Throws UnsupportedProtocolError after
 * MAX_NEGOTIATION_ROUNDS refused proposals, and typed framing errors on malformed input.
 */
export async function handle (stream: ByteStream, protocols: ProtocolMatcher, options?: MssOptions): Promise<string> {
  const negotiation = negotiationDeadline(options)
  const opts = negotiation.options
  const supports = typeof protocols === 'function' ? protocols : (p: string) => protocols.includes(p)
  const reader = new StreamReader(stream)
  try {
    // What already arrived is parsed without a promise per message: a lazily proposed stream
    // brings header, proposal and data in one chunk, and its handler is on the path of the
    // dialer's first request.
    reader.takeQueued()
    const first = takeMessage(reader) ?? await readMessage(reader, opts)
    if (first !== PROTOCOL_ID) throw new InvalidMessageError(`expected the ${PROTOCOL_ID} header, got "${first.slice(0, 64)}"`)
    // When the proposal already arrived with the header, our header rides along with the
    // answer in one write; otherwise send it now, because the dialer may wait for it.
    let headerPending = reader.buffered > 0
    if (!headerPending) await stream.write(HEADER_BYTES, opts)
    /** Sends `answer` (behind our header the first time); a promise only when the stream is above its high-water mark. */
    const reply = (answer: Uint8Array): Promise<void> | undefined => {
      if (headerPending) {
        headerPending = false
        answer = encodeMessages(HEADER_BYTES, answer)
      }
      return stream.send(answer) ? undefined : stream.drain(opts)
    }
    for (let round = 0; round < MAX_NEGOTIATION_ROUNDS; round++) {
      const proposal = takeMessage(reader) ?? await readMessage(reader, opts)
      let pending: Promise<void> | undefined
      if (proposal === LS) {
        pending = reply(encodeLP(encodeListing(typeof protocols === 'function' ? [] : protocols)))
      } else if (proposal !== PROTOCOL_ID && proposal !== 'na' && supports(proposal)) {
        pending = reply(encodeMessage(proposal))
        if (pending !== undefined) await pending
        return proposal
      } else {
        pending = reply(NA_BYTES)
      }
      if (pending !== undefined) await pending
    }
    throw new UnsupportedProtocolError(`the dialer made ${MAX_NEGOTIATION_ROUNDS} proposals without a supported one`)
  } finally {
    reader.release()
    negotiation.clear()
  }
}

/**
 * The listener's synchronous path: when the dialer's header and a supported proposal are
 * already queued on the stream, in its first chunk (a lazily proposed stream sends them with
 * its first data), answers them (our header and the echo, in one send), hands the bytes
 * behind them back to the stream and returns the protocol, with no promise and no time limit
 * to arm. Anything else (nothing queued yet, a split or malformed message, an unsupported
 * proposal, `ls`) leaves the stream as it was and returns undefined: `handle` negotiates then,
 * with its typed errors and its time limit.
 */
export function handleQueued (stream: ByteStream, protocols: ProtocolMatcher): string | undefined {
  const chunk = stream.tryRead?.()
  if (chunk === undefined) return undefined
  const protocol = queuedProposal(chunk, protocols)
  if (protocol === undefined) {
    stream.unshift(chunk)
    return undefined
  }
  const answer = headerAndMessage(protocol)
  // The dialer sent exactly our answer's bytes (valid, minimally encoded messages); only a
  // proposal whose text decodes to itself is taken here, so what follows starts at its length.
  if (chunk.length > answer.length) stream.unshift(chunk.subarray(answer.length))
  // Sent without waiting for the stream to drain: the handler's own writes see the backpressure.
  stream.send(answer.slice())
  return protocol
}

/** The protocol `chunk` proposes right behind the header, when it is supported and encoded as we would; else undefined. */
function queuedProposal (chunk: Uint8Array, protocols: ProtocolMatcher): string | undefined {
  const headerLength = HEADER_BYTES.length
  if (chunk.length <= headerLength + 2) return undefined
  for (let i = 0; i < headerLength; i++) if (chunk[i] !== HEADER_BYTES[i]) return undefined
  let prefix: [number, number] | undefined
  try {
    prefix = decodeVarint(chunk, headerLength, 2)
  } catch {
    return undefined
  }
  if (prefix === undefined) return undefined
  const [length, prefixBytes] = prefix
  const start = headerLength + prefixBytes
  if (length < 2 || length > MAX_MESSAGE_LENGTH || chunk.length < start + length) return undefined
  let proposal: string
  try {
    proposal = decodeMessageBody(chunk.subarray(start, start + length))
  } catch {
    return undefined
  }
  if (proposal === PROTOCOL_ID || proposal === NA || proposal === LS) return undefined
  if (!(typeof protocols === 'function' ? protocols(proposal) : protocols.includes(proposal))) return undefined
  // a body that does not encode back to the same bytes (a byte-order mark, say) goes the long way
  return headerAndMessage(proposal).length === start + length ? proposal : undefined
}

/** The `ls` answer body: each protocol as its own message, then a final newline. */
export function encodeListing (protocols: readonly string[]): Uint8Array {
  return encodeMessages(...protocols.map(encodeMessage), Uint8Array.of(0x0a))
}
