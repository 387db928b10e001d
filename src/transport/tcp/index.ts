/**
 * The TCP transport (Node-only, node:net). Dials and listens on
 * `/ip4|ip6/<ip>/tcp/<port>` (dial also `/dns|dns4|dns6/<host>/tcp/<port>`, optionally followed
 * by `/p2p/<id>`) and produces raw, unsecured connections; the upgrader adds security and
 * multiplexing.
 *
 * Usage: `import { tcp } from 'ts-libp2p/tcp'`, then `transports: [tcp()]`, or directly `tcp(options)()` for a Transport.
 * Addresses with anything after the port (`/ws`, `/p2p-circuit`, ...) belong to other
 * transports and are filtered out by `dialFilter`/`listenFilter`.
 */
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../../interface/common.ts'
import type { Listener, ListenerInit, RawConnection, Transport, TransportDialOptions } from '../../interface/transport.ts'
import { AbortError, ConnectionFailedError, InvalidMultiaddrError, Libp2pError, TimeoutError } from '../../util/errors.ts'
import { logger as defaultLogger } from '../../util/logger.ts'
import type { Logger } from '../../interface/logger.ts'
import { dnsFamilyHint, isTcpDialAddress, isTcpListenAddress, parseIpTcp, toMultiaddr } from '../multiaddr-utils.ts'
import type { HostPort } from '../multiaddr-utils.ts'
import { TcpConnection } from './connection.ts'
import { TcpListener } from './listener.ts'
import { SharedDialPort, isLocalPortConflict } from './dial-port.ts'

export interface TcpOptions {
  /** Concurrent inbound connections per listener (default: unlimited; the connection manager
   * enforces node-wide limits). Extra sockets are closed as soon as they are accepted. */
  maxConnections?: number
  /** Time allowed for the TCP handshake of a dial, in ms (default 10 000). */
  dialTimeout?: number
  /** Listen backlog (default: Node's 511). */
  backlog?: number
  /** Disable Nagle's algorithm (default true: libp2p protocols are latency sensitive and the
   * layers above already coalesce their writes). */
  noDelay?: boolean
  /** TCP keep-alive probes (default true, first probe after 30 s idle, like go-libp2p). */
  keepAlive?: boolean
  keepAliveInitialDelay?: number
  /** Unread bytes buffered per connection before the socket is paused (default 256 KiB). */
  readHighWaterMark?: number
  /**
   * The local port every outgoing dial is made from (default 'shared': one random port chosen
   * at the first dial and kept for this transport's life; false: an ephemeral port per dial,
   * like plain node:net). See ./dial-port.ts for why hole punching needs it.
   */
  dialPort?: 'shared' | number | false
}

export interface TcpComponents {
  logger?(name: string): Logger
}

export const DEFAULT_DIAL_TIMEOUT = 10_000

export class TcpTransport implements Transport {
  readonly name = 'tcp'
  readonly #options: Required<Pick<TcpOptions, 'dialTimeout' | 'noDelay' | 'keepAlive' | 'keepAliveInitialDelay'>> & TcpOptions
  readonly #log: Logger
  readonly #dialPort: SharedDialPort | undefined

