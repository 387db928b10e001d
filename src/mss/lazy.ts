/**
 * Optimistic ("lazy") multistream-select: the dialer assumes the listener speaks `protocol`
 * (e.g. identify said so) and saves the round trip. Nothing is sent until the application
 * writes: the header and the proposal are prepended to that first write, so one packet
 * carries proposal + data. The listener's answers are consumed before the first read returns
 * application data; a refusal (`na`, or a reset before any answer) makes reads fail with
 * UnsupportedProtocolError.
 *
 * How: the stream's own `send`/`write`/`closeWrite`/`close`/`read`/`tryRead` are shadowed by
 * hooks on the instance, and each hook puts the original method back as soon as its job is done. After
 * negotiation the stream is the very same object calling its own methods, so the data path
 * pays nothing per chunk, the object keeps its identity (`id`, `protocol`, `metadata`), and it
 * works on any ByteStream whose methods are writable properties.
 */
import type { AbortOptions } from '../interface/common.ts'
import type { ByteStream } from '../interface/stream.ts'
import { raceSignal } from '../util/abort.ts'
import { InvalidMessageError, StreamResetError, UnsupportedProtocolError } from '../util/errors.ts'
import { StreamReader } from '../util/stream-reader.ts'
import { encodeMessages, headerAndMessage, NA, PROTOCOL_ID, readMessage, takeMessage } from './codec.ts'
import { expectHeader } from './select.ts'

/**
 * Returns `stream` (the same object) with `protocol` proposed optimistically. The caller
 * should only use it for a protocol the remote is known to support.
 */
export function lazySelect<S extends ByteStream> (stream: S, protocol: string): S {
  const proposal = headerAndMessage(protocol)
  const send = stream.send
  const write = stream.write
  const closeWrite = stream.closeWrite
  const close = stream.close
  const read = stream.read
  const tryRead = stream.tryRead
  let proposalSent = false
  let negotiation: Promise<void> | undefined

  /** Sends the proposal (with `data` behind it) and restores the write side. */
  const sendProposal = (data?: Uint8Array): boolean => {
    proposalSent = true
    stream.send = send
    stream.write = write
    stream.closeWrite = closeWrite
    stream.close = close
    // A copy either way: the cached proposal must not be handed to a transport whose
    // receiving end may own (and decrypt in place) the very buffer sent.
    const first = data !== undefined && data.length > 0 ? encodeMessages(proposal, data) : proposal.slice()
    return send.call(stream, first)
  }

  // The remote answers header + echo (or `na`) before any data of its own.
  const negotiate = async (): Promise<void> => {
    const reader = new StreamReader({
      read: (options?: AbortOptions) => read.call(stream, options),
      tryRead: tryRead === undefined ? undefined : () => tryRead.call(stream),
      unshift: (chunk: Uint8Array) => { stream.unshift(chunk) }
    } as unknown as ByteStream)
    try {
      // The answers usually arrive in one chunk with the first reply: parsed without a
      // promise per message when they are queued already.
      reader.takeQueued()
      const header = takeMessage(reader)
      if (header === undefined) await expectHeader(reader)
      else if (header !== PROTOCOL_ID) throw new InvalidMessageError(`expected the ${PROTOCOL_ID} header, got "${header.slice(0, 64)}"`)
      const answer = takeMessage(reader) ?? await readMessage(reader)
      if (answer === NA) throw new UnsupportedProtocolError(`the remote does not support ${protocol}`)
      if (answer !== protocol) throw new InvalidMessageError(`listener answered "${answer.slice(0, 64)}" to "${protocol}"`)
    } catch (err) {
      // A listener that refuses answers `na` and then parses our data as its next proposal,
      // which it resets the stream over (go-libp2p and we do); QUIC may deliver that reset
      // before, or instead of, the `na` it follows. Either way the proposal was refused.
      const failure = err instanceof StreamResetError
        ? new UnsupportedProtocolError(`the remote reset the stream instead of accepting ${protocol}`, { cause: err })
        : err as Error
      stream.abort(failure)
      throw failure
    } finally {
      reader.release()
    }
    stream.read = read
    if (tryRead !== undefined) stream.tryRead = tryRead
  }

  stream.send = (chunk: Uint8Array): boolean => proposalSent ? send.call(stream, chunk) : sendProposal(chunk)
  stream.write = async (chunk: Uint8Array, options?: AbortOptions): Promise<void> => {
    if (proposalSent) return await write.call(stream, chunk, options)
    if (!sendProposal(chunk)) await stream.drain(options)
  }
  stream.closeWrite = async (options?: AbortOptions): Promise<void> => {
    if (!proposalSent) sendProposal()
    await closeWrite.call(stream, options)
  }
  stream.close = async (options?: AbortOptions): Promise<void> => {
    if (!proposalSent) sendProposal()
    await close.call(stream, options)
  }
  stream.read = async (options?: AbortOptions): Promise<Uint8Array | null> => {
    // A protocol where the listener speaks first still needs the proposal to go out.
    if (!proposalSent) sendProposal()
    // The negotiation is not bound to this read's signal: an aborted read must not leave
    // half-consumed answers behind for the next one.
    if (negotiation === undefined) {
      negotiation = negotiate()
      // Whoever reads next sees the failure; an abandoned read must not leave it unhandled.
      negotiation.catch(() => {})
    }
    await raceSignal(negotiation, options?.signal)
    return await read.call(stream, options)
  }
  // Until the answers are consumed, whatever is queued is the listener's header and echo (a
  // go-libp2p listener sends its header as soon as it accepts), never application data: a
  // reader that drains synchronously first (node:tls over ByteStreamDuplex) must fall through
  // to read(), which runs the negotiation.
  if (tryRead !== undefined) stream.tryRead = (): undefined => undefined
  return stream
}

