/**
 * The Node.js runtime of the WebSockets transport (picked through the package.json
 * `#websockets-runtime` import): dials with the `ws` client and listens with
 * websockets/listener.node.ts. Both produce NodeWebSocketConnection objects.
 *
 * A dial is bounded by `dialTimeout` (TCP connect + TLS + HTTP upgrade) and by the caller's
 * signal; whichever fires first terminates the half-open socket. Secure addresses are dialed
 * with certificate verification against the system CAs plus `dialTls.ca`, with the
 * `/tls/sni/<name>` value (or the DNS host) as the server name.
 */
import type { Socket } from 'node:net'
import type { IncomingMessage } from 'node:http'
// before ws, which picks its masking functions when it loads
import './fast-unmask.node.ts'
import { WebSocket } from 'ws'
import type { ClientOptions } from 'ws'
import type { Listener, ListenerInit, RawConnection } from '../../interface/transport.ts'
import { AbortError, ConnectionFailedError, Libp2pError, TimeoutError } from '../../util/errors.ts'
import { dnsFamilyHint, toMultiaddr } from '../multiaddr-utils.ts'
import { toWebSocketUrl } from './addrs.ts'
import type { WebSocketDialInit, WebSocketListenerOptions } from './index.ts'
import { NodeWebSocketConnection } from './connection.node.ts'
import { WebSocketsListener } from './listener.node.ts'
import { withoutPeerId } from '../../util/multiaddr.ts'

/** Node can listen (browsers cannot). */
export const canListen = true

export function dialWebSocket (init: WebSocketDialInit): Promise<RawConnection> {
  const { target, addr, signal } = init
  if (signal?.aborted === true) return Promise.reject(abortReason(signal))
  const url = toWebSocketUrl(target)
  return new Promise((resolve, reject) => {
    // closeTimeout and servername reach ws and tls.connect; @types/ws does not list them.
    const options: ClientOptions & { closeTimeout: number, servername?: string } = {
      perMessageDeflate: false,
      followRedirects: false,
      maxPayload: init.maxMessageSize,
      // A message split into many tiny fragments costs as much as many messages.
      maxFragments: 1024,
      maxBufferedChunks: 64 * 1024,
      // Text messages fail the connection anyway; no need to validate their UTF-8.
      skipUTF8Validation: true,
      closeTimeout: init.closeTimeout,
      family: target.family === 0 ? dnsFamilyHint(addr) : target.family,
      rejectUnauthorized: true
    }
    if (target.serverName !== undefined) options.servername = target.serverName
    if (init.dialTls?.ca !== undefined) options.ca = init.dialTls.ca as ClientOptions['ca']
    let ws: WebSocket
    try {
      ws = new WebSocket(url, options)
    } catch (err) {
      reject(new ConnectionFailedError(`dial ${addr.toString()} failed: ${(err as Error).message}`, { cause: err }))
      return
    }
    let socket: Socket | undefined
    const finish = (err?: Error): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      ws.removeListener('upgrade', onUpgrade)
      ws.removeListener('open', onOpen)
      ws.removeListener('error', onError)
      ws.removeListener('close', onEarlyClose)
      if (err === undefined) return
      // ws may still report the aborted handshake; nobody is listening any more.
      ws.on('error', ignore)
      ws.terminate()
      reject(err)
    }
    const onUpgrade = (res: IncomingMessage): void => { socket = res.socket }
    const onOpen = (): void => {
      finish()
      if (socket === undefined) {
        // Cannot happen with ws (the upgrade response always precedes open); stay safe.
        ws.on('error', ignore)
        ws.terminate()
        reject(new ConnectionFailedError(`dial ${addr.toString()} failed: no socket behind the websocket`))
        return
      }
      const remoteAddr = target.secure || socket.remoteAddress === undefined || socket.remotePort === undefined
        ? withoutPeerId(addr)
        : toMultiaddr(socket.remoteAddress, socket.remotePort, socket.remoteFamily).encapsulate(target.suffix)
      const localAddr = socket.localAddress !== undefined && socket.localPort !== undefined
        ? toMultiaddr(socket.localAddress, socket.localPort, socket.localFamily).encapsulate(target.suffix)
        : undefined
      // Listeners attach synchronously here, before ws reads any message.
      resolve(new NodeWebSocketConnection(ws, socket, 'outbound', {
        remoteAddr,
        localAddr,
        readHighWaterMark: init.readHighWaterMark,
        writeHighWaterMark: init.writeHighWaterMark,
        log: init.log
      }))
    }
    const onError = (err: Error & { code?: string }): void => {
      finish(new ConnectionFailedError(`dial ${addr.toString()} failed: ${err.code ?? err.message}`, { cause: err }))
    }
    const onEarlyClose = (code: number): void => {
      finish(new ConnectionFailedError(`dial ${addr.toString()} failed: the websocket closed during the handshake (code ${code})`))
    }
    const onAbort = (): void => { finish(abortReason(signal)) }
    const timer = setTimeout(() => {
      finish(new TimeoutError(`dial ${addr.toString()} timed out after ${init.dialTimeout} ms`))
    }, init.dialTimeout)
    ws.on('upgrade', onUpgrade)
    ws.on('open', onOpen)
    ws.on('error', onError)
    ws.on('close', onEarlyClose)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export function createWebSocketListener (init: ListenerInit, options: WebSocketListenerOptions): Listener {
  return new WebSocketsListener(init, options)
}

function ignore (): void {}

/** Keeps our typed errors (e.g. a TimeoutError from a combined signal); wraps anything else. */
function abortReason (signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason
  if (reason instanceof Libp2pError) return reason
  return new AbortError('the dial was aborted', { cause: reason })
}
