/**
 * The WebSockets transport (libp2p specs websockets/README.md): dials
 * `<ip4|ip6|dns|dns4|dns6>/tcp/<port>/ws` (and `/wss`, `/tls/ws`, `/tls/sni/<name>/ws`, with
 * an optional `/http-path` and `/p2p/<id>`) and listens on `/ip4|ip6/<ip>/tcp/<port>/ws`
 * (`/tls/ws` and `/wss` too once a certificate is configured). Binary WebSocket messages carry
 * the raw byte stream; the upgrader adds multistream-select, Noise and a muxer on top, as over
 * TCP.
 *
 * Usage: `import { webSockets } from 'ts-libp2p/websockets'`, then
 * `transports: [tcp(), webSockets()]`, or `webSockets(options)()` for a Transport.
 *
 * Runtimes: in Node.js dialing and listening use the `ws` library (websockets/runtime.node.ts); in
 * browsers dialing uses the global WebSocket (websockets/runtime.browser.ts) and listening is not
 * possible. The package.json `#websockets-runtime` import picks one.
 *
 * Secure addresses are dialed with TLS certificate verification (the system CAs, or
 * `dialTls.ca`). There is no half-close: `closeWrite()` ends the whole WebSocket (see
 * websockets/connection.node.ts); the muxers above half-close their streams themselves.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../../interface/common.ts'
import type { Listener, ListenerInit, RawConnection, Transport } from '../../interface/transport.ts'
import { InvalidMultiaddrError } from '../../util/errors.ts'
import { logger as defaultLogger } from '../../util/logger.ts'
import type { Logger } from '../../interface/logger.ts'
import { isWebSocketDialAddress, isWebSocketListenAddress, parseWebSocketAddr } from './addrs.ts'
import type { WebSocketTarget } from './addrs.ts'
import { canListen, createWebSocketListener, dialWebSocket } from '#websockets-runtime'

/** PEM text or DER bytes, as Node's TLS options take them. */
export type TlsMaterial = string | Uint8Array | Array<string | Uint8Array>

export interface WebSocketsOptions {
  /** Time allowed for TCP connect + TLS + HTTP upgrade of a dial, in ms (default 10 000). */
  dialTimeout?: number
  /** Concurrent inbound connections per listener (default unlimited); extra upgrade requests
   * get HTTP 503 and are closed. */
  maxConnections?: number
  /** Largest WebSocket message accepted, in bytes (default 1 MiB; a Noise frame is at most
   * 65 537 bytes). Larger ones fail the connection with MessageTooLargeError. Browsers cannot
   * limit what they receive. */
  maxMessageSize?: number
  /** Unread bytes buffered per connection before the socket is paused (default 256 KiB;
   * Node only: a browser WebSocket cannot be paused). */
  readHighWaterMark?: number
  /** Bytes queued for sending before send() reports backpressure (default 256 KiB). */
  writeHighWaterMark?: number
  /** Time an inbound socket gets to complete its TLS handshake and HTTP upgrade request, in ms
   * (default 10 000). */
  handshakeTimeout?: number
  /** Time to wait for the remote's Close frame after ours before dropping the socket, in ms
   * (default 2 000). */
  closeTimeout?: number
  /** Server certificate and key (Node): enables listening on `/tls/ws` and `/wss`. */
  tls?: { cert: TlsMaterial, key: TlsMaterial }
  /** Extra trusted CAs when dialing secure addresses (Node; browsers use their own store).
   * Verification itself cannot be turned off. */
  dialTls?: { ca?: TlsMaterial }
}

export interface WebSocketsComponents {
  logger?(name: string): Logger
}

/** What a runtime's dial needs; every field is resolved (no defaults left to apply). */
export interface WebSocketDialInit {
  target: WebSocketTarget
  addr: Multiaddr
  signal?: AbortSignal
  dialTimeout: number
  maxMessageSize: number
  readHighWaterMark: number
  writeHighWaterMark: number
  closeTimeout: number
  dialTls?: { ca?: TlsMaterial }
  log: Logger
}

/** What a runtime's listener needs. */
export interface WebSocketListenerOptions {
  maxConnections?: number
  maxMessageSize: number
  readHighWaterMark: number
  writeHighWaterMark: number
  handshakeTimeout: number
  closeTimeout: number
  tls?: { cert: TlsMaterial, key: TlsMaterial }
  log: Logger
}

export const DEFAULT_DIAL_TIMEOUT = 10_000
export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000
export const DEFAULT_CLOSE_TIMEOUT = 2_000
const DEFAULT_HIGH_WATER_MARK = 256 * 1024

export class WebSocketsTransport implements Transport {
  readonly name = 'websockets'
  readonly #options: WebSocketsOptions
  readonly #log: Logger

  constructor (options: WebSocketsOptions = {}, components: WebSocketsComponents = {}) {
    this.#options = options
    this.#log = components.logger?.('websockets') ?? defaultLogger('websockets')
  }

  async dial (addr: Multiaddr, options: AbortOptions = {}): Promise<RawConnection> {
    const target = parseWebSocketAddr(addr)
    if (target === undefined || target.port === 0) throw new InvalidMultiaddrError(`cannot dial ${addr.toString()} with websockets`)
    const o = this.#options
    const conn = await dialWebSocket({
      target,
      addr,
      signal: options.signal,
      dialTimeout: o.dialTimeout ?? DEFAULT_DIAL_TIMEOUT,
      maxMessageSize: o.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
      readHighWaterMark: o.readHighWaterMark ?? DEFAULT_HIGH_WATER_MARK,
      writeHighWaterMark: o.writeHighWaterMark ?? DEFAULT_HIGH_WATER_MARK,
      closeTimeout: o.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
      dialTls: o.dialTls,
      log: this.#log
    })
    this.#log('connected to %s', addr)
    return conn
  }

  createListener (init: ListenerInit): Listener {
    const o = this.#options
    return createWebSocketListener(init, {
      maxConnections: o.maxConnections,
      maxMessageSize: o.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
      readHighWaterMark: o.readHighWaterMark ?? DEFAULT_HIGH_WATER_MARK,
      writeHighWaterMark: o.writeHighWaterMark ?? DEFAULT_HIGH_WATER_MARK,
      handshakeTimeout: o.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
      closeTimeout: o.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
      tls: o.tls,
      log: this.#log.extend('listener')
    })
  }

  listenFilter (addrs: Multiaddr[]): Multiaddr[] {
    if (!canListen) return []
    const tls = this.#options.tls !== undefined
    return addrs.filter(a => isWebSocketListenAddress(a, tls))
  }

  dialFilter (addrs: Multiaddr[]): Multiaddr[] {
    return addrs.filter(isWebSocketDialAddress)
  }
}

/** `transports: [webSockets()]` */
export function webSockets (options: WebSocketsOptions = {}): (components?: WebSocketsComponents) => Transport {
  return (components?: WebSocketsComponents) => new WebSocketsTransport(options, components)
}
