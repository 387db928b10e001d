/**
 * A TCP socket as a RawConnection (Node-only). Maps node:net socket events onto the
 * AbstractStream hooks:
 *
 * - 'data' -> pushData; the socket is paused while more than `readHighWaterMark` bytes wait
 *   unread, and resumed from onConsumed once the reader has taken half of them (hysteresis, so
 *   a reader that keeps pace does not toggle the socket on every chunk);
 * - 'end' -> pushEnd (the remote half-closed; sockets are created with allowHalfOpen);
 * - 'error', or 'close' before the remote's end-of-stream -> pushReset(StreamResetError);
 * - send -> socket.write, corked (see FLUSH_CORKED_BYTES) so that small writes coalesce and a
 *   secure frame handed over in pieces (length prefix, ciphertext, tag) leaves with one writev;
 *   backpressure is reported once more than `writeHighWaterMark` bytes wait in Node's buffer
 *   (socket.write's own boolean flips at 16 KiB, i.e. on every large frame); 'drain' ->
 *   notifyDrain;
 * - closeWrite -> socket.end() (FIN), resolved once Node has flushed everything to the kernel;
 * - abort -> socket.resetAndDestroy() (RST), so the remote sees a reset rather than a clean end.
 *
 * The data path allocates one Uint8Array view per received chunk and nothing per write: the
 * event handlers are created once per connection.
 *
 * Borrowed reads (see BorrowedReadSource): once the secure channel takes over, the socket
 * reads into one buffer shared by every connection of the process and hands each read to the
 * channel synchronously, so a bulk transfer allocates no receive buffers at all (sharing is
 * safe: reads are delivered one at a time and consumed before the callback returns).
 */
import type { Socket } from 'node:net'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions, Direction } from '../../interface/common.ts'
import type { BorrowedReadSource } from '../../interface/stream.ts'
import type { RawConnection } from '../../interface/transport.ts'
import { AbstractStream } from '../../util/abstract-stream.ts'
import { AbortError, StreamClosedError, StreamResetError } from '../../util/errors.ts'
import type { Logger } from '../../interface/logger.ts'
import { enableUserBuffer, resumeUserBufferReads } from './socket-user-buffer.ts'
import { runAtBatchEnd } from '../../util/timers.ts'

/** Default unread bytes buffered per connection before the socket is paused. */
export const DEFAULT_READ_HIGH_WATER_MARK = 256 * 1024
/**
 * Writes wait corked until the event loop's check phase (runAtBatchEnd), so everything a
 * connection writes while one batch of I/O events is handled (a multistream answer and the
 * handshake reply behind it, a yamux frame and the window update after it) leaves in one writev
 * and reaches the remote as one read; once this much waits, the next write flushes it first.
 * Eight secure frames per writev rather than one: on loopback the send syscall (which also runs
 * the receiving side of the kernel's TCP) costs the sender about as much as the cipher. In
 * paired runs (CPU per GiB, client + server), two frames instead of one took ~10 % off, four
 * instead of two another 5 % (100 streams) to 11 % (one stream), eight instead of four another
 * 2.5 %, all of it on the sending side. A larger read buffer on the receiving side
 * (BORROWED_READ_BYTES) did not help.
 */
const FLUSH_CORKED_BYTES = 512 * 1024
/**
 * Default bytes waiting in Node's write buffer before send() reports backpressure: two
 * writevs' worth, so a writer keeps producing while the kernel drains the previous ones.
 */
export const DEFAULT_WRITE_HIGH_WATER_MARK = 1024 * 1024
/**
 * The shared buffer of borrowed reads. Larger than Node's own 64 KiB reads, so a read holds
 * several 64 KiB secure frames and few of them straddle two reads.
 */
const BORROWED_READ_BYTES = 256 * 1024
let sharedReadBuffer: Uint8Array | undefined
/**
 * Owned chunks (sendOwned) at least this large have their memory freed once written. A cipher
 * output is an ArrayBuffer outside V8's heap; V8 frees those only when a full collection finds
 * them dead, and it starts one for every ~64 MiB of them, so a bulk sender paid a mark-compact
 * per ~64 MiB sent and worked on memory it had not touched recently. Freed at once, the
 * allocator hands the same memory back for the next frame and no full collection is needed
 * (sealing 1 GiB in 64 KiB frames: 15 mark-compacts and ~900 ms of CPU before, none and ~700 ms after).
 */
const RELEASE_OWNED_BYTES = 4 * 1024

/** Frees `chunk`'s memory by detaching its ArrayBuffer (only when the chunk is all of it). */
function releaseMemory (chunk: Uint8Array): void {
  const buffer = chunk.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer, detached?: boolean }
  if (chunk.byteOffset !== 0 || chunk.byteLength !== buffer.byteLength || buffer.transfer === undefined || buffer.detached === true) return
  try {
    buffer.transfer(0)
  } catch {
    // not detachable (e.g. a buffer Node pins): the garbage collector frees it as before
  }
}

