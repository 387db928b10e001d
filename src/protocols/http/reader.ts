/**
 * Reads HTTP/1.1 messages off a libp2p byte stream: the head (bounded by maxHeaderBytes and
 * maxHeaders) and then the body as a pull-based WHATWG ReadableStream, so a consumer that
 * stops reading stops the stream (backpressure reaches the remote through the muxer's flow
 * control). Bytes read past one message stay buffered for the next one (keep-alive).
 */
import type { ByteStream } from '../../interface/stream.ts'
import { ChunkedDecoder } from './chunked.ts'
import { Deadline } from '../../util/deadline.ts'
import { HttpBodyTooLargeError, HttpHeadersTooLargeError, HttpIncompleteMessageError, HttpTimeoutError } from './errors.ts'
import {
  DEFAULT_HTTP_LIMITS, findHeadEnd, parseRequestHead, parseResponseHead,
  type BodyFraming, type HttpLimits, type RequestHead, type ResponseHead
} from './head.ts'

const EMPTY = new Uint8Array(0)

export class HttpStreamReader {
  readonly stream: ByteStream
  readonly limits: HttpLimits
  #buf: Uint8Array = EMPTY
  #off = 0

  constructor (stream: ByteStream, limits: Partial<HttpLimits> = {}) {
    this.stream = stream
    this.limits = { ...DEFAULT_HTTP_LIMITS, ...limits }
  }

