/**
 * Length-prefixed protobuf (LP-pb) messaging over a ByteStream: the framing that identify,
 * the DHT, pubsub, relay, AutoNAT and the daemon all use. A `MessageStream` keeps one buffered
 * reader for the life of the stream, so several messages per stream (DHT requests, pubsub
 * RPCs) cost no re-buffering, and every read is bounded by `maxLength`.
 */
import type { AbortOptions } from '../interface/common.ts'
import type { ByteStream } from '../interface/stream.ts'
import { InvalidMessageError } from './errors.ts'
import { StreamReader, encodeLP } from './stream-reader.ts'

export interface MessageCodec<In, Out> {
  /** Must throw a typed error (e.g. InvalidMessageError) for malformed bytes. */
  decode(bytes: Uint8Array): In
  encode(message: Out): Uint8Array
}

export interface MessageStreamOptions<In, Out> extends MessageCodec<In, Out> {
  /** Largest accepted message in bytes. */
  maxLength: number
}

export class MessageStream<In, Out = In> {
  readonly stream: ByteStream
  readonly #reader: StreamReader
  readonly #options: MessageStreamOptions<In, Out>

  constructor (stream: ByteStream, options: MessageStreamOptions<In, Out>) {
    this.stream = stream
    this.#reader = new StreamReader(stream)
    this.#options = options
  }

  /** The next message, or null when the stream ended cleanly between messages. */
  async read (options?: AbortOptions): Promise<In | null> {
    const bytes = await this.#reader.readLP({ maxLength: this.#options.maxLength, signal: options?.signal })
    if (bytes === null) return null
    return decodeOrThrow(this.#options, bytes)
  }

  /** Writes one message (length prefix and body in one write). */
  async write (message: Out, options?: AbortOptions): Promise<void> {
    await this.stream.write(encodeLP(this.#options.encode(message)), options)
  }

  /** Hands buffered bytes back to the stream, e.g. before switching to raw bytes. */
  release (): void {
    this.#reader.release()
  }
}

function decodeOrThrow<In> (codec: { decode(bytes: Uint8Array): In }, bytes: Uint8Array): In {
  try {
    return codec.decode(bytes)
  } catch (err) {
    if (err instanceof Error && 'code' in err) throw err
    throw new InvalidMessageError(`malformed message: ${(err as Error).message}`, { cause: err })
  }
}

/** Reads exactly one LP-pb message from a stream, leaving any later bytes unread. */
export async function readMessage<In> (stream: ByteStream, decode: (bytes: Uint8Array) => In, options: AbortOptions & { maxLength: number }): Promise<In | null> {
  const ms = new MessageStream<In, never>(stream, { decode, encode: () => new Uint8Array(0), maxLength: options.maxLength })
  try {
    return await ms.read(options)
  } finally {
    ms.release()
  }
}

/** Writes one LP-pb message. */
export async function writeMessage<Out> (stream: ByteStream, message: Out, encode: (message: Out) => Uint8Array, options?: AbortOptions): Promise<void> {
  await stream.write(encodeLP(encode(message)), options)
}
