/**
 * The chunked transfer coding (RFC 9112 section 7.1), decoded incrementally: bytes go in as
 * they arrive from the stream, body data comes out as views of them (no copy), so a large
 * body streams through with constant memory.
 *
 * Strict like the head parser: chunk sizes are 1-12 hex digits (no sign, no `0x`, no
 * whitespace unless a `;` extension follows), every line ends in CRLF, the data of a chunk is
 * followed by CRLF, extensions and trailers are bounded. The sum of chunk sizes is checked
 * against the body limit before the data arrives.
 */
import { HttpBodyTooLargeError, HttpHeadersTooLargeError, HttpMalformedError } from './errors.ts'
import { DEFAULT_HTTP_LIMITS, parseFieldLines, type HeaderList, type HttpLimits } from './head.ts'

const CR = 13
const LF = 10
const MAX_SIZE_DIGITS = 12
/** A chunk line's extensions (`;name=value`): nobody needs more, and they cost us nothing to refuse. */
const MAX_EXTENSION_BYTES = 1024

/** Decoder states (plain numbers: the project's TypeScript is erasable-only, no enums). */
const State = { Size: 0, SizeSpace: 1, Extension: 2, SizeLF: 3, Data: 4, DataCR: 5, DataLF: 6, Trailer: 7, Done: 8 } as const
type State = typeof State[keyof typeof State]

export interface DecodeStep {
  /** Body bytes found (a view of the input), if any. */
  data?: Uint8Array
  /** Where decoding stopped in the input. */
  offset: number
}

function hexValue (b: number): number {
  if (b >= 48 && b <= 57) return b - 48
  if (b >= 97 && b <= 102) return b - 87
  if (b >= 65 && b <= 70) return b - 55
  return -1
}

export class ChunkedDecoder {
  readonly #limits: HttpLimits
  #state: State = State.Size
  #size = 0
  #digits = 0
  #remaining = 0
  #total = 0
  #extensionBytes = 0
  /** Trailer section bytes so far (parsed once complete; bounded by maxHeaderBytes). */
  #trailer: number[] = []
  trailers: HeaderList = []

  constructor (limits: HttpLimits = DEFAULT_HTTP_LIMITS) {
    this.#limits = limits
  }

  /** True once the last chunk and the trailer section have been read. */
  get done (): boolean { return this.#state === State.Done }

  /** Body bytes decoded so far. */
  get total (): number { return this.#total }

  /**
   * Decodes from `input[offset..]` until it finds body data (returned as a view), runs out of
   * input, or reaches the end of the body. Call again with the returned offset.
   */
  decode (input: Uint8Array, offset: number): DecodeStep {
    let i = offset
    const end = input.length
    while (i < end) {
      const b = input[i]
      switch (this.#state) {
        case State.Size: {
          const v = hexValue(b)
          if (v >= 0) {
            if (++this.#digits > MAX_SIZE_DIGITS) throw new HttpMalformedError('chunk size has too many digits')
            this.#size = this.#size * 16 + v
            i++
            break
          }
          if (this.#digits === 0) throw new HttpMalformedError('chunk size without hex digits')
          if (b === CR) this.#state = State.SizeLF
          else if (b === 59 /* ; */) this.#state = State.Extension
          else if (b === 32 || b === 9) this.#state = State.SizeSpace
          else throw new HttpMalformedError(`invalid byte 0x${b.toString(16)} in a chunk size`)
          this.#extensionBytes = 0
          i++
          break
        }
        case State.SizeSpace:
          // whitespace after the size is only allowed before an extension (BWS ";")
          if (b === 59) this.#state = State.Extension
          else if (b !== 32 && b !== 9) throw new HttpMalformedError('whitespace after a chunk size')
          i++
          break
        case State.Extension:
          if (b === CR) this.#state = State.SizeLF
          else if (b === LF || (b < 0x20 && b !== 9) || b === 0x7f) throw new HttpMalformedError('control character in a chunk extension')
          else if (++this.#extensionBytes > MAX_EXTENSION_BYTES) throw new HttpMalformedError('chunk extension too long')
          i++
          break
        case State.SizeLF:
          if (b !== LF) throw new HttpMalformedError('bare CR in a chunk size line')
          i++
          this.#startChunk()
          break
        case State.Data: {
          const n = Math.min(this.#remaining, end - i)
          this.#remaining -= n
          if (this.#remaining === 0) this.#state = State.DataCR
          return { data: input.subarray(i, i + n), offset: i + n }
        }
        case State.DataCR:
          if (b !== CR) throw new HttpMalformedError('chunk data longer than its size')
          this.#state = State.DataLF
          i++
          break
        case State.DataLF:
          if (b !== LF) throw new HttpMalformedError('bare CR after chunk data')
          this.#state = State.Size
          i++
          break
        case State.Trailer:
          i = this.#trailerBytes(input, i)
          break
        case State.Done:
          return { offset: i }
      }
    }
    return { offset: i }
  }

  #startChunk (): void {
    const size = this.#size
    this.#size = 0
    this.#digits = 0
    if (size === 0) {
      this.#state = State.Trailer
      return
    }
    this.#total += size
    if (this.#total > this.#limits.maxBodyBytes) throw new HttpBodyTooLargeError(`chunked body exceeds the ${this.#limits.maxBodyBytes} byte limit`)
    this.#remaining = size
    this.#state = State.Data
  }

  /** Collects the trailer section up to its blank line; returns where it stopped in `input`. */
  #trailerBytes (input: Uint8Array, i: number): number {
    const collected = this.#trailer
    for (; i < input.length; i++) {
      const b = input[i]
      collected.push(b)
      if (collected.length > this.#limits.maxHeaderBytes) throw new HttpHeadersTooLargeError('chunked trailer section too large')
      const n = collected.length
      if (b === LF) {
        if (n < 2 || collected[n - 2] !== CR) throw new HttpMalformedError('bare LF in a chunked trailer')
        // the section ends with an empty line: CRLF alone, or CRLF CRLF after fields
        if (n === 2 || (n >= 4 && collected[n - 3] === LF && collected[n - 4] === CR)) {
          if (n > 2) this.trailers = parseFieldLines(Uint8Array.from(collected), 0, n, this.#limits.maxHeaders)
          this.#trailer = []
          this.#state = State.Done
          return i + 1
        }
      } else if (n >= 2 && collected[n - 2] === CR) {
        throw new HttpMalformedError('bare CR in a chunked trailer')
      }
    }
    return i
  }
}

/** `<hex size>\r\n`: the line before a chunk's data (the data is followed by CRLF). */
export function chunkHeader (size: number): Uint8Array {
  const hex = size.toString(16)
  const out = new Uint8Array(hex.length + 2)
  for (let i = 0; i < hex.length; i++) out[i] = hex.charCodeAt(i)
  out[hex.length] = CR
  out[hex.length + 1] = LF
  return out
}

export const CRLF: Uint8Array = Uint8Array.of(CR, LF)
/** The last chunk and an empty trailer section. */
export const LAST_CHUNK: Uint8Array = Uint8Array.of(48, CR, LF, CR, LF)
