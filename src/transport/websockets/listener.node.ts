/**
 * The WebSockets listener (Node-only): one HTTP server (HTTPS for `/tls/ws` and `/wss`) per
 * listen address, whose upgrade requests the `ws` library turns into WebSockets; each becomes
 * a NodeWebSocketConnection handed to `onConnection`.
 *
 * Limits, so that hostile clients cost bounded resources:
 * - an accepted socket has `handshakeTimeout` to finish TLS and send a valid upgrade request,
 *   or it is destroyed; malformed HTTP gets 400, a plain HTTP request 426, a bad upgrade
 *   request 400 (from ws), all followed by closing the socket;
 * - past `maxConnections` open WebSockets, upgrade requests get 503;
 * - messages above `maxMessageSize` (and messages in more than 1024 fragments) fail the
 *   connection with 1009 / MessageTooLargeError; compression is never negotiated.
 */
import { createServer as createHttpServer } from 'node:http'
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import type { Multiaddr } from '@multiformats/multiaddr'
// before ws, which picks its masking functions when it loads
import './fast-unmask.node.ts'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import type { Listener, ListenerInit } from '../../interface/transport.ts'
import { InvalidMultiaddrError, InvalidParametersError } from '../../util/errors.ts'
import { listenServer } from '../listen-server.node.ts'
import { interfaceAddrs } from '../interface-addrs.node.ts'
import { isWildcardIp } from '../../util/multiaddr.ts'
import { toMultiaddr } from '../multiaddr-utils.ts'
import { isWebSocketListenAddress, parseWebSocketAddr } from './addrs.ts'
import type { WebSocketListenerOptions } from './index.ts'
import { NodeWebSocketConnection } from './connection.node.ts'

const SERVICE_UNAVAILABLE = 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'

export class WebSocketsListener implements Listener {
  readonly #init: ListenerInit
  readonly #options: WebSocketListenerOptions
  readonly #wss: WebSocketServer
  #server: HttpServer | undefined
  #suffix = '/ws'
  #closing = false
  /** Open WebSocket connections (upgraded and not yet finished). */
  #open = 0
  /** Accepted sockets still before their upgrade, each with its deadline. */
  readonly #pending = new Map<Socket, ReturnType<typeof setTimeout>>()

