/**
 * The secured byte stream after a libp2p TLS handshake: a `node:tls` TLSSocket mapped onto the
 * AbstractStream hooks (see src/interface/stream.ts for the contract).
 *
 * - 'data' -> pushData; the TLS socket is paused while more than `highWaterMark` decrypted
 *   bytes wait unread, and resumed once the reader took half of them;
 * - 'end' (the remote's close_notify: TLS 1.3 closes one direction at a time) -> pushEnd;
 * - 'error', or 'close' before the remote's end -> pushReset;
 * - send -> socket.write (Node encrypts into records and passes them down through the
 *   ByteStreamDuplex); backpressure once more than `writeHighWaterMark` bytes wait; 'drain' ->
 *   notifyDrain;
 * - closeWrite -> socket.end(): close_notify, then the raw connection's own half-close;
 * - abort -> the TLS socket is destroyed and the raw connection reset.
 */
import type { TLSSocket } from 'node:tls'
import type { AbortOptions } from '../../interface/common.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { AbstractStream } from '../../util/abstract-stream.ts'
import { AbortError, StreamClosedError, StreamResetError } from '../../util/errors.ts'

const DEFAULT_HIGH_WATER_MARK = 256 * 1024
const DEFAULT_WRITE_HIGH_WATER_MARK = 1024 * 1024

export interface TlsConnectionOptions {
  /** Decrypted bytes buffered for the reader before the TLS socket is paused. */
  highWaterMark?: number
}

export class TlsConnection extends AbstractStream {
  readonly #socket: TLSSocket
  readonly #raw: ByteStream
  readonly #highWaterMark: number
  #paused = false
  #remoteEndSeen = false

  constructor (socket: TLSSocket, raw: ByteStream, options: TlsConnectionOptions = {}) {
    super()
    this.#socket = socket
    this.#raw = raw
    this.#highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
    socket.on('data', this.#onData)
    socket.on('end', this.#onEnd)
    socket.on('error', this.#onError)
    socket.on('close', this.#onClose)
    socket.on('drain', this.#onDrain)
    // Bytes that arrived during our certificate check were held back (paused); now they flow.
    socket.resume()
  }

  /** The TLS protocol version and cipher, for logs and tests. */
  get cipher (): { version: string, name: string } {
    const c = this.#socket.getCipher()
    return { version: c.version, name: c.name }
  }

  readonly #onData = (buf: Buffer): void => {
    this.pushData(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength))
    if (!this.#paused && this.readableLength > this.#highWaterMark) {
      this.#paused = true
      this.#socket.pause()
    }
  }

  readonly #onEnd = (): void => {
    this.#remoteEndSeen = true
    this.pushEnd()
  }

  readonly #onError = (err: Error): void => {
    this.pushReset(new StreamResetError(`tls connection failed: ${err.message}`, { cause: err }))
  }

  readonly #onClose = (): void => {
    if (!this.#remoteEndSeen) {
      if (this.status !== 'closed' && this.error === undefined) this.pushReset(new StreamResetError('the tls connection closed unexpectedly'))
    } else if (this.writeStatus !== 'closed') {
      this.markWriteClosed()
    }
  }

  readonly #onDrain = (): void => {
    this.notifyDrain()
  }

  protected override onConsumed (): void {
    if (this.#paused && this.readableLength <= this.#highWaterMark / 2) {
      this.#paused = false
      this.#socket.resume()
    }
  }

  protected sendChunk (chunk: Uint8Array): boolean {
    this.#socket.write(chunk)
    return this.#socket.writableLength < DEFAULT_WRITE_HIGH_WATER_MARK
  }

  protected sendCloseWrite (options?: AbortOptions): Promise<void> {
    const socket = this.#socket
    if (socket.destroyed) return Promise.reject(new StreamClosedError('the tls socket is destroyed'))
    const signal = options?.signal
    if (signal?.aborted === true) return Promise.reject(signal.reason ?? new AbortError())
    return new Promise((resolve, reject) => {
      const onAbort = (): void => { reject(signal?.reason ?? new AbortError()) }
      signal?.addEventListener('abort', onAbort, { once: true })
      socket.end(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      })
    })
  }

  protected sendReset (err: Error): void {
    this.#socket.destroy()
    this.#raw.abort(err)
  }

  protected override onReadClosed (): void {
    // Nothing to tell the remote: TLS has no "stop sending"; what still arrives is dropped.
    if (this.#paused) {
      this.#paused = false
      this.#socket.resume()
    }
  }

  protected override onFinished (): void {
    this.#socket.off('data', this.#onData)
    if (!this.#socket.destroyed) this.#socket.destroy()
  }
}
