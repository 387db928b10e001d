/**
 * The client side of HTTP/1.1 over one libp2p stream: write a WHATWG `Request`, read the
 * `Response`. One request per stream, as the spec asks: the request says `Connection: close`,
 * the write side half-closes after the body, and the stream closes once the response body has
 * been read (or is reset if the caller cancels it).
 *
 * The response body is a pull-based ReadableStream: nothing is read from the stream until the
 * caller reads, so a slow consumer holds the remote back through the muxer's flow control.
 */
import type { ByteStream } from '../../interface/stream.ts'
import { Deadline } from '../../util/deadline.ts'
import { HttpMalformedError, HttpTimeoutError } from './errors.ts'
import { responseFraming, type HeaderList, type HttpLimits, type ResponseHead } from './head.ts'
import { HttpStreamReader } from './reader.ts'
import { serializeRequestHead, writeBody } from './writer.ts'

export interface StreamRequestOptions {
  limits?: Partial<HttpLimits>
  signal?: AbortSignal
  /** Until the response head has arrived, in ms (default 30 s). */
  timeout?: number
  /** A response body read that waits longer than this fails, in ms (default 30 s). */
  bodyIdleTimeout?: number
  /** The request body's length when the caller knows it (else the body is sent chunked). */
  contentLength?: number
}

/** Informational (1xx) responses skipped before the final one, at most. */
const MAX_INFORMATIONAL = 8
const SKIPPED_REQUEST_FIELDS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host', 'te', 'upgrade'])
/** Statuses whose responses have no body by definition (the Response constructor insists). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304])

function toHeaders (list: HeaderList): Headers {
  const headers = new Headers()
  for (const [name, value] of list) headers.append(name, value)
  return headers
}

/**
 * Sends `request` on `stream` (a fresh `/http/1.1` stream) and resolves with the response
 * once its head has arrived. The stream belongs to the response from then on.
 */
export async function requestOverStream (stream: ByteStream, request: Request, options: StreamRequestOptions = {}): Promise<Response> {
  const url = new URL(request.url)
  const timeout = options.timeout ?? 30_000
  const deadline = new Deadline(timeout, options.signal, `no HTTP response within ${timeout} ms`)
  const signal = deadline.signal
  try {
    const headers: HeaderList = [['Host', url.host]]
    request.headers.forEach((value, name) => { if (!SKIPPED_REQUEST_FIELDS.has(name)) headers.push([name, value]) })
    headers.push(['Connection', 'close'])
    const body = request.body
    let contentLength = options.contentLength
    if (body !== null) {
      const declared = request.headers.get('content-length')
      if (contentLength === undefined && declared !== null && /^[0-9]{1,15}$/.test(declared)) contentLength = Number(declared)
      headers.push(contentLength !== undefined ? ['Content-Length', String(contentLength)] : ['Transfer-Encoding', 'chunked'])
    }
    // (a request without a body carries neither field, which means no body (RFC 9112 6.3);
    // `Content-Length: 0` would be the same, but js-libp2p's server waits for bytes after it)
    stream.send(serializeRequestHead(request.method, url.pathname + url.search, headers))
    // The caller pulls the response body at its own pace, so its size costs no memory here:
    // unbounded unless the caller sets a limit (heads stay bounded).
    const reader = new HttpStreamReader(stream, { maxBodyBytes: Infinity, ...options.limits })
    // The response may come before the request body is sent (an early 401 or 413): read it
    // alongside the upload so that neither side waits for the other.
    const writing = (async () => {
      if (body !== null) await writeBody(stream, body, { chunked: contentLength === undefined, contentLength, signal })
      await stream.closeWrite({ signal })
    })()
    let head: ResponseHead
    try {
      head = await reader.readResponseHead(signal)
      for (let i = 0; head.status < 200; i++) {
        if (i >= MAX_INFORMATIONAL || head.status === 101) throw new HttpMalformedError(`unexpected informational response ${head.status}`)
        head = await reader.readResponseHead(signal)
      }
      if (head.status > 599) throw new HttpMalformedError(`invalid status ${head.status}`)
    } catch (err) {
      writing.catch(() => {})
      throw signal.aborted && !(options.signal?.aborted ?? false) ? new HttpTimeoutError(`no HTTP response within ${timeout} ms`) : err
    }
    // an upload the server did not wait for must not fail the response it sent
    writing.catch(() => {})
    const framing = NULL_BODY_STATUSES.has(head.status) ? { kind: 'none' as const } : responseFraming(head, request.method, reader.limits)
    let responseBody: ReadableStream<Uint8Array> | null = null
    if (framing.kind === 'none') {
      void stream.close().catch(() => {})
    } else {
      const bodyReader = reader.bodyReader(framing, { exact: true })
      responseBody = bodyReader.toReadableStream({
        idleTimeout: options.bodyIdleTimeout ?? 30_000,
        onEnd: () => { void stream.close().catch(() => {}) },
        onError: (err) => { stream.abort(err) },
        onCancel: () => { stream.abort(new Error('response body cancelled')) }
      })
    }
    return new Response(responseBody, { status: head.status, statusText: head.reason, headers: toHeaders(head.headers) })
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    deadline.clear()
  }
}
