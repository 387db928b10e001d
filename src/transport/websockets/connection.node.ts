/**
 * A WebSocket (the `ws` library, Node-only) as a RawConnection. Binary messages carry the
 * byte stream: every chunk handed to `send()` goes out as one binary message (no framing of
 * our own), every binary message received is one chunk for the reader.
 *
 * Mapping onto the AbstractStream hooks:
 * - 'message' -> pushData; a text message is a protocol violation (libp2p speaks bytes) and
 *   fails the connection with InvalidMessageError (close code 1003). While more than
 *   `readHighWaterMark` bytes wait unread the WebSocket (and so its TCP socket) is paused, and
 *   it resumes once the reader has taken half of them. Of those, the first FREE_READ_BUFFER
 *   bytes are free; beyond them the buffer is reserved (in chunks) from the connection's memory
 *   account once the switch gives it one (useMemory), and a refused reservation pauses the
 *   socket at what it holds: backpressure, nothing dropped. Released when the stream ends.
 * - send -> our own binary frames (frame-writer.node.ts), not ws.send: everything sent while
 *   one batch of I/O events is handled (a Noise frame's length prefix, ciphertext and tag) is
 *   one message, masked by us when we are the client, and leaves in one writev of the corked
 *   socket; backpressure is `ws.bufferedAmount` (the socket's buffer) plus what waits for the
 *   next message above `writeHighWaterMark`, relieved by the socket's 'drain'.
 * - closeWrite -> a Close frame (1000). WebSockets have no half-close: a peer that receives
 *   Close answers with its own and stops sending (ws, browsers, gorilla all do), so closeWrite
 *   ends the connection after everything queued before it. What the remote sent before its
 *   Close is still delivered, then end-of-stream. js-libp2p and go-libp2p close the same way;
 *   the muxers above do their own half-close per stream.
 * - a Close received (1000, 1001, 1005) -> end-of-stream and the write side closes too; any
 *   other code, an abnormal end (1006) or a socket error -> StreamResetError; a frame ws
 *   rejects (bad opcode, unmasked client frame, message over the size limit) ->
 *   InvalidMessageError / MessageTooLargeError.
 * - abort -> the TCP socket is reset (no Close frame), which the remote sees as 1006.
 */
import type { Socket } from 'node:net'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { WebSocket } from 'ws'
import type { Direction } from '../../interface/common.ts'
import type { RawConnection } from '../../interface/transport.ts'
import type { MemoryAccount } from '../../interface/muxer.ts'
import { AbstractStream } from '../../util/abstract-stream.ts'
import { InvalidMessageError, MessageTooLargeError, StreamClosedError, StreamResetError } from '../../util/errors.ts'
import type { Logger } from '../../interface/logger.ts'
import { runAtBatchEnd } from '../../util/timers.ts'
import { FrameWriter } from './frame-writer.node.ts'

export const DEFAULT_READ_HIGH_WATER_MARK = 256 * 1024
export const DEFAULT_WRITE_HIGH_WATER_MARK = 256 * 1024
/** Unread bytes held without a reservation. */
export const FREE_READ_BUFFER = 64 * 1024
const RESERVATION_CHUNK = 64 * 1024
/**
 * Once this much waits for the next message, the next send flushes it first, so the receiver
 * works on one message while we produce the next (the pieces of one Noise frame still leave
 * together, in one message).
 */
const FLUSH_CORKED_BYTES = 64 * 1024

/** Close codes (RFC 6455 §7.4.1). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  noStatus: 1005,
  abnormal: 1006,
  tooBig: 1009,
  internalError: 1011
} as const

/** ws' readyState values. */
const OPEN = 1
const CLOSED = 3

export interface NodeWebSocketConnectionInit {
  remoteAddr: Multiaddr
  localAddr?: Multiaddr
  readHighWaterMark?: number
  writeHighWaterMark?: number
  log?: Logger
  /** Runs once when both directions are finished (the listener counts its connections). */
  onFinished?: () => void
}