  /** Bytes received and not yet consumed by a message. */
  get buffered (): number { return this.#buf.length - this.#off }

  /** Reads one more chunk into the buffer; false at end-of-stream. */
  async #more (signal?: AbortSignal): Promise<boolean> {
    const chunk = await this.stream.read({ signal })
    if (chunk === null) return false
    if (this.#off >= this.#buf.length) {
      this.#buf = chunk
    } else {
      const joined = new Uint8Array(this.#buf.length - this.#off + chunk.length)
      joined.set(this.#buf.subarray(this.#off), 0)
      joined.set(chunk, this.#buf.length - this.#off)
      this.#buf = joined
    }
    this.#off = 0
    return true
  }

  /** The raw head (start line to blank line), or null if the stream ended before its first byte. */
  async readHead (signal?: AbortSignal): Promise<Uint8Array | null> {
    if (this.#off > 0) {
      this.#buf = this.#buf.subarray(this.#off)
      this.#off = 0
    }
    const max = this.limits.maxHeaderBytes
    const scan = { resume: 0 }
    for (;;) {
      const end = findHeadEnd(this.#buf, scan.resume, scan)
      if (end >= 0) {
        if (end > max) throw new HttpHeadersTooLargeError(`message head of ${end} bytes exceeds the ${max} byte limit`)
        this.#off = end
        return this.#buf.subarray(0, end)
      }
      if (this.#buf.length >= max) throw new HttpHeadersTooLargeError(`message head exceeds the ${max} byte limit`)
      if (!(await this.#more(signal))) {
        if (this.#buf.length === 0) return null
        throw new HttpIncompleteMessageError('stream ended inside a message head')
      }
    }
  }

  /** The next request's head, or null when the stream ended cleanly between requests. */
  async readRequestHead (signal?: AbortSignal): Promise<RequestHead | null> {
    const head = await this.readHead(signal)
    return head === null ? null : parseRequestHead(head, this.limits)
  }

  async readResponseHead (signal?: AbortSignal): Promise<ResponseHead> {
    const head = await this.readHead(signal)
    if (head === null) throw new HttpIncompleteMessageError('stream ended before a response')
    return parseResponseHead(head, this.limits)
  }

  /**
   * A reader of the body that follows the head just read. `exact`: the message must be the
   * last on the stream, so bytes already received past its end are an error (a response
   * longer than its Content-Length), not the next message.
   */
  bodyReader (framing: BodyFraming, options: { exact?: boolean } = {}): BodyReader {
    return new BodyReader(this, framing, options.exact === true)
  }

  /** Up to `max` buffered bytes (a view), or undefined when none are buffered. */
  takeBuffered (max: number): Uint8Array | undefined {
    const available = this.#buf.length - this.#off
    if (available === 0) return undefined
    const n = Math.min(available, max)
    const out = this.#buf.subarray(this.#off, this.#off + n)
    this.#off += n
    return out
  }

  /** Hands back bytes taken with takeBuffered that were not used. */
  untake (n: number): void {
    this.#off -= n
  }

  /** Waits for more bytes; false at end-of-stream. */
  async fill (signal?: AbortSignal): Promise<boolean> {
    return await this.#more(signal)
  }
}

/**
 * The body of one message, chunk by chunk (`next()` resolves null at its end). Checks the
 * framing as it goes: a length-delimited body that ends early, a chunked body that breaks the
 * coding, or a body over the limit fail with typed errors.
 */
export class BodyReader {
  readonly #reader: HttpStreamReader
  readonly #framing: BodyFraming
  #remaining: number
  #received = 0
  readonly #decoder: ChunkedDecoder | undefined
  #done: boolean
  readonly #exact: boolean

  constructor (reader: HttpStreamReader, framing: BodyFraming, exact: boolean) {
    this.#reader = reader
    this.#exact = exact
    this.#framing = framing
    this.#remaining = framing.kind === 'length' ? framing.length : 0
    this.#decoder = framing.kind === 'chunked' ? new ChunkedDecoder(reader.limits) : undefined
    this.#done = framing.kind === 'none'
  }

  /** True once the whole body has been read. */
  get done (): boolean { return this.#done }

  /** Body bytes delivered so far. */
  get received (): number { return this.#received }

  async next (signal?: AbortSignal): Promise<Uint8Array | null> {
    if (this.#done) {
      if (this.#exact && this.#reader.buffered > 0) throw new HttpBodyTooLargeError(`${this.#reader.buffered} bytes after the end of the body`)
      return null
    }
    const reader = this.#reader
    switch (this.#framing.kind) {
      case 'length': {
        for (;;) {
          const data = reader.takeBuffered(this.#remaining)
          if (data !== undefined) {
            this.#remaining -= data.length
            this.#received += data.length
            if (this.#remaining === 0) this.#done = true
            return data
          }
          if (!(await reader.fill(signal))) throw new HttpIncompleteMessageError(`stream ended after ${this.#received} of ${this.#framing.length} body bytes`)
        }
      }
      case 'chunked': {
        const decoder = this.#decoder!
        for (;;) {
          const input = reader.takeBuffered(Number.MAX_SAFE_INTEGER)
          if (input !== undefined) {
            const step = decoder.decode(input, 0)
            reader.untake(input.length - step.offset)
            if (decoder.done) this.#done = true
            if (step.data !== undefined && step.data.length > 0) {
              this.#received += step.data.length
              return step.data
            }
            if (this.#done) return null
            if (step.offset < input.length) continue
          }
          if (!(await reader.fill(signal))) throw new HttpIncompleteMessageError('stream ended inside a chunked body')
        }
      }
      case 'close': {
        const max = reader.limits.maxBodyBytes
        let data = reader.takeBuffered(Number.MAX_SAFE_INTEGER)
        if (data === undefined) {
          if (!(await reader.fill(signal))) {
            this.#done = true
            return null
          }
          data = reader.takeBuffered(Number.MAX_SAFE_INTEGER)!
        }
        this.#received += data.length
        if (this.#received > max) throw new HttpBodyTooLargeError(`body exceeds the ${max} byte limit`)
        return data
      }
    }
    return null
  }

  /** Reads and discards the rest of the body (bounded by the framing and maxBodyBytes). */
  async discard (signal?: AbortSignal): Promise<void> {
    while ((await this.next(signal)) !== null) { /* discard */ }
  }

  /**
   * The body as a pull-based ReadableStream: nothing is read from the libp2p stream until
   * the consumer asks. A pull that waits more than `idleTimeout` ms for the remote fails with
   * HttpTimeoutError (the time the consumer takes between pulls does not count). `onError`
   * sees framing errors, `onCancel` a consumer that gave up.
   */
  toReadableStream (hooks: { idleTimeout?: number, onError?: (err: Error) => void, onCancel?: (reason: unknown) => void, onEnd?: () => void } = {}): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const deadline = new Deadline(hooks.idleTimeout)
        try {
          const data = await this.next(deadline.signal)
          if (data === null) {
            controller.close()
            hooks.onEnd?.()
          } else {
            controller.enqueue(data)
          }
        } catch (err) {
          const reason = deadline.signal.aborted ? new HttpTimeoutError(`body idle for ${hooks.idleTimeout} ms`) : err as Error
          hooks.onError?.(reason)
          controller.error(reason)
        } finally {
          deadline.clear()
        }
      },
      cancel: (reason) => { hooks.onCancel?.(reason) }
    }, { highWaterMark: 0 })
  }
}
