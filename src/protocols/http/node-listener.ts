/**
 * Serves a fetch-style handler from a Node `http` server: `http.createServer(toNodeListener(handler))`.
 * This is how the same handlers (and `ServerPeerIdAuth.protect`) run over plain HTTP as well as
 * over libp2p streams. The request body streams in and the response body streams out with
 * backpressure (`write()` returning false waits for `drain`).
 *
 * Written against the shape of Node's IncomingMessage / ServerResponse rather than importing
 * node:http, so the module stays free of Node built-ins (the browser graph of ts-libp2p/http).
 */

/** The parts of Node's IncomingMessage this adapter uses. */
export interface NodeRequestLike extends AsyncIterable<Uint8Array | string> {
  method?: string
  url?: string
  headers: Record<string, string | string[] | undefined>
  rawHeaders?: string[]
}

/** The parts of Node's ServerResponse this adapter uses. */
export interface NodeResponseLike {
  statusCode: number
  statusMessage: string
  readonly headersSent: boolean
  setHeader(name: string, value: string | string[]): unknown
  write(chunk: Uint8Array): boolean
  end(callback?: () => void): unknown
  once(event: 'drain' | 'close', listener: () => void): unknown
  destroy(error?: Error): unknown
}

export type NodeListener = (req: NodeRequestLike, res: NodeResponseLike) => void

function requestBody (req: NodeRequestLike): ReadableStream<Uint8Array> {
  const iterator = req[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull (controller) {
      const { value, done } = await iterator.next()
      if (done === true) controller.close()
      else controller.enqueue(typeof value === 'string' ? new TextEncoder().encode(value) : value)
    },
    async cancel () { await iterator.return?.() }
  }, { highWaterMark: 0 })
}

function requestHeaders (req: NodeRequestLike): Headers {
  const headers = new Headers()
  if (req.rawHeaders !== undefined) {
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1])
    return headers
  }
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v)
  }
  return headers
}

/** Adapts a fetch-style handler to a Node `http` request listener. */
export function toNodeListener (handler: (request: Request) => Response | Promise<Response>, options: { onError?: (err: Error) => void } = {}): NodeListener {
  return (req, res) => {
    void (async () => {
      const method = req.method ?? 'GET'
      const init: RequestInit & { duplex?: 'half' } = { method, headers: requestHeaders(req) }
      if (method !== 'GET' && method !== 'HEAD') {
        init.body = requestBody(req)
        init.duplex = 'half'
      }
      const host = typeof req.headers.host === 'string' ? req.headers.host : 'localhost'
      const response = await handler(new Request(`http://${host}${req.url ?? '/'}`, init))
      res.statusCode = response.status
      if (response.statusText !== '') res.statusMessage = response.statusText
      const cookies = response.headers.getSetCookie()
      response.headers.forEach((value, name) => { if (name !== 'set-cookie') res.setHeader(name, value) })
      if (cookies.length > 0) res.setHeader('set-cookie', cookies)
      if (response.body !== null) {
        const reader = response.body.getReader()
        let closed = false
        res.once('close', () => { closed = true })
        try {
          for (;;) {
            const { done, value } = await reader.read()
            if (done) break
            if (closed) { await reader.cancel(); break }
            if (!res.write(value)) await new Promise<void>(resolve => { res.once('drain', resolve); res.once('close', resolve) })
          }
        } finally {
          reader.releaseLock()
        }
      }
      res.end()
    })().catch((err: Error) => {
      options.onError?.(err)
      if (!res.headersSent) {
        res.statusCode = 500
        res.end()
      } else {
        res.destroy(err)
      }
    })
  }
}