export class NodeWebSocketConnection extends AbstractStream implements RawConnection {
  readonly remoteAddr: Multiaddr
  readonly localAddr: Multiaddr | undefined
  readonly direction: Direction
  readonly #ws: WebSocket
  readonly #socket: Socket
  readonly #readHighWaterMark: number
  readonly #writeHighWaterMark: number
  readonly #log: Logger | undefined
  readonly #onFinishedCallback: (() => void) | undefined
  #paused = false
  #memory: MemoryAccount | undefined
  /** Read buffer reserved beyond FREE_READ_BUFFER. */
  #reserved = 0
  readonly #frames: FrameWriter
  #corked = false
  #flushScheduled = false
  /** The close code to send when we fail the connection ourselves. */
  #failCode: number = CloseCode.normal

  constructor (ws: WebSocket, socket: Socket, direction: Direction, init: NodeWebSocketConnectionInit) {
    super()
    this.#ws = ws
    this.#socket = socket
    this.direction = direction
    this.remoteAddr = init.remoteAddr
    this.localAddr = init.localAddr
    this.#readHighWaterMark = init.readHighWaterMark ?? DEFAULT_READ_HIGH_WATER_MARK
    this.#writeHighWaterMark = init.writeHighWaterMark ?? DEFAULT_WRITE_HIGH_WATER_MARK
    this.#log = init.log
    this.#onFinishedCallback = init.onFinished
    // RFC 6455 §5.1: a client masks every frame it sends, a server none
    this.#frames = new FrameWriter(socket, direction === 'outbound')
    ws.on('message', this.#onMessage)
    ws.on('close', this.#onClose)
    ws.on('error', this.#onError)
    socket.on('drain', this.#onDrain)
  }

  useMemory (account: MemoryAccount): void {
    this.#memory ??= account
  }

  /** Unread bytes held before the socket pauses: all of them without an account. */
  get #readLimit (): number {
    return this.#memory === undefined ? this.#readHighWaterMark : Math.min(this.#readHighWaterMark, FREE_READ_BUFFER + this.#reserved)
  }

  override toString (): string {
    return `websocket ${this.direction} ${this.remoteAddr.toString()}`
  }

  // ---- WebSocket events (bound once per connection) ----------------------------------------

  readonly #onMessage = (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void => {
    if (!isBinary) {
      this.#fail(new InvalidMessageError('received a WebSocket text message; libp2p sends binary messages only'), CloseCode.unsupportedData)
      return
    }
    // binaryType is 'nodebuffer', so data is one Buffer; a plain view keeps Uint8Array semantics.
    const buf = data as Buffer
    this.pushData(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength))
    const memory = this.#memory
    if (memory !== undefined && this.readableLength > this.#readLimit && this.#readLimit < this.#readHighWaterMark) {
      const chunks = Math.ceil((this.readableLength - this.#readLimit) / RESERVATION_CHUNK) * RESERVATION_CHUNK
      const grow = Math.min(chunks, this.#readHighWaterMark - FREE_READ_BUFFER - this.#reserved)
      if (grow > 0 && memory.reserve(grow)) this.#reserved += grow
    }
    if (!this.#paused && this.readableLength > this.#readLimit) {
      this.#paused = true
      this.#ws.pause()
    }
  }

  readonly #onClose = (code: number): void => {
    this.#socket.removeListener('drain', this.#onDrain)
    if (code === CloseCode.normal || code === CloseCode.goingAway || code === CloseCode.noStatus) {
      this.pushEnd()
      if (this.writeStatus !== 'closed') this.markWriteClosed()
    } else {
      this.pushReset(new StreamResetError(`the websocket closed abnormally (code ${code})`))
    }
  }

  readonly #onError = (err: Error & { code?: string }): void => {
    this.#log?.('websocket error %s: %s', this.remoteAddr, err.code ?? err.message)
    const code = err.code ?? ''
    let typed: Error
    if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') typed = new MessageTooLargeError(`websocket message too large: ${err.message}`, { cause: err })
    else if (code.startsWith('WS_ERR_')) typed = new InvalidMessageError(`invalid websocket frame: ${err.message}`, { cause: err })
    else typed = new StreamResetError(`websocket connection failed: ${code !== '' ? code : err.message}`, { cause: err })
    // ws has already started its own Close with the matching code.
    this.pushReset(typed)
  }

  readonly #onDrain = (): void => {
    if (this.#ws.bufferedAmount + this.#frames.pendingBytes < this.#writeHighWaterMark) this.notifyDrain()
  }

  readonly #flushCorked = (): void => {
    this.#flushScheduled = false
    this.#uncork()
  }

  #uncork (): void {
    if (!this.#corked) return
    this.#corked = false
    this.#frames.flush()
    this.#socket.uncork()
  }

  #fail (err: Error, closeCode: number): void {
    this.#failCode = closeCode
    this.pushReset(err)
  }