export interface TcpConnectionInit {
  remoteAddr: Multiaddr
  localAddr?: Multiaddr
  readHighWaterMark?: number
  writeHighWaterMark?: number
  log?: Logger
}

interface CloseWriteWaiter {
  resolve(): void
  reject(err: Error): void
  signal?: AbortSignal
  onAbort?: () => void
}

export class TcpConnection extends AbstractStream implements RawConnection, BorrowedReadSource {
  readonly remoteAddr: Multiaddr
  readonly localAddr: Multiaddr | undefined
  readonly direction: Direction
  readonly #socket: Socket
  readonly #readHighWaterMark: number
  readonly #writeHighWaterMark: number
  readonly #log: Logger | undefined
  #paused = false
  #corked = false
  #corkedBytes = 0
  #flushScheduled = false
  #remoteEndSeen = false
  #closeWriteWaiter: CloseWriteWaiter | undefined
  #borrowedConsumer: ((chunk: Uint8Array) => boolean) | undefined
  #borrowedPaused = false
  /** sendOwned's chunks not yet written, oldest first (from #ownedHead). */
  #owned: Array<Uint8Array | undefined> = []
  #ownedHead = 0
  /** The chunk sendChunk is given comes from sendOwned. */
  #sendingOwned = false

  constructor (socket: Socket, direction: Direction, init: TcpConnectionInit) {
    super()
    this.#socket = socket
    this.direction = direction
    this.remoteAddr = init.remoteAddr
    this.localAddr = init.localAddr
    this.#readHighWaterMark = init.readHighWaterMark ?? DEFAULT_READ_HIGH_WATER_MARK
    // Never below the socket's own mark: 'drain' only comes after socket.write returned false.
    this.#writeHighWaterMark = Math.max(init.writeHighWaterMark ?? DEFAULT_WRITE_HIGH_WATER_MARK, socket.writableHighWaterMark)
    this.#log = init.log
    socket.on('data', this.#onData)
    socket.on('end', this.#onEnd)
    socket.on('error', this.#onError)
    socket.on('close', this.#onClose)
    socket.on('drain', this.#onDrain)
  }

  override toString (): string {
    return `tcp ${this.direction} ${this.remoteAddr.toString()}`
  }

  // ---- socket events (one bound function each per connection) ------------------------------

  readonly #onData = (buf: Buffer): void => {
    // A plain Uint8Array view: Buffer's slice() does not copy, which would surprise layers
    // above that rely on Uint8Array semantics.
    this.pushData(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength))
    if (!this.#paused && this.readableLength > this.#readHighWaterMark) {
      this.#paused = true
      this.#socket.pause()
    }
  }

  readonly #onEnd = (): void => {
    this.#remoteEndSeen = true
    this.pushEnd()
  }

  readonly #onError = (err: NodeJS.ErrnoException): void => {
    this.#log?.('socket error %s: %s', this.remoteAddr, err.code ?? err.message)
    this.#settleCloseWrite(err)
    this.pushReset(new StreamResetError(`tcp connection failed: ${err.code ?? err.message}`, { cause: err }))
  }

  readonly #onClose = (): void => {
    if (this.#closeWriteWaiter !== undefined) this.#settleCloseWrite(new StreamClosedError('the socket closed before the write side was flushed'))
    // With allowHalfOpen the socket closes cleanly only after both FINs; a close before the
    // remote's FIN means the connection died under us.
    // (Errors capture a stack trace: none is built for a connection that is already finished.)
    if (!this.#remoteEndSeen) {
      if (this.status !== 'closed' && this.error === undefined) this.pushReset(new StreamResetError('the tcp connection closed unexpectedly'))
    }
    else if (this.writeStatus !== 'closed') this.markWriteClosed()
  }

  readonly #onDrain = (): void => {
    this.notifyDrain()
  }

  flush (): void {
    this.#uncork()
  }

