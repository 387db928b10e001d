/**
 * Message framing on top of a ByteStream: read exact byte counts, varints and
 * length-prefixed (LP) messages, each with a size limit, an optional AbortSignal, and typed
 * errors for truncation. Bytes read past the last message are handed back to the stream with
 * `release()`, so a protocol handler that takes over the stream sees them (e.g. data that
 * follows a multistream-select proposal).
 */
import type { AbortOptions } from '../interface/common.ts'
import type { ByteStream } from '../interface/stream.ts'
import { concatBytes } from './bytes.ts'
import { InvalidMessageError, MessageTooLargeError, UnexpectedEOFError } from './errors.ts'
import { decodeVarint, encodeVarintInto, varintLength } from './varint.ts'

export interface ReadLPOptions extends AbortOptions {
  /** Largest accepted message length (required: there is no unbounded read). */
  maxLength: number
}

const EMPTY = new Uint8Array(0)

export class StreamReader {
  readonly stream: ByteStream
  #buf: Uint8Array = EMPTY
  #offset = 0

  constructor (stream: ByteStream) {
    this.stream = stream
  }

  get buffered (): number { return this.#buf.length - this.#offset }

  /** Reads one more chunk into the buffer; false at end-of-stream. */
  async #fill (options?: AbortOptions): Promise<boolean> {
    const chunk = await this.stream.read(options)
    if (chunk === null) return false
    this.#append(chunk)
    return true
  }

  /**
   * With nothing buffered, takes the chunk the stream already has queued (`tryRead`), without
   * a promise; true when one was taken. A message that came in one chunk (a multistream-select
   * proposal with its header) can then be parsed synchronously with `takeLP`.
   */
  takeQueued (): boolean {
    if (this.buffered > 0 || this.stream.tryRead === undefined) return false
    const chunk = this.stream.tryRead()
    if (chunk === undefined) return false
    this.#append(chunk)
    return true
  }

  /**
   * One LP message if it is buffered whole (a view, as readExactly's), else undefined with
   * nothing consumed: a partial, oversized or malformed one is left to `readLP`, which waits
   * for the rest or reports it with its typed error.
   */
  takeLP (maxLength: number): Uint8Array | undefined {
    let prefix: [number, number] | undefined
    try {
      prefix = decodeVarint(this.#buf, this.#offset, varintLength(maxLength))
    } catch {
      return undefined
    }
    if (prefix === undefined) return undefined
    const [length, prefixBytes] = prefix
    if (length > maxLength || this.buffered < prefixBytes + length) return undefined
    const start = this.#offset + prefixBytes
    this.#offset = start + length
    return this.#buf.subarray(start, start + length)
  }

  #append (chunk: Uint8Array): void {
    if (this.#offset >= this.#buf.length) {
      this.#buf = chunk
    } else {
      const rest = this.#buf.subarray(this.#offset)
      const joined = new Uint8Array(rest.length + chunk.length)
      joined.set(rest, 0)
      joined.set(chunk, rest.length)
      this.#buf = joined
    }
    this.#offset = 0
  }

  /** Exactly `n` bytes (a view; copy it if you keep it past the next read). */
  async readExactly (n: number, options?: AbortOptions): Promise<Uint8Array> {
    // The common case: the bytes are in one chunk, returned as a view without a copy.
    if (this.buffered === 0 && n > 0) {
      if (!(await this.#fill(options))) throw new UnexpectedEOFError(`stream ended after 0 of ${n} bytes`)
    }
    if (this.buffered >= n) {
      const out = this.#buf.subarray(this.#offset, this.#offset + n)
      this.#offset += n
      return out
    }
    return await this.#gather(n, options)
  }

  /**
   * `n` bytes spread over several chunks: the chunks are kept as they arrive and copied once,
   * into one buffer of `n`, when the last one is in. Joining chunk by chunk would copy a large
   * message again for every chunk; allocating `n` up front would let a peer that announces a
   * large length and sends nothing hold that memory.
   */
  async #gather (n: number, options?: AbortOptions): Promise<Uint8Array> {
    const parts: Uint8Array[] = []
    let received = this.buffered
    if (received > 0) parts.push(this.#buf.subarray(this.#offset))
    this.#buf = EMPTY
    this.#offset = 0
    try {
      while (received < n) {
        const chunk = await this.stream.read(options)
        if (chunk === null) throw new UnexpectedEOFError(`stream ended after ${received} of ${n} bytes`)
        parts.push(chunk)
        received += chunk.length
      }
    } catch (err) {
      // What arrived stays buffered, as if the read had never started (release() returns it).
      this.#buf = concatBytes(parts, received)
      throw err
    }
    const out = new Uint8Array(n)
    let filled = 0
    for (const part of parts) {
      const take = Math.min(part.length, n - filled)
      out.set(take === part.length ? part : part.subarray(0, take), filled)
      filled += take
      if (take < part.length) {
        this.#buf = part
        this.#offset = take
      }
    }
    return out
  }

  /** A varint, or null if the stream ended cleanly before its first byte. */
  async readVarint (options?: AbortOptions & { maxBytes?: number }): Promise<number | null> {
    for (;;) {
      const r = decodeVarint(this.#buf, this.#offset, options?.maxBytes)
      if (r !== undefined) {
        this.#offset += r[1]
        return r[0]
      }
      const had = this.buffered
      if (!(await this.#fill(options))) {
        if (had === 0) return null
        throw new UnexpectedEOFError('stream ended inside a varint')
      }
    }
  }

  /** One LP message, or null at a clean end-of-stream between messages. */
  async readLP (options: ReadLPOptions): Promise<Uint8Array | null> {
    const maxVarintBytes = varintLength(options.maxLength)
    let length: number | null
    try {
      length = await this.readVarint({ signal: options.signal, maxBytes: maxVarintBytes })
    } catch (err) {
      if (err instanceof InvalidMessageError && this.buffered >= maxVarintBytes) {
        throw new MessageTooLargeError(`message length prefix exceeds the ${options.maxLength} byte limit`)
      }
      throw err
    }
    if (length === null) return null
    if (length > options.maxLength) throw new MessageTooLargeError(`message of ${length} bytes exceeds the ${options.maxLength} byte limit`)
    return await this.readExactly(length, options)
  }

  /** Hands unread buffered bytes back to the stream and detaches. */
  release (): void {
    if (this.buffered > 0) this.stream.unshift(this.#buf.subarray(this.#offset))
    this.#buf = EMPTY
    this.#offset = 0
  }
}

/** `uvarint(length) || data` in one buffer. */
export function encodeLP (data: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintLength(data.length) + data.length)
  const offset = encodeVarintInto(data.length, out, 0)
  out.set(data, offset)
  return out
}

/** Writes one LP message. */
export async function writeLP (stream: ByteStream, data: Uint8Array, options?: AbortOptions): Promise<void> {
  await stream.write(encodeLP(data), options)
}

/**
 * Reads exactly one LP message from a fresh stream, handing any extra bytes back to it.
 * Throws UnexpectedEOFError if the stream ends first.
 */
export async function readLP (stream: ByteStream, options: ReadLPOptions): Promise<Uint8Array> {
  const reader = new StreamReader(stream)
  try {
    const msg = await reader.readLP(options)
    if (msg === null) throw new UnexpectedEOFError('stream ended before a message')
    return msg.slice()
  } finally {
    reader.release()
  }
}
