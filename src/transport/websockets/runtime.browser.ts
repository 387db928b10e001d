/**
 * The browser runtime of the WebSockets transport (picked through the package.json
 * `#websockets-runtime` import): dials with the global WebSocket; browsers cannot listen.
 *
 * Compared with Node, a browser WebSocket gives less control: no way to pause reading (so
 * `readHighWaterMark` cannot apply), no limit on incoming message size, no 'drain' event
 * (`bufferedAmount` is polled while the sender waits), no TLS options (the browser verifies
 * certificates against its own store; a `/tls/sni/<name>` address is dialed by that name), and
 * no reset (abort sends Close 4000, which our Node side reports as a reset).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Direction } from '../../interface/common.ts'
import type { Listener, ListenerInit, RawConnection } from '../../interface/transport.ts'
import { AbstractStream } from '../../util/abstract-stream.ts'
import { AbortError, ConnectionFailedError, InvalidMessageError, InvalidParametersError, Libp2pError, StreamClosedError, StreamResetError, TimeoutError } from '../../util/errors.ts'
import { toWebSocketUrl } from './addrs.ts'
import type { WebSocketDialInit, WebSocketListenerOptions } from './index.ts'
import { withoutPeerId } from '../../util/multiaddr.ts'

/** Browsers cannot accept connections. */
export const canListen = false

/** How often `bufferedAmount` is checked while a sender waits for it to fall. */
const BUFFERED_AMOUNT_POLL_MS = 10
/** Application close code for a local abort (4000-4999 is free for applications). */
export const ABORT_CLOSE_CODE = 4000

export function dialWebSocket (init: WebSocketDialInit): Promise<RawConnection> {
  const { target, addr, signal } = init
  if (signal?.aborted === true) return Promise.reject(abortReason(signal))
  const url = toWebSocketUrl(target, { hostFromServerName: true })
  return new Promise((resolve, reject) => {
    let ws: WebSocket
    try {
      ws = new globalThis.WebSocket(url)
    } catch (err) {
      reject(new ConnectionFailedError(`dial ${addr.toString()} failed: ${(err as Error).message}`, { cause: err }))
      return
    }
    ws.binaryType = 'arraybuffer'
    const finish = (err?: Error): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      ws.removeEventListener('open', onOpen)
      ws.removeEventListener('error', onError)
      ws.removeEventListener('close', onClose)
      if (err === undefined) return
      ws.close()
      reject(err)
    }
    const onOpen = (): void => {
      finish()
      resolve(new WebSocketConnection(ws, 'outbound', {
        remoteAddr: withoutPeerId(addr),
        writeHighWaterMark: init.writeHighWaterMark
      }))
    }
    // Browsers hide why a WebSocket failed (refused, TLS, HTTP status): one error for all.
    const onError = (): void => { finish(new ConnectionFailedError(`dial ${addr.toString()} failed`)) }
    const onClose = (evt: CloseEvent): void => { finish(new ConnectionFailedError(`dial ${addr.toString()} failed: closed during the handshake (code ${evt.code})`)) }
    const onAbort = (): void => { finish(abortReason(signal)) }
    const timer = setTimeout(() => {
      finish(new TimeoutError(`dial ${addr.toString()} timed out after ${init.dialTimeout} ms`))
    }, init.dialTimeout)
    ws.addEventListener('open', onOpen)
    ws.addEventListener('error', onError)
    ws.addEventListener('close', onClose)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export function createWebSocketListener (_init: ListenerInit, _options: WebSocketListenerOptions): Listener {
  throw new InvalidParametersError('WebSockets cannot listen in a browser')
}

export interface WebSocketConnectionInit {
  remoteAddr: Multiaddr
  writeHighWaterMark: number
}

/**
 * A standard (WHATWG) WebSocket as a RawConnection: one binary message per send chunk, one
 * chunk per message received; text messages fail the connection. closeWrite sends Close 1000
 * after the queued data (no half-close, as in Node); a Close received ends the stream; any
 * unclean end is a reset.
 */
export class WebSocketConnection extends AbstractStream implements RawConnection {
  readonly remoteAddr: Multiaddr
  readonly localAddr = undefined
  readonly direction: Direction
  readonly #ws: WebSocket
  readonly #writeHighWaterMark: number
  #pollTimer: ReturnType<typeof setTimeout> | undefined

  constructor (ws: WebSocket, direction: Direction, init: WebSocketConnectionInit) {
    super()
    this.#ws = ws
    this.direction = direction
    this.remoteAddr = init.remoteAddr
    this.#writeHighWaterMark = init.writeHighWaterMark
    ws.binaryType = 'arraybuffer'
    ws.addEventListener('message', this.#onMessage)
    ws.addEventListener('close', this.#onClose)
  }

  override toString (): string {
    return `websocket ${this.direction} ${this.remoteAddr.toString()}`
  }

  readonly #onMessage = (evt: MessageEvent): void => {
    const data: unknown = evt.data
    if (!(data instanceof ArrayBuffer)) {
      this.pushReset(new InvalidMessageError('received a WebSocket text message; libp2p sends binary messages only'))
      this.#ws.close(ABORT_CLOSE_CODE, 'binary messages only')
      return
    }
    this.pushData(new Uint8Array(data))
  }

  readonly #onClose = (evt: CloseEvent): void => {
    this.#stopPolling()
    if (evt.wasClean && (evt.code === 1000 || evt.code === 1001 || evt.code === 1005)) {
      this.pushEnd()
      if (this.writeStatus !== 'closed') this.markWriteClosed()
    } else {
      this.pushReset(new StreamResetError(`the websocket closed abnormally (code ${evt.code})`))
    }
  }

  readonly #poll = (): void => {
    this.#pollTimer = undefined
    if (this.#ws.readyState !== WebSocket.OPEN && this.#ws.readyState !== WebSocket.CLOSING) return
    if (this.#ws.bufferedAmount < this.#writeHighWaterMark) {
      this.notifyDrain()
      return
    }
    this.#pollTimer = setTimeout(this.#poll, BUFFERED_AMOUNT_POLL_MS)
  }

  #stopPolling (): void {
    if (this.#pollTimer === undefined) return
    clearTimeout(this.#pollTimer)
    this.#pollTimer = undefined
  }

  protected sendChunk (chunk: Uint8Array): boolean {
    const ws = this.#ws
    if (ws.readyState !== WebSocket.OPEN) {
      // The remote's Close has arrived; the browser would drop the bytes silently.
      this.markWriteClosed()
      throw new StreamClosedError('the remote closed the websocket')
    }
    ws.send(chunk as Uint8Array<ArrayBuffer>)
    if (ws.bufferedAmount < this.#writeHighWaterMark) return true
    this.#pollTimer ??= setTimeout(this.#poll, BUFFERED_AMOUNT_POLL_MS)
    return false
  }

  protected sendCloseWrite (): void {
    this.#ws.close(1000)
  }

  protected sendReset (_err: Error): void {
    this.#stopPolling()
    const ws = this.#ws
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(ABORT_CLOSE_CODE, 'reset')
  }

  protected override onFinished (): void {
    this.#stopPolling()
    if (this.status === 'aborted') return
    // Both directions are done (e.g. closeWrite then closeRead) before the remote's Close.
    const ws = this.#ws
    if (ws.readyState === WebSocket.OPEN) ws.close(this.status === 'reset' ? ABORT_CLOSE_CODE : 1000)
  }
}

/** Keeps our typed errors (e.g. a TimeoutError from a combined signal); wraps anything else. */
function abortReason (signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason
  if (reason instanceof Libp2pError) return reason
  return new AbortError('the dial was aborted', { cause: reason })
}
