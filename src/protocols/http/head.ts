/**
 * The head of an HTTP/1.1 message (RFC 9112 sections 2-5): finding where it ends, parsing the
 * start line and the field lines, and deciding how the body is framed (section 6).
 *
 * Strict on purpose. HTTP over a libp2p stream has no legacy clients to be kind to, and every
 * leniency two parsers disagree on is a request-smuggling hole (a proxy and a server that
 * frame one byte stream into different messages). So: CRLF only (a bare CR or LF is an
 * error), no obs-fold, no whitespace between a field name and its colon, exactly one SP in the
 * start line, Content-Length only as plain digits and only once, Transfer-Encoding only as
 * `chunked` and never together with Content-Length.
 */
import {
  HttpAmbiguousLengthError, HttpBodyTooLargeError, HttpHeadersTooLargeError, HttpMalformedError,
  HttpNotImplementedError
} from './errors.ts'

export interface HttpLimits {
  /** Bytes of the start line plus all field lines plus the blank line (default 16 KiB). */
  maxHeaderBytes: number
  /** Field lines in a head, and trailer lines in a chunked body (default 100). */
  maxHeaders: number
  /** Bytes of one body (default 16 MiB; a Content-Length above it is refused at once). */
  maxBodyBytes: number
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
  maxBodyBytes: 16 * 1024 * 1024
})

/** Field lines in arrival order, names as sent. */
export type HeaderList = Array<[name: string, value: string]>

export interface RequestHead {
  method: string
  target: string
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: number
  headers: HeaderList
}

export interface ResponseHead {
  status: number
  reason: string
  minorVersion: number
  headers: HeaderList
}

/** How the body after a head is delimited. */
export type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length', length: number }
  | { kind: 'chunked' }
  /** Response only: the body runs to the end of the stream. */
  | { kind: 'close' }

const CR = 13
const LF = 10
const SP = 32
const HTAB = 9

/** tchar (RFC 9110 5.6.2): the characters of a token (method, field name). */
export const TOKEN_CHARS: Uint8Array = (() => {
  const table = new Uint8Array(256)
  for (const c of "!#$%&'*+-.^_`|~") table[c.charCodeAt(0)] = 1
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1
  for (let c = 0x41; c <= 0x5a; c++) table[c] = 1
  for (let c = 0x61; c <= 0x7a; c++) table[c] = 1
  return table
})()

/** field-vchar, SP and HTAB (RFC 9110 5.5): what a field value may contain. */
export const FIELD_VALUE_CHARS: Uint8Array = (() => {
  const table = new Uint8Array(256)
  table[HTAB] = 1
  for (let c = 0x20; c <= 0x7e; c++) table[c] = 1
  for (let c = 0x80; c <= 0xff; c++) table[c] = 1
  return table
})()

/**
 * Scans `buf[from..]` for the CRLF CRLF that ends a head. Returns the index just past it, or
 * -1 with `resume` set to where the next scan should start (a trailing CR is rescanned once
 * the byte after it arrives). Throws on a bare CR or LF anywhere in the head.
 */
export function findHeadEnd (buf: Uint8Array, from: number, state: { resume: number }): number {
  const length = buf.length
  for (let i = from; i < length; i++) {
    const b = buf[i]
    if (b === LF) {
      if (i === 0 || buf[i - 1] !== CR) throw new HttpMalformedError('bare LF in the message head')
      if (i >= 3 && buf[i - 2] === LF && buf[i - 3] === CR) return i + 1
    } else if (b === CR) {
      if (i + 1 === length) { state.resume = i; return -1 }
      if (buf[i + 1] !== LF) throw new HttpMalformedError('bare CR in the message head')
    }
  }
  state.resume = length
  return -1
}

/** Latin-1 decode of a short span (head fields are at most maxHeaderBytes). */
function latin1 (buf: Uint8Array, start: number, end: number): string {
  let s = ''
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode.apply(null, buf.subarray(i, Math.min(end, i + 4096)) as unknown as number[])
  }
  return s
}

