/**
 * Writes HTTP/1.1 messages onto a libp2p byte stream. Every name and value the application
 * gives is checked before a byte goes out (a CR or LF in a value would let it inject fields or
 * a second message). Bodies are copied from a ReadableStream one chunk at a time, waiting for
 * the stream's drain when it is above its high-water mark: a slow reader on the other side
 * slows the producer instead of filling memory.
 */
import type { ByteStream } from '../../interface/stream.ts'
import { CRLF, LAST_CHUNK, chunkHeader } from './chunked.ts'
import { HttpBodyTooLargeError, HttpIncompleteMessageError, HttpInvalidFieldError } from './errors.ts'
import { FIELD_VALUE_CHARS, TOKEN_CHARS, type HeaderList } from './head.ts'

function isToken (s: string): boolean {
  if (s.length === 0) return false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0xff || TOKEN_CHARS[c] !== 1) return false
  }
  return true
}

function checkValue (name: string, value: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c > 0xff || FIELD_VALUE_CHARS[c] !== 1) throw new HttpInvalidFieldError(`invalid character in the value of header ${name}`)
  }
}

function encodeLatin1 (s: string): Uint8Array {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}

function fieldLines (headers: HeaderList): string {
  let s = ''
  for (const [name, value] of headers) {
    if (!isToken(name)) throw new HttpInvalidFieldError(`invalid header name ${JSON.stringify(name)}`)
    const trimmed = value.trim()
    checkValue(name, trimmed)
    s += `${name}: ${trimmed}\r\n`
  }
  return s
}

export function serializeRequestHead (method: string, target: string, headers: HeaderList): Uint8Array {
  if (!isToken(method)) throw new HttpInvalidFieldError(`invalid method ${JSON.stringify(method)}`)
  if (target.length === 0 || !/^[\x21-\x7e]+$/.test(target)) throw new HttpInvalidFieldError(`invalid request target ${JSON.stringify(target)}`)
  return encodeLatin1(`${method} ${target} HTTP/1.1\r\n${fieldLines(headers)}\r\n`)
}

export function serializeResponseHead (status: number, reason: string, headers: HeaderList): Uint8Array {
  if (!Number.isInteger(status) || status < 100 || status > 999) throw new HttpInvalidFieldError(`invalid status ${status}`)
  checkValue('reason phrase', reason)
  return encodeLatin1(`HTTP/1.1 ${status} ${reason}\r\n${fieldLines(headers)}\r\n`)
}

export interface WriteBodyOptions {
  /** Chunked coding; otherwise the body must be exactly `contentLength` bytes. */
  chunked: boolean
  contentLength?: number
  signal?: AbortSignal
}

/**
 * Copies `body` onto `stream` in the framing the head announced. A body that produces more or
 * fewer bytes than its Content-Length is an error (the caller resets the stream: a peer must
 * never see a message boundary in the wrong place).
 */
export async function writeBody (stream: ByteStream, body: ReadableStream<Uint8Array> | Uint8Array, options: WriteBodyOptions): Promise<number> {
  const { chunked, contentLength, signal } = options
  let written = 0
  const put = async (data: Uint8Array): Promise<void> => {
    if (data.length === 0) return
    written += data.length
    if (!chunked && contentLength !== undefined && written > contentLength) {
      throw new HttpBodyTooLargeError(`body is longer than its Content-Length ${contentLength}`)
    }
    if (chunked) {
      stream.send(chunkHeader(data.length))
      stream.send(data)
      if (!stream.send(CRLF)) await stream.drain({ signal })
    } else if (!stream.send(data)) {
      await stream.drain({ signal })
    }
  }
  if (body instanceof Uint8Array) {
    await put(body)
  } else {
    const source = body.getReader()
    try {
      for (;;) {
        const { done, value } = await source.read()
        if (done) break
        signal?.throwIfAborted()
        await put(value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBufferLike))
      }
    } catch (err) {
      await source.cancel(err).catch(() => {})
      throw err
    } finally {
      source.releaseLock()
    }
  }
  if (chunked) {
    if (!stream.send(LAST_CHUNK)) await stream.drain({ signal })
  } else if (contentLength !== undefined && written !== contentLength) {
    throw new HttpIncompleteMessageError(`body ended after ${written} of its ${contentLength} byte Content-Length`)
  }
  return written
}
