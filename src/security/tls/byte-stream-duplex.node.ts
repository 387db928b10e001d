/**
 * A node:stream Duplex over one of our ByteStreams, so `node:tls` can run TLS records over a
 * raw connection (TCP, WebSockets, a relayed stream, ...) that multistream-select already used.
 *
 * Data path: reads drain every chunk already queued synchronously (`tryRead`) and wait with
 * one `read()` only when the queue is empty and Node wants more (`_read`); writes are handed
 * over with `send()` and complete at once unless the raw connection is above its high-water
 * mark, when they wait for its `drain()`. No promise is made per chunk in the steady state.
 * Ending the Duplex half-closes the raw connection; destroying it with an error resets it.
 */
import { Duplex } from 'node:stream'
import type { ByteStream } from '../../interface/stream.ts'

export class ByteStreamDuplex extends Duplex {
  readonly #raw: ByteStream
  #reading = false

  constructor (raw: ByteStream) {
    super({ allowHalfOpen: true })
    this.#raw = raw
  }

  override _read (): void {
    if (this.#reading) return
    const raw = this.#raw
    // Everything already queued goes to Node now, without a promise per chunk.
    for (let chunk = raw.tryRead?.(); chunk !== undefined; chunk = raw.tryRead?.()) {
      if (!this.push(chunk)) return
    }
    this.#reading = true
    raw.read().then(this.#onChunk, this.#onReadError)
  }

  readonly #onChunk = (chunk: Uint8Array | null): void => {
    this.#reading = false
    if (this.destroyed) return
    if (chunk === null) {
      this.push(null)
      return
    }
    if (this.push(chunk)) this._read()
  }

  readonly #onReadError = (err: Error): void => {
    this.#reading = false
    this.destroy(err)
  }

  // send() throws once the raw connection is closed (a remote that hung up mid-handshake):
  // that must reach node:tls as a write error, never escape as an uncaught exception from
  // inside a stream callback, which would take the whole process down.
  override _write (chunk: Uint8Array, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    let below: boolean
    try {
      below = this.#raw.send(chunk)
    } catch (err) {
      callback(err as Error)
      return
    }
    if (below) {
      callback()
      return
    }
    this.#raw.drain().then(() => { callback() }, callback)
  }

  override _writev (chunks: Array<{ chunk: Uint8Array }>, callback: (err?: Error | null) => void): void {
    let below = true
    try {
      for (const { chunk } of chunks) below = this.#raw.send(chunk)
    } catch (err) {
      callback(err as Error)
      return
    }
    if (below) {
      callback()
      return
    }
    this.#raw.drain().then(() => { callback() }, callback)
  }

  override _final (callback: (err?: Error | null) => void): void {
    this.#raw.closeWrite().then(() => { callback() }, callback)
  }

  override _destroy (err: Error | null, callback: (err?: Error | null) => void): void {
    if (err !== null) this.#raw.abort(err)
    else if (this.#raw.status === 'open' || this.#raw.status === 'closing') this.#raw.closeRead()
    callback(err)
  }
}