  readonly #flushCorked = (): void => {
    this.#flushScheduled = false
    this.#uncork()
  }

  /**
   * Node calls each write's callback once the chunk is written (or failed), in write order, so
   * the oldest owned chunk is always one Node is done with.
   */
  readonly #releaseWritten = (): void => {
    const owned = this.#owned
    const chunk = owned[this.#ownedHead]
    if (chunk === undefined) return
    owned[this.#ownedHead++] = undefined
    if (this.#ownedHead === owned.length) {
      owned.length = 0
      this.#ownedHead = 0
    } else if (this.#ownedHead > 1024) {
      this.#owned = owned.slice(this.#ownedHead)
      this.#ownedHead = 0
    }
    releaseMemory(chunk)
  }

  sendOwned (chunk: Uint8Array): boolean {
    this.#sendingOwned = true
    try {
      return this.send(chunk)
    } finally {
      this.#sendingOwned = false
    }
  }

  #uncork (): void {
    if (!this.#corked) return
    this.#corked = false
    this.#corkedBytes = 0
    this.#socket.uncork()
  }

  // ---- borrowed reads --------------------------------------------------------------------------

  readBorrowed (onBytes: (chunk: Uint8Array) => boolean): boolean {
    const socket = this.#socket
    if (this.#borrowedConsumer !== undefined || this.readStatus !== 'open' || socket.destroyed) return false
    // Bytes Node still buffers (the socket may be paused) join our queue first, which keeps
    // their order and leaves nothing behind if the switch fails. (socket.read() also emits
    // them as 'data': without the listener they are taken once, here.)
    socket.off('data', this.#onData)
    if (socket.readableLength > 0) {
      let buf: Buffer | null
      while ((buf = socket.read() as Buffer | null) !== null) this.pushData(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength))
    }
    sharedReadBuffer ??= new Uint8Array(BORROWED_READ_BYTES)
    if (!enableUserBuffer(socket, sharedReadBuffer, this.#onBorrowedRead)) {
      socket.on('data', this.#onData)
      return false
    }
    this.#borrowedConsumer = onBytes
    let wantMore = true
    this.drainQueued((chunk) => { wantMore = onBytes(chunk) })
    // Flowing again (no 'data' comes any more), so end-of-stream is still emitted as 'end'.
    this.#paused = false
    socket.resume()
    if (wantMore) resumeUserBufferReads(socket)
    else this.#borrowedPaused = true
    return true
  }

  /** Test hook: bytes Node's socket holds that no 'data' event has delivered yet. */
  get socketBufferedForTesting (): number { return this.#socket.readableLength }

  resumeBorrowedReads (): void {
    if (!this.#borrowedPaused) return
    this.#borrowedPaused = false
    resumeUserBufferReads(this.#socket)
  }

  readonly #onBorrowedRead = (bytes: Uint8Array): boolean => {
    // The local side stopped reading: what still arrives is dropped.
    if (this.readStatus !== 'open') return true
    if (this.#borrowedConsumer!(bytes)) return true
    this.#borrowedPaused = true
    return false
  }

  // ---- AbstractStream hooks ------------------------------------------------------------------

  protected sendChunk (chunk: Uint8Array): boolean {
    const socket = this.#socket
    // A full frame's worth is already waiting: let it go now, so the receiver works on it while
    // we produce the next one (the pieces of one secure frame still leave together).
    if (this.#corkedBytes >= FLUSH_CORKED_BYTES) this.#uncork()
    if (!this.#corked) {
      this.#corked = true
      socket.cork()
      if (!this.#flushScheduled) {
        this.#flushScheduled = true
        runAtBatchEnd(this.#flushCorked)
      }
    }
    this.#corkedBytes += chunk.length
    if (this.#sendingOwned && chunk.length >= RELEASE_OWNED_BYTES) {
      this.#owned.push(chunk)
      socket.write(chunk, this.#releaseWritten)
    } else {
      socket.write(chunk)
    }
    return socket.writableLength < this.#writeHighWaterMark
  }

  protected sendCloseWrite (options?: AbortOptions): Promise<void> {
    const socket = this.#socket
    if (socket.destroyed) return Promise.reject(new StreamClosedError('the socket is destroyed'))
    const signal = options?.signal
    if (signal?.aborted === true) return Promise.reject(signal.reason ?? new AbortError())
    return new Promise((resolve, reject) => {
      const waiter: CloseWriteWaiter = { resolve, reject, signal }
      if (signal !== undefined) {
        waiter.onAbort = () => { this.#settleCloseWrite(signal.reason ?? new AbortError()) }
        signal.addEventListener('abort', waiter.onAbort, { once: true })
      }
      this.#closeWriteWaiter = waiter
      socket.end((err?: Error | null) => {
        this.#settleCloseWrite(err != null ? new StreamClosedError('the socket failed before the write side was flushed', { cause: err }) : undefined)
      })
    })
  }

  #settleCloseWrite (err?: Error): void {
    const waiter = this.#closeWriteWaiter
    if (waiter === undefined) return
    this.#closeWriteWaiter = undefined
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort)
    if (err === undefined) waiter.resolve()
    else waiter.reject(err)
  }

  protected sendReset (_err: Error): void {
    const socket = this.#socket
    if (socket.destroyed) return
    try {
      // RST instead of FIN: the remote must see a failure, not a clean end-of-stream. Not
      // after end(): libuv refuses an RST while a FIN is pending (uv_tcp_close_reset: EINVAL)
      // and Node then drops the handle unclosed, leaking the descriptor.
      if (!socket.connecting && !socket.writableEnded) socket.resetAndDestroy()
      else socket.destroy()
    } catch {
      socket.destroy()
    }
  }

  protected override onConsumed (_bytes: number): void {
    if (this.#paused && this.readableLength <= this.#readHighWaterMark >>> 1) {
      this.#paused = false
      this.#socket.resume()
    }
  }

  protected override onFinished (): void {
    // Both directions are done: release the file descriptor now instead of waiting for the
    // remote (after closeRead we would otherwise keep reading bytes nobody wants). A local
    // abort is left to sendReset, which runs next and must send RST rather than FIN.
    if (this.status === 'aborted') return
    if (!this.#socket.destroyed) this.#socket.destroy()
  }
}
