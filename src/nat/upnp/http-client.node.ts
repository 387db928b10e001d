/**
 * The HTTP/1.1 exchange UPnP needs (GET a description, POST a SOAP action) with the limits a
 * hostile router cannot get around: one request per connection, no redirects followed, the
 * body cut off past `maxBytes` (MessageTooLargeError), the whole exchange under the caller's
 * signal. It also reports the local address the socket used: that is our address on the
 * gateway's network, the internal client of a mapping. Node-only (node:http).
 */
import { request } from 'node:http'
import { InvalidMessageError, MessageTooLargeError } from '../../util/errors.ts'

export interface HttpExchange {
  readonly status: number
  readonly body: string
  /** Our side of the connection (the LAN address facing the gateway). */
  readonly localAddress: string | undefined
}

export interface HttpRequestOptions {
  method: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  maxBytes: number
  signal: AbortSignal
  /** Send from this local address (a host with several LAN addresses). */
  localAddress?: string
}

export async function httpExchange (url: URL, options: HttpRequestOptions): Promise<HttpExchange> {
  options.signal.throwIfAborted()
  const body = options.body !== undefined ? Buffer.from(options.body, 'utf8') : undefined
  return await new Promise<HttpExchange>((resolve, reject) => {
    const req = request(url, {
      method: options.method,
      agent: false,
      localAddress: options.localAddress,
      headers: { ...options.headers, Connection: 'close', ...(body !== undefined ? { 'Content-Length': String(body.length) } : {}) },
      signal: options.signal
    }, (res) => {
      const declared = Number(res.headers['content-length'])
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        res.destroy()
        reject(new MessageTooLargeError(`HTTP body of ${declared} bytes from ${url.host} exceeds ${options.maxBytes}`))
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > options.maxBytes) {
          res.destroy()
          reject(new MessageTooLargeError(`HTTP body from ${url.host} exceeds ${options.maxBytes} bytes`))
          return
        }
        chunks.push(chunk)
      })
      res.on('end', () => {
        let text: string
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks))
        } catch (err) {
          reject(new InvalidMessageError(`HTTP body from ${url.host} is not UTF-8`, { cause: err }))
          return
        }
        resolve({ status: res.statusCode ?? 0, body: text, localAddress: localAddressSeen ?? req.socket?.localAddress })
      })
      res.on('error', (err) => { reject(err) })
    })
    let localAddressSeen: string | undefined
    req.on('socket', (socket) => { socket.on('connect', () => { localAddressSeen = socket.localAddress }) })
    req.on('error', (err) => { reject(options.signal.aborted ? options.signal.reason : err) })
    req.end(body)
  })
}
