/**
 * The server side of HTTP/1.1 over one libp2p stream: parse a request, hand it to a
 * fetch-style handler as a WHATWG `Request`, write the `Response` back.
 *
 * The spec (http/README.md) says one request per stream and `Connection: close`; that is the
 * default. With `keepAlive` the stream serves requests one after another (no pipelining: the
 * next head is read only after the response is written) until the client says
 * `Connection: close`, half-closes, or `maxRequestsPerStream` is reached.
 *
 * Bad input never reaches the handler: a request that fails to parse gets the status its
 * typed error names (400, 408, 413, 431, 501) and the stream is closed. The head must arrive
 * within `headersTimeout` (slow-loris), and a body that stalls for `bodyIdleTimeout` aborts
 * the stream.
 */
import type { Connection } from '../../interface/connection.ts'
import type { Logger } from '../../interface/logger.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { Deadline } from '../../util/deadline.ts'
import { HttpBodyTooLargeError, HttpError, HttpMalformedError, HttpTimeoutError } from './errors.ts'
import { hasConnectionOption, headerValues, requestFraming, type HeaderList, type HttpLimits, type RequestHead } from './head.ts'
import { HttpStreamReader } from './reader.ts'
import { serializeResponseHead, writeBody } from './writer.ts'

/** Who sent a request: the remote peer, authenticated by the libp2p connection. */
export interface RequestContext {
  peer: PeerId
  connection?: Connection
}

export type FetchHandler = (request: Request, context: RequestContext) => Response | Promise<Response>

export interface ServeOptions {
  limits?: Partial<HttpLimits>
  /** The whole head must arrive within this many ms (default 10 s). */
  headersTimeout?: number
  /** A request body that sends nothing for this many ms aborts the stream (default 30 s). */
  bodyIdleTimeout?: number
  /** Serve several requests one after another on a stream (default false: the spec's one). */
  keepAlive?: boolean
  /** With keepAlive: requests per stream before the server closes it (default 100). */
  maxRequestsPerStream?: number
  log?: Logger
}

const REASONS: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 206: 'Partial Content', 301: 'Moved Permanently', 302: 'Found',
  304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 408: 'Request Timeout', 411: 'Length Required', 413: 'Content Too Large',
  431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable'
}

