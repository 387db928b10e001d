/**
 * The one long-lived outbound pubsub stream per peer (specs pubsub/README.md: each side writes
 * only on the stream it opened). RPC frames go straight to the stream's write buffer; when the
 * stream pushes back, frames wait in a bounded queue and the excess is dropped, as go does with
 * its per-peer queue: a slow peer must not make the node buffer without limit or stall others.
 * We never read from this stream except to notice the remote closing or resetting it.
 */
import type { Stream } from '../interface/stream.ts'
import { closeOrAbort } from '../util/deadline.ts'
import { InvalidMessageError } from '../util/errors.ts'

export interface OutboundStreamOptions {
  /** Frames allowed to wait while the stream pushes back (default 256). */
  maxQueuedFrames?: number
  /** Called once when the stream fails or ends; the owner drops it. */
  onClose(err?: Error): void
}

export class OutboundStream {
  readonly stream: Stream
  readonly #queue: Uint8Array[] = []
  readonly #maxQueued: number
  readonly #onClose: (err?: Error) => void
  #draining = false
  #closed = false
  /** Frames dropped because the queue was full. */
  dropped = 0

  constructor (stream: Stream, options: OutboundStreamOptions) {
    this.stream = stream
    this.#maxQueued = options.maxQueuedFrames ?? 256
    this.#onClose = options.onClose
    this.#watch()
  }

  get protocol (): string { return this.stream.protocol }
  get isOpen (): boolean { return !this.#closed && this.stream.writeStatus === 'open' }

  /** Queues one LP frame; false if it was dropped (stream closed or queue full). */
  push (frame: Uint8Array): boolean {
    if (!this.isOpen) return false
    if (this.#draining) {
      if (this.#queue.length >= this.#maxQueued) {
        this.dropped++
        return false
      }
      this.#queue.push(frame)
      return true
    }
    try {
      if (!this.stream.send(frame)) this.#waitForDrain()
    } catch (err) {
      this.#fail(err as Error)
      return false
    }
    return true
  }

  #waitForDrain (): void {
    this.#draining = true
    this.stream.drain().then(() => {
      this.#draining = false
      while (this.#queue.length > 0 && !this.#draining && this.isOpen) {
        const frame = this.#queue.shift() as Uint8Array
        if (!this.stream.send(frame)) this.#waitForDrain()
      }
    }, (err: Error) => { this.#fail(err) })
  }

  /** A read on our write-only stream only ends by a remote close or reset. */
  #watch (): void {
    this.stream.read().then((chunk) => {
      if (chunk === null) this.#fail()
      // a well-behaved peer never writes here; a misbehaving one is cut off
      else this.#fail(new InvalidMessageError('unexpected data on an outbound pubsub stream'))
    }, (err: Error) => { this.#fail(err) })
  }

  #fail (err?: Error): void {
    if (this.#closed) return
    this.#closed = true
    this.#queue.length = 0
    if (err !== undefined) this.stream.abort(err)
    else void closeOrAbort(this.stream, 5000)
    this.#onClose(err)
  }

  /** Flushes what was sent and half-closes; the remote sees a clean end of stream. */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#queue.length = 0
    void closeOrAbort(this.stream, 5000)
  }

  abort (err: Error): void {
    if (this.#closed) return
    this.#closed = true
    this.#queue.length = 0
    this.stream.abort(err)
  }
}
