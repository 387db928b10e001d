/**
 * The TCP listener (Node-only): one node:net server per listen address. Every accepted socket
 * becomes a TcpConnection handed to `onConnection`; past `maxConnections` concurrent inbound
 * sockets Node closes new ones immediately. IPv6 listeners are IPv6-only, so `/ip4/0.0.0.0`
 * and `/ip6/::` on the same port can coexist as they do in go-libp2p.
 */
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Listener, ListenerInit } from '../../interface/transport.ts'
import { InvalidMultiaddrError, InvalidParametersError } from '../../util/errors.ts'
import { listenServer } from '../listen-server.node.ts'
import type { Logger } from '../../interface/logger.ts'
import { interfaceAddrs } from '../interface-addrs.node.ts'
import { isTcpListenAddress, parseIpTcp, toMultiaddr } from '../multiaddr-utils.ts'
import { isWildcardIp } from '../../util/multiaddr.ts'
import { TcpConnection } from './connection.ts'

export interface TcpListenerOptions {
  /** Concurrent inbound connections per listener; extra sockets are closed at once. */
  maxConnections?: number
  /** The kernel accept queue length (Node's default 511). */
  backlog?: number
  noDelay: boolean
  keepAlive: boolean
  keepAliveInitialDelay: number
  readHighWaterMark?: number
  log: Logger
}

export class TcpListener implements Listener {
  readonly #init: ListenerInit
  readonly #options: TcpListenerOptions
  #server: Server | undefined
  #closing = false

  constructor (init: ListenerInit, options: TcpListenerOptions) {
    this.#init = init
    this.#options = options
  }

  async listen (addr: Multiaddr): Promise<void> {
    if (this.#server !== undefined || this.#closing) throw new InvalidParametersError('this listener is already in use; create one listener per address')
    const target = isTcpListenAddress(addr) ? parseIpTcp(addr) : undefined
    if (target === undefined) throw new InvalidMultiaddrError(`cannot listen on ${addr.toString()} with tcp`)
    const options = this.#options
    const server = createServer({
      allowHalfOpen: true,
      noDelay: options.noDelay,
      keepAlive: options.keepAlive,
      keepAliveInitialDelay: options.keepAliveInitialDelay
    }, this.#onSocket)
    if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections
    await listenServer(server, addr, { host: target.host, port: target.port, backlog: options.backlog, ipv6Only: target.family === 6 })
    server.on('error', this.#onServerError)
    server.on('drop', this.#onDrop)
    this.#server = server
    options.log('listening on %s', this.getAddrs().map(String).join(', '))
  }

  getAddrs (): Multiaddr[] {
    const bound = this.#server?.address()
    if (bound == null || typeof bound === 'string') return []
    const family = bound.family === 'IPv6' || (bound.family as unknown) === 6 ? 6 : 4
    if (isWildcardIp(bound.address)) return interfaceAddrs(family, bound.port)
    return [toMultiaddr(bound.address, bound.port, family)]
  }

  async close (): Promise<void> {
    const server = this.#server
    this.#server = undefined
    if (server === undefined || this.#closing) return
    this.#closing = true
    server.removeListener('error', this.#onServerError)
    server.removeListener('drop', this.#onDrop)
    await new Promise<void>((resolve) => {
      // close() releases the listening socket at once; Node only delays its 'close' event
      // until accepted sockets end, and those belong to the upgrader, not to us.
      server.close(() => { resolve() })
      server.getConnections((err, count) => { if (err != null || count > 0) resolve() })
    })
    this.#options.log('listener closed')
  }

  readonly #onSocket = (socket: Socket): void => {
    const remoteAddress = socket.remoteAddress
    const remotePort = socket.remotePort
    if (remoteAddress === undefined || remotePort === undefined) {
      // The peer hung up before we saw the socket.
      socket.destroy()
      return
    }
    const conn = new TcpConnection(socket, 'inbound', {
      remoteAddr: toMultiaddr(remoteAddress, remotePort, socket.remoteFamily),
      localAddr: socket.localAddress !== undefined && socket.localPort !== undefined
        ? toMultiaddr(socket.localAddress, socket.localPort, socket.localFamily)
        : undefined,
      readHighWaterMark: this.#options.readHighWaterMark,
      log: this.#options.log
    })
    try {
      this.#init.onConnection(conn)
    } catch (err) {
      conn.abort(err as Error)
    }
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

  readonly #onDrop = (data?: { remoteAddress?: string, remotePort?: number }): void => {
    this.#options.log('inbound connection from %s:%s dropped: the limit of %d is reached', data?.remoteAddress, data?.remotePort, this.#options.maxConnections)
  }
}

