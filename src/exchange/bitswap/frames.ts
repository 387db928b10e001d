/**
 * Length-prefixed frames off a stream for large messages. A Bitswap message of a few MiB arrives
 * in many chunks (64 KiB and less); this reader allocates each message once, at its announced
 * length (after checking the limit), and copies every chunk into it exactly once, while a message
 * that lies whole inside one chunk is handed out as a view with no copy at all. (Joining the
 * buffered rest with each new chunk, as a general reader does, copies a 4 MiB message dozens of
 * times.)
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { MessageTooLargeError, UnexpectedEOFError } from '../../util/errors.ts'

export class FrameReader {
  readonly #stream: ByteStream
  readonly #maxLength: number
  #chunk: Uint8Array = new Uint8Array(0)
  #offset = 0

  constructor (stream: ByteStream, maxLength: number) {
    this.#stream = stream
    this.#maxLength = maxLength
  }

  async #more (options?: AbortOptions): Promise<boolean> {
    const chunk = await this.#stream.read(options)
    if (chunk === null) return false
    this.#chunk = chunk
    this.#offset = 0
    return true
  }

  /** The next frame, or null when the stream ends cleanly between frames. */
  async next (options?: AbortOptions): Promise<Uint8Array | null> {
    // the varint, possibly split over chunks
    let length = 0
    let shift = 0
    for (let i = 0; ; i++) {
      if (this.#offset >= this.#chunk.length && !(await this.#more(options))) {
        if (i === 0) return null
        throw new UnexpectedEOFError('stream ended inside a length prefix')
      }
      const b = this.#chunk[this.#offset++]
      length += (b & 0x7f) * 2 ** shift
      shift += 7
      if ((b & 0x80) === 0) break
      if (i >= 4) throw new MessageTooLargeError(`length prefix exceeds the ${this.#maxLength} byte limit`)
    }
    if (length > this.#maxLength) throw new MessageTooLargeError(`message of ${length} bytes exceeds the ${this.#maxLength} byte limit`)
    const available = this.#chunk.length - this.#offset
    if (available >= length) {
      const frame = this.#chunk.subarray(this.#offset, this.#offset + length)
      this.#offset += length
      return frame
    }
    const frame = new Uint8Array(length)
    let filled = 0
    while (filled < length) {
      if (this.#offset >= this.#chunk.length && !(await this.#more(options))) throw new UnexpectedEOFError(`stream ended after ${filled} of ${length} bytes`)
      const n = Math.min(length - filled, this.#chunk.length - this.#offset)
      frame.set(this.#chunk.subarray(this.#offset, this.#offset + n), filled)
      filled += n
      this.#offset += n
    }
    return frame
  }
}