  // ---- AbstractStream hooks ------------------------------------------------------------------

  protected sendChunk (chunk: Uint8Array): boolean {
    const ws = this.#ws
    if (ws.readyState !== OPEN || this.#socket.destroyed) {
      // The remote's Close (or its FIN) has arrived and ws has answered it, or the socket is
      // gone and ws has not noticed yet (it learns at the socket's 'close' event): nothing more
      // can be sent. Say so now rather than at that event, which a sender looping on resolved
      // writes would never let run (ws.send on a destroyed socket buffers nothing, so such a
      // loop spun forever: seen as a test process that never exited on a loaded machine).
      this.markWriteClosed()
      throw new StreamClosedError('the remote closed the websocket')
    }
    if (this.#frames.pendingBytes >= FLUSH_CORKED_BYTES) this.#uncork()
    if (!this.#corked) {
      this.#corked = true
      this.#socket.cork()
      if (!this.#flushScheduled) {
        this.#flushScheduled = true
        runAtBatchEnd(this.#flushCorked)
      }
    }
    this.#frames.push(chunk)
    return ws.bufferedAmount + this.#frames.pendingBytes < this.#writeHighWaterMark
  }

  protected sendCloseWrite (): void {
    this.#uncork()
    // Queued behind everything already sent; ws never sends data after it.
    this.#ws.close(CloseCode.normal)
  }

  protected sendReset (_err: Error): void {
    this.#corked = false
    this.#frames.discard()
    const socket = this.#socket
    if (socket.destroyed) return
    try {
      // RST rather than FIN: the remote must see a failure, not a clean end. Not once the
      // socket was ended (ws ends it when a Close is exchanged): libuv refuses an RST while a
      // FIN is pending (uv_tcp_close_reset: EINVAL) and Node then drops the handle without
      // closing it, so the descriptor leaked and kept the process alive.
      if (socket.writableEnded) socket.destroy()
      else socket.resetAndDestroy()
    } catch {
      // TLS sockets have no TCP handle of their own to reset.
      this.#ws.terminate()
    }
  }

  protected override onConsumed (_bytes: number): void {
    if (this.#paused && this.readableLength <= this.#readLimit >>> 1) {
      this.#paused = false
      this.#ws.resume()
    }
  }

  protected override onFinished (): void {
    if (this.#reserved > 0) {
      this.#memory?.release(this.#reserved)
      this.#reserved = 0
    }
    try {
      // A local abort is left to sendReset, which runs next and resets the socket.
      if (this.status === 'aborted') return
      const ws = this.#ws
      if (ws.readyState === CLOSED) return
      this.#uncork()
      if (this.#paused) {
        this.#paused = false
        ws.resume()
      }
      // Both directions are done here but the remote's Close has not arrived: send ours (if
      // not sent yet) and end the TCP socket behind it instead of waiting for the answer.
      if (ws.readyState === OPEN) ws.close(this.#failCode)
      const socket = this.#socket
      if (!socket.destroyed && !socket.writableEnded) socket.end()
    } finally {
      this.#onFinishedCallback?.()
    }
  }
}