/** Fields the framing layer owns: a handler's values for them are replaced, never passed on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer'])

function toHeaders (list: HeaderList): Headers {
  const headers = new Headers()
  for (const [name, value] of list) headers.append(name, value)
  return headers
}

/** The request's URL: origin-form targets are resolved against the Host field (or the peer id). */
function requestUrl (head: RequestHead, peer: PeerId): string {
  const hosts = headerValues(head.headers, 'host')
  if (hosts.length > 1) throw new HttpMalformedError('more than one Host field')
  // an empty Host is what a client sends for a target without an authority (RFC 9112 3.2):
  // go-libp2p's client does so over streams
  const host = hosts[0] !== undefined && hosts[0] !== '' ? hosts[0] : peer.toString()
  let url: URL
  try {
    if (head.target.startsWith('/')) url = new URL(head.target, `http://${host}`)
    else if (head.target === '*' && head.method === 'OPTIONS') url = new URL(`http://${host}/`)
    else if (/^https?:\/\//i.test(head.target)) url = new URL(head.target)
    else throw new HttpMalformedError('request target is not origin-form or absolute-form')
  } catch (err) {
    if (err instanceof HttpMalformedError) throw err
    throw new HttpMalformedError(`invalid Host or request target: ${(err as Error).message}`)
  }
  return url.href
}

export interface WriteResponseOptions {
  requestMethod: string
  keepAlive: boolean
  signal?: AbortSignal
}

/** Writes `response` (head and body) onto `stream`, choosing Content-Length or chunked. */
export async function writeResponse (stream: ByteStream, response: Response, options: WriteResponseOptions): Promise<void> {
  const headers: HeaderList = []
  let contentLength: number | undefined
  let badLength: string | undefined
  response.headers.forEach((value, name) => {
    if (HOP_BY_HOP.has(name)) return
    if (name === 'content-length') {
      if (!/^[0-9]{1,15}$/.test(value)) badLength = value
      else contentLength = Number(value)
      return
    }
    headers.push([name, value])
  })
  if (badLength !== undefined) throw new HttpMalformedError(`invalid Content-Length ${badLength} in a response`)
  if (!options.keepAlive) headers.push(['connection', 'close'])
  const status = response.status
  const bodyless = status < 200 || status === 204 || status === 304
  const body = response.body
  let chunked = false
  if (!bodyless) {
    if (contentLength === undefined && body === null) contentLength = 0
    if (contentLength !== undefined) headers.push(['content-length', String(contentLength)])
    else if (options.requestMethod !== 'HEAD') {
      headers.push(['transfer-encoding', 'chunked'])
      chunked = true
    }
  }
  const head = serializeResponseHead(status, response.statusText !== '' ? response.statusText : (REASONS[status] ?? ''), headers)
  if (bodyless || options.requestMethod === 'HEAD' || body === null) {
    if (body !== null) await body.cancel().catch(() => {})
    await stream.write(head, { signal: options.signal })
    return
  }
  stream.send(head)
  await writeBody(stream, body, { chunked, contentLength, signal: options.signal })
}

/** A plain-text error response for a request that could not be served. */
export function errorResponse (status: number, message: string): Response {
  return new Response(message + '\n', { status, statusText: REASONS[status] ?? '', headers: { 'content-type': 'text/plain; charset=utf-8' } })
}

/**
 * Serves the requests on one inbound `/http/1.1` stream with `handler`, then closes it.
 * Never rejects: failures end in an error response, a reset, and a log line.
 */
export async function serveHttpStream (stream: ByteStream, handler: FetchHandler, context: RequestContext, options: ServeOptions = {}): Promise<void> {
  const log = options.log
  const reader = new HttpStreamReader(stream, options.limits)
  const headersTimeout = options.headersTimeout ?? 10_000
  const bodyIdleTimeout = options.bodyIdleTimeout ?? 30_000
  const maxRequests = options.keepAlive === true ? (options.maxRequestsPerStream ?? 100) : 1
  try {
    for (let served = 0; served < maxRequests; served++) {
      let head: RequestHead | null
      let keepAlive = false
      let request: Request
      let body: ReturnType<HttpStreamReader['bodyReader']>
      // a request body that breaks its framing, runs over the limit or stalls: the handler sees
      // its body stream fail, the client gets this error's status
      let bodyError: HttpError | undefined
      const deadline = new Deadline(headersTimeout)
      try {
        try {
          head = await reader.readRequestHead(deadline.signal)
        } catch (err) {
          if (deadline.signal.aborted) throw new HttpTimeoutError(`request head not received within ${headersTimeout} ms`)
          throw err
        } finally {
          deadline.clear()
        }
        if (head === null) break
        keepAlive = served + 1 < maxRequests && head.minorVersion === 1 && !hasConnectionOption(head.headers, 'close')
        const framing = requestFraming(head, reader.limits)
        body = reader.bodyReader(framing)
        const init: RequestInit & { duplex?: 'half' } = { method: head.method, headers: toHeaders(head.headers) }
        if (framing.kind !== 'none') {
          if (head.method === 'GET' || head.method === 'HEAD') throw new HttpMalformedError(`a ${head.method} request with a body`)
          init.body = body.toReadableStream({
            idleTimeout: bodyIdleTimeout,
            onError: (err) => { bodyError = err instanceof HttpError ? err : new HttpMalformedError(`request body failed: ${err.message}`) }
          })
          init.duplex = 'half'
        }
        try {
          request = new Request(requestUrl(head, context.peer), init)
        } catch (err) {
          if (err instanceof HttpError) throw err
          throw new HttpMalformedError(`request refused: ${(err as Error).message}`)
        }
      } catch (err) {
        if (!(err instanceof HttpError)) throw err
        log?.('refusing a request from %s: %s', context.peer, err.message)
        await writeResponse(stream, errorResponse(err.status, err.message), { requestMethod: 'GET', keepAlive: false }).catch(() => {})
        await stream.close().catch(() => {})
        return
      }

      let response: Response
      try {
        response = await handler(request, context)
      } catch (err) {
        log?.('handler failed for %s %s: %s', head.method, head.target, (err as Error).message)
        const failure = bodyError ?? (err instanceof HttpError ? err : undefined)
        response = errorResponse(failure?.status ?? 500, failure?.message ?? 'internal error')
        keepAlive = false
      }
      if (bodyError !== undefined && response.status < 400) {
        // the handler answered as if the broken body were fine: the client hears what broke
        await response.body?.cancel().catch(() => {})
        response = errorResponse(bodyError.status, bodyError.message)
      }
      if (bodyError !== undefined) keepAlive = false
      // A body larger than its Content-Length leaves bytes behind it. On a stream that ends
      // after this exchange they can only be an attempt to slip a second request past us.
      if (!keepAlive && body.done && reader.buffered > 0) {
        await response.body?.cancel().catch(() => {})
        const err = new HttpBodyTooLargeError('bytes after the end of the declared body')
        log?.('refusing a request from %s: %s', context.peer, err.message)
        response = errorResponse(400, err.message)
      }
      await writeResponse(stream, response, { requestMethod: head.method, keepAlive })
      if (!keepAlive) break
      // the next request starts after this one's body, read or not
      await body.discard()
    }
    await stream.close()
  } catch (err) {
    log?.('http stream from %s failed: %s', context.peer, (err as Error).message)
    stream.abort(err as Error)
  }
}