/** Index of the CR of the CRLF ending the line that starts at `start`. */
function lineEnd (buf: Uint8Array, start: number): number {
  let i = start
  while (i < buf.length && buf[i] !== CR && buf[i] !== LF) i++
  if (i + 1 >= buf.length || buf[i] !== CR || buf[i + 1] !== LF) throw new HttpMalformedError('a head line without its CRLF')
  return i
}

/** Parses the field lines of `buf[start..end)` (which ends with the blank line's CRLF). */
export function parseFieldLines (buf: Uint8Array, start: number, end: number, maxHeaders: number, headers: HeaderList = []): HeaderList {
  let pos = start
  while (pos < end) {
    const eol = lineEnd(buf, pos)
    if (eol === pos) return headers // the blank line
    const first = buf[pos]
    if (first === SP || first === HTAB) throw new HttpMalformedError('obsolete line folding in a header field')
    let colon = pos
    while (colon < eol && TOKEN_CHARS[buf[colon]] === 1) colon++
    if (colon === pos || colon === eol || buf[colon] !== 58 /* : */) {
      throw new HttpMalformedError(colon < eol && (buf[colon] === SP || buf[colon] === HTAB) ? 'whitespace between a field name and its colon' : 'invalid header field name')
    }
    let valueStart = colon + 1
    let valueEnd = eol
    while (valueStart < valueEnd && (buf[valueStart] === SP || buf[valueStart] === HTAB)) valueStart++
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--
    for (let i = valueStart; i < valueEnd; i++) {
      if (FIELD_VALUE_CHARS[buf[i]] !== 1) throw new HttpMalformedError(`control character 0x${buf[i].toString(16)} in a header field value`)
    }
    if (headers.length >= maxHeaders) throw new HttpHeadersTooLargeError(`more than ${maxHeaders} header fields`)
    headers.push([latin1(buf, pos, colon), latin1(buf, valueStart, valueEnd)])
    pos = eol + 2
  }
  throw new HttpMalformedError('header section without its blank line')
}

/** `HTTP/1.x` at buf[pos..pos+8): the minor version, or a typed error. */
function parseVersion (buf: Uint8Array, pos: number, end: number): number {
  if (end - pos !== 8 || latin1(buf, pos, pos + 5) !== 'HTTP/' || buf[pos + 6] !== 46 /* . */) throw new HttpMalformedError('invalid HTTP version')
  const major = buf[pos + 5] - 48
  const minor = buf[pos + 7] - 48
  if (major < 0 || major > 9 || minor < 0 || minor > 9) throw new HttpMalformedError('invalid HTTP version')
  if (major !== 1) throw new HttpNotImplementedError(`HTTP/${major}.${minor} is not supported`)
  return minor
}

/** Parses a request head; `buf` holds exactly the head, its final CRLF CRLF included. */
export function parseRequestHead (buf: Uint8Array, limits: Pick<HttpLimits, 'maxHeaders'> = DEFAULT_HTTP_LIMITS): RequestHead {
  const eol = lineEnd(buf, 0)
  let pos = 0
  while (pos < eol && TOKEN_CHARS[buf[pos]] === 1) pos++
  if (pos === 0 || buf[pos] !== SP) throw new HttpMalformedError('invalid request method')
  const method = latin1(buf, 0, pos)
  const targetStart = ++pos
  while (pos < eol && buf[pos] > 0x20 && buf[pos] < 0x7f) pos++
  if (pos === targetStart || buf[pos] !== SP) throw new HttpMalformedError('invalid request target')
  const target = latin1(buf, targetStart, pos)
  const minorVersion = parseVersion(buf, pos + 1, eol)
  const headers = parseFieldLines(buf, eol + 2, buf.length, limits.maxHeaders)
  return { method, target, minorVersion, headers }
}