  constructor (options: TcpOptions = {}, components: TcpComponents = {}) {
    this.#options = {
      ...options,
      dialTimeout: options.dialTimeout ?? DEFAULT_DIAL_TIMEOUT,
      noDelay: options.noDelay ?? true,
      keepAlive: options.keepAlive ?? true,
      keepAliveInitialDelay: options.keepAliveInitialDelay ?? 30_000
    }
    this.#log = components.logger?.('tcp') ?? defaultLogger('tcp')
    const dialPort = options.dialPort ?? 'shared'
    this.#dialPort = dialPort === false ? undefined : new SharedDialPort(dialPort === 'shared' ? undefined : dialPort)
  }

  /** The local port outgoing dials use (undefined before the first dial, or when disabled). */
  get dialPort (): number | undefined {
    return this.#dialPort?.port
  }

  async dial (addr: Multiaddr, options: TransportDialOptions = {}): Promise<RawConnection> {
    const target = isTcpDialAddress(addr) ? parseIpTcp(addr) : undefined
    if (target === undefined) throw new InvalidMultiaddrError(`cannot dial ${addr.toString()} with tcp`)
    // (a separate socket: an ephemeral port, which no earlier dial left from)
    const socket = options.separateSocket === true
      ? await this.#connect(addr, target, options.signal, undefined)
      : await this.#connectFromDialPort(addr, target, options.signal)
    const remoteAddr = socket.remoteAddress !== undefined && socket.remotePort !== undefined
      ? toMultiaddr(socket.remoteAddress, socket.remotePort, socket.remoteFamily)
      : addr
    const localAddr = socket.localAddress !== undefined && socket.localPort !== undefined
      ? toMultiaddr(socket.localAddress, socket.localPort, socket.localFamily)
      : undefined
    this.#log('connected to %s', addr)
    return new TcpConnection(socket, 'outbound', { remoteAddr, localAddr, readHighWaterMark: this.#options.readHighWaterMark, log: this.#log })
  }

  /**
   * Dials from the shared dial port; when the kernel refuses that port for this destination
   * (already connected to it from there, or a TIME_WAIT left by the last connection: errors
   * raised before any packet leaves), dials again from an ephemeral port.
   */
  async #connectFromDialPort (addr: Multiaddr, target: HostPort, signal: AbortSignal | undefined): Promise<Socket> {
    const shared = this.#dialPort
    const destination = `${target.host}:${target.port}`
    if (shared === undefined || shared.isBusyFor(destination)) return await this.#connect(addr, target, signal, undefined)
    for (let tries = 0; tries < 3; tries++) {
      const localPort = shared.take()
      try {
        const socket = await this.#connect(addr, target, signal, localPort)
        shared.occupy(destination)
        socket.once('close', () => { shared.released(destination) })
        return socket
      } catch (err) {
        const conflict = isLocalPortConflict(err)
        if (conflict === undefined) throw err
        this.#log('dial port %d unusable for %s (%s)', localPort, addr, conflict)
        // In use by another program: choose another shared port. Busy only for this
        // destination: this one dial goes out from an ephemeral port.
        if (conflict === 'EADDRINUSE' && shared.release(localPort)) continue
        break
      }
    }
    return await this.#connect(addr, target, signal, undefined)
  }

  #connect (addr: Multiaddr, target: HostPort, signal: AbortSignal | undefined, localPort: number | undefined): Promise<Socket> {
    if (signal?.aborted === true) return Promise.reject(abortReason(signal))
    const options = this.#options
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: target.host,
        port: target.port,
        localPort,
        family: target.family === 0 ? dnsFamilyHint(addr) : target.family,
        allowHalfOpen: true,
        noDelay: options.noDelay,
        keepAlive: options.keepAlive,
        keepAliveInitialDelay: options.keepAliveInitialDelay
      })
      const finish = (err?: Error): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        socket.removeListener('connect', onConnect)
        socket.removeListener('error', onError)
        if (err === undefined) {
          resolve(socket)
        } else {
          socket.destroy()
          reject(err)
        }
      }
      const onConnect = (): void => { finish() }
      const onError = (err: NodeJS.ErrnoException): void => {
        finish(new ConnectionFailedError(`dial ${addr.toString()} failed: ${err.code ?? err.message}`, { cause: err }))
      }
      const onAbort = (): void => { finish(abortReason(signal)) }
      const timer = setTimeout(() => {
        finish(new TimeoutError(`dial ${addr.toString()} timed out after ${options.dialTimeout} ms`))
      }, options.dialTimeout)
      socket.once('connect', onConnect)
      socket.once('error', onError)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  createListener (init: ListenerInit): Listener {
    return new TcpListener(init, {
      maxConnections: this.#options.maxConnections,
      backlog: this.#options.backlog,
      noDelay: this.#options.noDelay,
      keepAlive: this.#options.keepAlive,
      keepAliveInitialDelay: this.#options.keepAliveInitialDelay,
      readHighWaterMark: this.#options.readHighWaterMark,
      log: this.#log.extend('listener')
    })
  }

  listenFilter (addrs: Multiaddr[]): Multiaddr[] {
    return addrs.filter(isTcpListenAddress)
  }

  dialFilter (addrs: Multiaddr[]): Multiaddr[] {
    return addrs.filter(isTcpDialAddress)
  }
}

/** Keeps our typed errors (e.g. a TimeoutError from a combined signal); wraps anything else. */
function abortReason (signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason
  if (reason instanceof Libp2pError) return reason
  return new AbortError('the dial was aborted', { cause: reason })
}

/** `transports: [tcp()]` */
export function tcp (options: TcpOptions = {}): (components?: TcpComponents) => Transport {
  return (components?: TcpComponents) => new TcpTransport(options, components)
}