  constructor (init: ListenerInit, options: WebSocketListenerOptions) {
    this.#init = init
    this.#options = options
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: options.maxMessageSize,
      maxFragments: 1024,
      skipUTF8Validation: true,
      closeTimeout: options.closeTimeout
    } as ConstructorParameters<typeof WebSocketServer>[0])
  }

  async listen (addr: Multiaddr): Promise<void> {
    if (this.#server !== undefined || this.#closing) throw new InvalidParametersError('this listener is already in use; create one listener per address')
    const options = this.#options
    const target = isWebSocketListenAddress(addr, options.tls !== undefined) ? parseWebSocketAddr(addr) : undefined
    if (target === undefined) throw new InvalidMultiaddrError(`cannot listen on ${addr.toString()} with websockets${options.tls === undefined && parseWebSocketAddr(addr)?.secure === true ? ' (no TLS certificate configured)' : ''}`)
    const timeouts = {
      // The HTTP layer's own bounds for a slow upgrade request (checked every second).
      requestTimeout: options.handshakeTimeout,
      headersTimeout: options.handshakeTimeout,
      connectionsCheckingInterval: Math.min(1000, options.handshakeTimeout),
      keepAlive: false,
      maxHeaderSize: 8 * 1024
    }
    let server: HttpServer
    if (target.secure) {
      const tls = options.tls!
      server = createHttpsServer({ ...timeouts, cert: tls.cert as string, key: tls.key as string, handshakeTimeout: options.handshakeTimeout })
      server.on('secureConnection', this.#onSocket)
    } else {
      server = createHttpServer(timeouts)
      server.on('connection', this.#onSocket)
    }
    server.on('upgrade', this.#onUpgrade)
    server.on('request', this.#onRequest)
    server.on('clientError', this.#onClientError)
    await listenServer(server, addr, { host: target.host, port: target.port, ipv6Only: target.family === 6 })
    server.on('error', this.#onServerError)
    this.#server = server
    this.#suffix = target.suffix
    options.log('listening on %s', this.getAddrs().map(String).join(', '))
  }

  getAddrs (): Multiaddr[] {
    const bound = this.#server?.address()
    if (bound == null || typeof bound === 'string') return []
    const family = bound.family === 'IPv6' || (bound.family as unknown) === 6 ? 6 : 4
    const base = isWildcardIp(bound.address) ? interfaceAddrs(family, bound.port) : [toMultiaddr(bound.address, bound.port, family)]
    return base.map(a => a.encapsulate(this.#suffix))
  }

  async close (): Promise<void> {
    const server = this.#server
    this.#server = undefined
    if (server === undefined || this.#closing) return
    this.#closing = true
    server.removeListener('error', this.#onServerError)
    for (const [socket, timer] of this.#pending) {
      clearTimeout(timer)
      socket.destroy()
    }
    this.#pending.clear()
    await new Promise<void>((resolve) => {
      // close() releases the listening socket at once; Node only delays its 'close' event
      // until the upgraded sockets end, and those belong to the upgrader, not to us.
      server.close(() => { resolve() })
      server.getConnections((err, count) => { if (err != null || count > 0) resolve() })
    })
    this.#options.log('listener closed')
  }

  /** Every accepted socket gets a deadline for its upgrade. */
  readonly #onSocket = (socket: Socket): void => {
    if (this.#closing) {
      socket.destroy()
      return
    }
    const timer = setTimeout(() => {
      this.#pending.delete(socket)
      socket.destroy()
    }, this.#options.handshakeTimeout)
    this.#pending.set(socket, timer)
    socket.once('close', () => { this.#forget(socket) })
  }

  #forget (socket: Socket): void {
    const timer = this.#pending.get(socket)
    if (timer === undefined) return
    clearTimeout(timer)
    this.#pending.delete(socket)
  }

  readonly #onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    this.#forget(socket)
    socket.on('error', ignore)
    if (this.#closing) {
      socket.destroy()
      return
    }
    if (this.#atLimit()) {
      this.#reject(socket, SERVICE_UNAVAILABLE, 'the connection limit is reached')
      return
    }
    try {
      this.#wss.handleUpgrade(req, socket, head, (ws) => { this.#onWebSocket(ws, socket) })
    } catch (err) {
      this.#options.log('upgrade from %s failed: %s', socket.remoteAddress, (err as Error).message)
      socket.destroy()
    }
  }

  #atLimit (): boolean {
    const max = this.#options.maxConnections
    return max !== undefined && this.#open >= max
  }

  #onWebSocket (ws: WebSocket, socket: Socket): void {
    socket.removeListener('error', ignore)
    const remoteAddress = socket.remoteAddress
    const remotePort = socket.remotePort
    if (this.#closing || this.#atLimit() || remoteAddress === undefined || remotePort === undefined) {
      ws.on('error', ignore)
      ws.terminate()
      return
    }
    const options = this.#options
    this.#open++
    const conn = new NodeWebSocketConnection(ws, socket, 'inbound', {
      remoteAddr: toMultiaddr(remoteAddress, remotePort, socket.remoteFamily).encapsulate(this.#suffix),
      localAddr: socket.localAddress !== undefined && socket.localPort !== undefined
        ? toMultiaddr(socket.localAddress, socket.localPort, socket.localFamily).encapsulate(this.#suffix)
        : undefined,
      readHighWaterMark: options.readHighWaterMark,
      writeHighWaterMark: options.writeHighWaterMark,
      log: options.log,
      onFinished: () => { this.#open-- }
    })
    try {
      this.#init.onConnection(conn)
    } catch (err) {
      conn.abort(err as Error)
    }
  }

  #reject (socket: Socket, response: string, why: string): void {
    this.#options.log('rejecting an upgrade from %s: %s', socket.remoteAddress, why)
    if (socket.writable) socket.end(response)
    // end() waits for the remote's FIN; do not wait longer than a handshake may take.
    const timer = setTimeout(() => { socket.destroy() }, this.#options.handshakeTimeout)
    socket.once('close', () => { clearTimeout(timer) })
  }

  /** Plain HTTP requests: this endpoint only speaks WebSocket. */
  readonly #onRequest = (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(426, { connection: 'close', upgrade: 'websocket', 'content-length': '0' })
    res.end()
  }

  readonly #onClientError = (err: NodeJS.ErrnoException, socket: Socket): void => {
    socket.on('error', ignore)
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy()
      return
    }
    this.#reject(socket, BAD_REQUEST, `malformed HTTP (${err.code ?? err.message})`)
  }

  readonly #onServerError = (err: NodeJS.ErrnoException): void => {
    // Accept errors (e.g. EMFILE) leave the server listening; only report a server that stopped.
    this.#options.log.error('listener error: %s', err.code ?? err.message)
    const server = this.#server
    if (server !== undefined && !server.listening) {
      this.#server = undefined
      server.close()
      this.#init.onClose?.(err)
    }
  }
}

function ignore (): void {}