/** Parses a response head; `buf` holds exactly the head, its final CRLF CRLF included. */
export function parseResponseHead (buf: Uint8Array, limits: Pick<HttpLimits, 'maxHeaders'> = DEFAULT_HTTP_LIMITS): ResponseHead {
  const eol = lineEnd(buf, 0)
  if (eol < 12 || buf[8] !== SP) throw new HttpMalformedError('invalid status line')
  const minorVersion = parseVersion(buf, 0, 8)
  let status = 0
  for (let i = 9; i < 12; i++) {
    const d = buf[i] - 48
    if (d < 0 || d > 9) throw new HttpMalformedError('invalid status code')
    status = status * 10 + d
  }
  if (status < 100) throw new HttpMalformedError('invalid status code')
  let reason = ''
  if (eol > 12) {
    if (buf[12] !== SP) throw new HttpMalformedError('invalid status line')
    for (let i = 13; i < eol; i++) {
      if (FIELD_VALUE_CHARS[buf[i]] !== 1) throw new HttpMalformedError('control character in the reason phrase')
    }
    reason = latin1(buf, 13, eol)
  }
  const headers = parseFieldLines(buf, eol + 2, buf.length, limits.maxHeaders)
  return { status, reason, minorVersion, headers }
}

/** The values of every field named `name` (case-insensitive). */
export function headerValues (headers: HeaderList, name: string): string[] {
  const lower = name.toLowerCase()
  const out: string[] = []
  for (const [n, v] of headers) if (n.length === lower.length && n.toLowerCase() === lower) out.push(v)
  return out
}

/** True when the Connection field lists `option` (e.g. `close`). */
export function hasConnectionOption (headers: HeaderList, option: string): boolean {
  for (const value of headerValues(headers, 'connection')) {
    for (const item of value.split(',')) if (item.trim().toLowerCase() === option) return true
  }
  return false
}

/**
 * Content-Length and Transfer-Encoding, checked for every ambiguity a smuggler could use.
 * Returns undefined when neither is present.
 */
function declaredFraming (headers: HeaderList, minorVersion: number, maxBodyBytes: number): BodyFraming | undefined {
  const lengths = headerValues(headers, 'content-length')
  const codings = headerValues(headers, 'transfer-encoding')
  if (codings.length > 0) {
    if (lengths.length > 0) throw new HttpAmbiguousLengthError('both Content-Length and Transfer-Encoding')
    if (minorVersion === 0) throw new HttpAmbiguousLengthError('Transfer-Encoding in an HTTP/1.0 message')
    const list = codings.join(',').split(',').map(c => c.trim().toLowerCase())
    if (list.some(c => c === '')) throw new HttpMalformedError('empty transfer coding')
    if (list[list.length - 1] !== 'chunked') throw new HttpAmbiguousLengthError('chunked is not the final transfer coding')
    if (list.length > 1) throw new HttpNotImplementedError(`transfer codings other than chunked: ${list.join(', ')}`)
    return { kind: 'chunked' }
  }
  if (lengths.length === 0) return undefined
  if (lengths.length > 1) throw new HttpAmbiguousLengthError('more than one Content-Length field')
  const value = lengths[0]
  if (!/^[0-9]{1,15}$/.test(value)) throw new HttpAmbiguousLengthError(`invalid Content-Length ${JSON.stringify(value.slice(0, 32))}`)
  const length = Number(value)
  if (length > maxBodyBytes) throw new HttpBodyTooLargeError(`Content-Length ${length} exceeds the ${maxBodyBytes} byte limit`)
  return { kind: 'length', length }
}

/** How a request's body is framed: a request without either field has none. */
export function requestFraming (head: RequestHead, limits: Pick<HttpLimits, 'maxBodyBytes'> = DEFAULT_HTTP_LIMITS): BodyFraming {
  const framing = declaredFraming(head.headers, head.minorVersion, limits.maxBodyBytes)
  if (framing === undefined || (framing.kind === 'length' && framing.length === 0)) return { kind: 'none' }
  return framing
}

/** How a response's body is framed (RFC 9112 6.3), given the method of its request. */
export function responseFraming (head: ResponseHead, requestMethod: string, limits: Pick<HttpLimits, 'maxBodyBytes'> = DEFAULT_HTTP_LIMITS): BodyFraming {
  if (requestMethod === 'HEAD' || head.status < 200 || head.status === 204 || head.status === 304) return { kind: 'none' }
  const framing = declaredFraming(head.headers, head.minorVersion, limits.maxBodyBytes)
  if (framing === undefined) return { kind: 'close' }
  if (framing.kind === 'length' && framing.length === 0) return { kind: 'none' }
  return framing
}
