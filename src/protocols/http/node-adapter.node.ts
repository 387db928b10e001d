/**
 * Node-style handlers on libp2p streams (the `#http-node-adapter` import, Node.js):
 * `fromNodeListener((req, res) => { ... })` turns a listener written for `http.createServer`
 * into a fetch-style handler for `node.services.http.handle(path, ...)`.
 *
 * `req` is a Readable of the request body with `method`, `url` (path and query), `headers`
 * (lower-cased, `set-cookie` as an array, repeated fields joined with ", "), `rawHeaders`,
 * `httpVersion` and `socket.remoteAddress` (the remote peer's multiaddr). `res` is a Writable
 * with `statusCode`, `statusMessage`, `setHeader` / `getHeader` / `getHeaders` / `hasHeader` /
 * `removeHeader`, `writeHead`, `write`, `end` and `headersSent`. The response head goes out on
 * the first write (or `end`); the body streams with backpressure: a `write()` returns false
 * until the remote reads.
 */
import { Readable, Writable } from 'node:stream'
import type { FetchHandler, RequestContext } from './server.ts'

/** The request a Node-style listener sees. */
export interface NodeStyleRequest extends Readable {
  method: string
  url: string
  headers: Record<string, string | string[]>
  rawHeaders: string[]
  httpVersion: string
  httpVersionMajor: number
  httpVersionMinor: number
  socket: { remoteAddress?: string }
}

export type NodeStyleListener = (req: NodeStyleRequest, res: NodeStyleResponse) => void

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304])

export class NodeStyleResponse extends Writable {
  statusCode = 200
  statusMessage = ''
  #headers = new Map<string, { name: string, value: string | string[] }>()
  #sent = false
  readonly #onHead: (response: Response) => void
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined
  /** A write waiting for the remote to read (backpressure). */
  #waiting: (() => void) | undefined

  constructor (onHead: (response: Response) => void) {
    super()
    this.#onHead = onHead
  }

  get headersSent (): boolean { return this.#sent }

  setHeader (name: string, value: string | number | readonly string[]): this {
    this.#headers.set(name.toLowerCase(), { name, value: Array.isArray(value) ? [...value] : String(value) })
    return this
  }

  getHeader (name: string): string | string[] | undefined { return this.#headers.get(name.toLowerCase())?.value }
  hasHeader (name: string): boolean { return this.#headers.has(name.toLowerCase()) }
  removeHeader (name: string): void { this.#headers.delete(name.toLowerCase()) }
  getHeaders (): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {}
    for (const [key, { value }] of this.#headers) out[key] = value
    return out
  }

  writeHead (status: number, reasonOrHeaders?: string | Record<string, string | number | string[]>, headers?: Record<string, string | number | string[]>): this {
    this.statusCode = status
    if (typeof reasonOrHeaders === 'string') this.statusMessage = reasonOrHeaders
    else headers = reasonOrHeaders
    for (const [name, value] of Object.entries(headers ?? {})) this.setHeader(name, value)
    this.#sendHead()
    return this
  }

  #sendHead (): void {
    if (this.#sent) return
    this.#sent = true
    const headers = new Headers()
    for (const { name, value } of this.#headers.values()) {
      for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v)
    }
    let body: ReadableStream<Uint8Array> | null = null
    if (!NULL_BODY_STATUSES.has(this.statusCode)) {
      body = new ReadableStream<Uint8Array>({
        start: (controller) => { this.#controller = controller },
        pull: () => {
          const resume = this.#waiting
          this.#waiting = undefined
          resume?.()
        },
        cancel: (reason) => { this.destroy(reason instanceof Error ? reason : new Error('response body cancelled')) }
      }, { highWaterMark: 0 })
    }
    this.#onHead(new Response(body, { status: this.statusCode, statusText: this.statusMessage, headers }))
  }

  override _write (chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#sendHead()
    const controller = this.#controller
    if (controller === undefined) { callback(); return } // a status without a body: drop it
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk
    controller.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    if ((controller.desiredSize ?? 0) > 0) callback()
    else this.#waiting = () => { callback() }
  }

  override _final (callback: (error?: Error | null) => void): void {
    this.#sendHead()
    this.#controller?.close()
    callback()
  }

  override _destroy (error: Error | null, callback: (error?: Error | null) => void): void {
    if (error !== null) this.#controller?.error(error)
    this.#waiting?.()
    callback(error)
  }
}

function nodeRequest (request: Request, context: RequestContext): NodeStyleRequest {
  const url = new URL(request.url)
  const headers: Record<string, string | string[]> = {}
  const rawHeaders: string[] = []
  request.headers.forEach((value, name) => {
    rawHeaders.push(name, value)
    if (name === 'set-cookie') headers[name] = [...((headers[name] as string[] | undefined) ?? []), value]
    else headers[name] = headers[name] === undefined ? value : `${String(headers[name])}, ${value}`
  })
  const body = request.body !== null ? Readable.fromWeb(request.body as import('node:stream/web').ReadableStream<Uint8Array>) : Readable.from([])
  return Object.assign(body, {
    method: request.method,
    url: url.pathname + url.search,
    headers,
    rawHeaders,
    httpVersion: '1.1',
    httpVersionMajor: 1,
    httpVersionMinor: 1,
    socket: { remoteAddress: context.connection?.remoteAddr.toString() }
  })
}

/** Adapts a Node `http`-style request listener to a fetch-style handler. */
export function fromNodeListener (listener: NodeStyleListener): FetchHandler {
  return async (request, context) => await new Promise<Response>((resolve, reject) => {
    const res = new NodeStyleResponse(resolve)
    res.once('error', (err) => { if (!res.headersSent) reject(err) })
    try {
      listener(nodeRequest(request, context), res)
    } catch (err) {
      reject(err as Error)
    }
  })
}
