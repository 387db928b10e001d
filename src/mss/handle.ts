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
import { encodeMessage, encodeMessages, HEADER_BYTES, LS, MAX_NEGOTIATION_ROUNDS, NA_BYTES, PROTOCOL_ID, readMessage } from './codec.ts'
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
    const first = await readMessage(reader, opts)
    if (first !== PROTOCOL_ID) throw new InvalidMessageError(`expected the ${PROTOCOL_ID} header, got "${first.slice(0, 64)}"`)
    // When the proposal already arrived with the header, our header rides along with the
    // answer in one write; otherwise send it now, because the dialer may wait for it.
    let headerPending = reader.buffered > 0
    if (!headerPending) await stream.write(HEADER_BYTES, opts)
    const reply = async (answer: Uint8Array): Promise<void> => {
      if (headerPending) {
        headerPending = false
        answer = encodeMessages(HEADER_BYTES, answer)
      }
      await stream.write(answer, opts)
    }
    for (let round = 0; round < MAX_NEGOTIATION_ROUNDS; round++) {
      const proposal = await readMessage(reader, opts)
      if (proposal === LS) {
        await reply(encodeLP(encodeListing(typeof protocols === 'function' ? [] : protocols)))
      } else if (proposal !== PROTOCOL_ID && proposal !== 'na' && supports(proposal)) {
        await reply(encodeMessage(proposal))
        return proposal
      } else {
        await reply(NA_BYTES)
      }
    }
    throw new UnsupportedProtocolError(`the dialer made ${MAX_NEGOTIATION_ROUNDS} proposals without a supported one`)
  } finally {
    reader.release()
    negotiation.clear()
  }
}

/** The `ls` answer body: each protocol as its own message, then a final newline. */
export function encodeListing (protocols: readonly string[]): Uint8Array {
  return encodeMessages(...protocols.map(encodeMessage), Uint8Array.of(0x0a))
}
