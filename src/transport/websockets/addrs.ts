/**
 * WebSocket multiaddrs (libp2p specs websockets/README.md §Addressing): what a WebSockets
 * address looks like, the URL it stands for, and which shapes can be dialed or listened on.
 *
 *   <host> [/tcp/<port>] ( /ws | /wss | /tls[/sni/<name>]/ws ) [/http-path/<path>] [/p2p/<id>]
 *
 * `<host>` is `/ip4`, `/ip6` (optionally behind `/ip6zone`) or `/dns|dns4|dns6`. Without a TCP
 * port a secure address means 443 and a plain one 80. `/wss` is `/tls/ws` with `/tls` omitted.
 *
 * Browser-safe: no Node built-ins here.
 */
import { CODE_HTTP_PATH, CODE_P2P, CODE_SNI, CODE_TCP, CODE_TLS, CODE_WS, CODE_WSS } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { parseHost, type AddressFamily } from '../multiaddr-utils.ts'

export interface WebSocketTarget {
  /** An IP literal (an IPv6 zone appended as `%zone`) or a DNS name. */
  host: string
  port: number
  family: AddressFamily
  /** True for `/wss` and `/tls/.../ws`: the socket runs TLS and the URL is `wss://`. */
  secure: boolean
  /** The TLS server name from `/tls/sni/<name>`, when the address carries one. */
  serverName?: string
  /** The HTTP request path: `/` unless the address has `/http-path`. */
  path: string
  /** True when the address had `/tcp/<port>` (false: the 80/443 default applies). */
  explicitPort: boolean
  /** The WebSocket components as written, e.g. `/ws`, `/wss`, `/tls/ws`, `/tls/sni/x/ws`. */
  suffix: string
  /** The `/p2p/<id>` value, when present. */
  peerId?: string
}

/** Splits a WebSockets multiaddr into its parts; undefined for any other shape. */
export function parseWebSocketAddr (addr: Multiaddr): WebSocketTarget | undefined {
  const components = addr.getComponents()
  const parsedHost = parseHost(components)
  if (parsedHost === undefined) return undefined
  const { host, family } = parsedHost
  let i = parsedHost.next
  let port = -1
  if (components[i]?.code === CODE_TCP) {
    port = Number(components[i].value)
    if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined
    i++
  }
  const suffixStart = i
  let secure = false
  let serverName: string | undefined
  if (components[i]?.code === CODE_WSS) {
    secure = true
    i++
  } else {
    if (components[i]?.code === CODE_TLS) {
      secure = true
      i++
      if (components[i]?.code === CODE_SNI) {
        serverName = components[i].value
        if (serverName === undefined || serverName.length === 0) return undefined
        i++
      }
    }
    if (components[i]?.code !== CODE_WS) return undefined
    i++
  }
  const suffix = components.slice(suffixStart, i).map(c => c.value === undefined ? `/${c.name}` : `/${c.name}/${c.value}`).join('')
  let path = '/'
  if (components[i]?.code === CODE_HTTP_PATH) {
    const value = components[i].value ?? ''
    path = value.startsWith('/') ? value : `/${value}`
    i++
  }
  let peerId: string | undefined
  if (components[i]?.code === CODE_P2P) {
    peerId = components[i].value
    i++
  }
  if (i !== components.length) return undefined
  const explicitPort = port >= 0
  if (!explicitPort) port = secure ? 443 : 80
  return {
    host,
    port,
    family,
    secure,
    serverName,
    path,
    explicitPort,
    suffix,
    peerId
  }
}

/** True for a WebSockets address we can dial (any host kind, secure or not, a real port). */
export function isWebSocketDialAddress (addr: Multiaddr): boolean {
  const target = parseWebSocketAddr(addr)
  return target !== undefined && target.port !== 0
}

/**
 * True for a WebSockets address we can listen on: an IP literal with `/tcp/<port>` (0 allowed)
 * and `/ws`, or `/tls/ws` / `/wss` when `tls` is true (a certificate is configured). No
 * `/sni`, `/http-path` or `/p2p`.
 */
export function isWebSocketListenAddress (addr: Multiaddr, tls: boolean): boolean {
  const target = parseWebSocketAddr(addr)
  if (target === undefined || target.family === 0 || !target.explicitPort) return false
  if (target.serverName !== undefined || target.path !== '/' || target.peerId !== undefined) return false
  return !target.secure || tls
}

/** The `ws://` / `wss://` URL an address stands for; IPv6 hosts go in brackets. */
export function toWebSocketUrl (target: WebSocketTarget, options: { hostFromServerName?: boolean } = {}): string {
  const scheme = target.secure ? 'wss' : 'ws'
  let host = options.hostFromServerName === true && target.serverName !== undefined ? target.serverName : target.host
  if (host.includes(':')) host = `[${host.replace('%', '%25')}]`
  const defaultPort = target.secure ? 443 : 80
  const port = target.port === defaultPort ? '' : `:${target.port}`
  return `${scheme}://${host}${port}${encodePath(target.path)}`
}

/** Percent-encodes what a URL path cannot carry literally, keeping `/` separators. */
function encodePath (path: string): string {
  return path.split('/').map(encodeURIComponent).join('/')
}
