/**
 * The shared implementation of the ByteStream contract (see src/interface/stream.ts for the
 * semantics). A layer (TCP socket, Noise channel, yamux stream, ...) extends it and supplies:
 *
 * - incoming side: it calls `pushData(chunk)`, `pushEnd()` (remote half-closed) and
 *   `pushReset(err)` (remote reset / transport died); `onConsumed(n)` tells it when the reader
 *   has taken `n` bytes, which is where flow control lives (resume a socket, send a yamux
 *   window update);
 * - outgoing side: `sendChunk(chunk)` hands bytes to the layer below and returns false when
 *   that layer is above its high-water mark; the layer then calls `notifyDrain()` when it can
 *   take more. `sendCloseWrite()` signals end-of-stream, `sendReset(err)` a reset, and
 *   `onFinished()` runs once when both directions are done.
 *
 * Hot path notes: no promise is created when a read can be served from the queue, and the
 * pending reader is resolved directly by `pushData` without queueing the chunk.
 */
import type { AbortOptions } from '../interface/common.ts'
import type { ByteStream, DirectionStatus, StreamStatus } from '../interface/stream.ts'
import { AbortError, ConcurrentReadError, StreamClosedError, StreamResetError } from './errors.ts'

interface PendingRead {
  resolve(chunk: Uint8Array | null): void
  reject(err: Error): void
  signal?: AbortSignal
  onAbort?: () => void
}

interface DrainWaiter {
  resolve(): void
  reject(err: Error): void
  signal?: AbortSignal
  onAbort?: () => void
}

export abstract class AbstractStream implements ByteStream {
  #queue: Uint8Array[] = []
  #queueHead = 0
  #readableLength = 0
  #remoteEnded = false
  #pending: PendingRead | undefined
  #drainWaiters: DrainWaiter[] = []
  #readStatus: DirectionStatus = 'open'
  #writeStatus: DirectionStatus = 'open'
  #status: StreamStatus = 'open'
  #error: Error | undefined
  #closeWritePromise: Promise<void> | undefined
  #resolveClosed!: () => void
  /** What `onceClosed` registered: one slot (the common case), more in the array. */
  #closeHook: (() => void) | undefined
  #closeHooks: Array<() => void> | undefined
  /** True while the layer below is above its high-water mark. */
  #writeBlocked = false
  readonly closed: Promise<void>
  /** Bytes delivered by the layer below and bytes handed to it: one add per chunk, read by metrics. */
  bytesReceived = 0
  bytesSent = 0
  /** How much of the two above metrics has already counted (src/metrics/stream-bytes.ts). */
  countedReceived = 0
  countedSent = 0

  constructor () {
    this.closed = new Promise(resolve => { this.#resolveClosed = resolve })
  }

  get status (): StreamStatus { return this.#status }
  get readStatus (): DirectionStatus { return this.#readStatus }
  get writeStatus (): DirectionStatus { return this.#writeStatus }
  get readableLength (): number { return this.#readableLength }
  get error (): Error | undefined { return this.#error }
  /** True once the remote has signalled end-of-stream (data may still be queued). */
  protected get remoteEnded (): boolean { return this.#remoteEnded }
  /** True when the layer below reported it is above its high-water mark. */
  protected get writeBlocked (): boolean { return this.#writeBlocked }

  // ---- to be provided by the layer --------------------------------------------------------

  /** Hands bytes to the layer below; false when that layer is above its high-water mark. */
  protected abstract sendChunk (chunk: Uint8Array): boolean
  /** Signals end-of-stream to the remote. Called once, after all queued data was sent. */
  protected abstract sendCloseWrite (options?: AbortOptions): void | Promise<void>
  /** Tells the remote the stream is reset; releases resources. Must not throw. */
  protected abstract sendReset (err: Error): void
  /** The reader took `bytes` bytes (flow control hook). */
  protected onConsumed (bytes: number): void {}
  /** Both directions are finished (clean or not); runs once. */
  protected onFinished (): void {}
  /** The local reader stopped reading (closeRead); the layer may tell the remote. */
  protected onReadClosed (): void {}

  // ---- called by the layer ----------------------------------------------------------------

  /** Delivers incoming bytes. Ignored after the read side is closed. */
  protected pushData (chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.bytesReceived += chunk.length
    if (this.#readStatus !== 'open' || this.#remoteEnded) {
      // Discarded data still counts as consumed so flow control keeps the remote moving.
      if (this.#readStatus === 'closed' && this.#status === 'open') this.onConsumed(chunk.length)
      return
    }
    const pending = this.#pending
    if (pending !== undefined) {
      this.#pending = undefined
      this.#cleanupRead(pending)
      pending.resolve(chunk)
      this.onConsumed(chunk.length)
      return
    }
    this.#queue.push(chunk)
    this.#readableLength += chunk.length
  }

  /** The remote closed its write side. */
  protected pushEnd (): void {
    if (this.#remoteEnded) return
    this.#remoteEnded = true
    if (this.#readableLength === 0) this.#finishRead()
  }

  /** The stream died (remote reset or transport failure): both directions fail with `err`. */
  protected pushReset (err: Error = new StreamResetError()): void {
    this.#fail(err, 'reset')
  }

  /** The layer below can take more data again. */
  protected notifyDrain (): void {
    this.#writeBlocked = false
    const waiters = this.#drainWaiters
    if (waiters.length === 0) return
    this.#drainWaiters = []
    for (const w of waiters) {
      this.#cleanupDrain(w)
      w.resolve()
    }
  }

  /** The layer ended the write side by itself (e.g. the remote stopped reading). */
  protected markWriteClosed (): void {
    if (this.#writeStatus === 'closed') return
    this.#writeStatus = 'closed'
    // Errors capture a stack trace: only build one when somebody waits for it.
    if (this.#drainWaiters.length > 0) this.#rejectDrainWaiters(new StreamClosedError('the write side is closed'))
    this.#maybeFinished()
  }

  // ---- reading ----------------------------------------------------------------------------

  read (options?: AbortOptions): Promise<Uint8Array | null> {
    if (this.#queue.length > this.#queueHead) return Promise.resolve(this.#shift())
    if (this.#error !== undefined) return Promise.reject(this.#error)
    if (this.#readStatus === 'closed' || this.#remoteEnded) return Promise.resolve(null)
    if (this.#pending !== undefined) return Promise.reject(new ConcurrentReadError())
    const signal = options?.signal
    if (signal?.aborted === true) return Promise.reject(signal.reason ?? new AbortError())
    return new Promise((resolve, reject) => {
      const pending: PendingRead = { resolve, reject, signal }
      if (signal !== undefined) {
        pending.onAbort = () => {
          if (this.#pending === pending) this.#pending = undefined
          reject(signal.reason ?? new AbortError())
        }
        signal.addEventListener('abort', pending.onAbort, { once: true })
      }
      this.#pending = pending
    })
  }

  tryRead (): Uint8Array | undefined {
    return this.#queue.length > this.#queueHead ? this.#shift() : undefined
  }

  #shift (): Uint8Array {
    const chunk = this.#queue[this.#queueHead]
    this.#queueHead++
    if (this.#queueHead === this.#queue.length) {
      this.#queue = []
      this.#queueHead = 0
    } else if (this.#queueHead > 1024) {
      this.#queue = this.#queue.slice(this.#queueHead)
      this.#queueHead = 0
    }
    this.#readableLength -= chunk.length
    this.onConsumed(chunk.length)
    if (this.#readableLength === 0 && this.#remoteEnded) this.#finishRead()
    return chunk
  }

  /**
   * Hands every queued chunk to `visit`, oldest first, as if read (flow control is told): for
   * a layer that moves its consumer to a synchronous path.
   */
  protected drainQueued (visit: (chunk: Uint8Array) => void): void {
    while (this.#queue.length > this.#queueHead) visit(this.#shift())
  }

  unshift (chunk: Uint8Array): void {
    if (chunk.length === 0) return
    if (this.#pending !== undefined) {
      const pending = this.#pending
      this.#pending = undefined
      this.#cleanupRead(pending)
      pending.resolve(chunk)
      return
    }
    if (this.#queueHead > 0) {
      this.#queue[--this.#queueHead] = chunk
    } else {
      this.#queue.unshift(chunk)
    }
    // Unshifted bytes were already counted as consumed once; re-count them as buffered
    // without telling flow control again.
    this.#readableLength += chunk.length
  }

  [Symbol.asyncIterator] (): AsyncIterator<Uint8Array> {
    return {
      next: async () => {
        const chunk = await this.read()
        return chunk === null ? { done: true, value: undefined } : { done: false, value: chunk }
      },
      return: async () => ({ done: true, value: undefined })
    }
  }

  closeRead (): void {
    if (this.#readStatus === 'closed') return
    this.#readStatus = 'closed'
    const dropped = this.#readableLength
    this.#queue = []
    this.#queueHead = 0
    this.#readableLength = 0
    if (dropped > 0) this.onConsumed(dropped)
    const pending = this.#pending
    if (pending !== undefined) {
      this.#pending = undefined
      this.#cleanupRead(pending)
      pending.resolve(null)
    }
    this.onReadClosed()
    this.#maybeFinished()
  }

  #finishRead (): void {
    if (this.#readStatus === 'closed') return
    this.#readStatus = 'closed'
    const pending = this.#pending
    if (pending !== undefined) {
      this.#pending = undefined
      this.#cleanupRead(pending)
      pending.resolve(null)
    }
    this.#maybeFinished()
  }

  #cleanupRead (p: PendingRead): void {
    if (p.onAbort !== undefined) p.signal?.removeEventListener('abort', p.onAbort)
  }

  // ---- writing ----------------------------------------------------------------------------

  send (chunk: Uint8Array): boolean {
    if (this.#writeStatus !== 'open') throw this.#error ?? new StreamClosedError('the write side is closed')
    if (chunk.length === 0) return !this.#writeBlocked
    this.bytesSent += chunk.length
    const ok = this.sendChunk(chunk)
    if (!ok) this.#writeBlocked = true
    return ok
  }

  drain (options?: AbortOptions): Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error)
    if (!this.#writeBlocked) return Promise.resolve()
    if (this.#writeStatus === 'closed') return Promise.reject(new StreamClosedError('the write side is closed'))
    const signal = options?.signal
    if (signal?.aborted === true) return Promise.reject(signal.reason ?? new AbortError())
    return new Promise((resolve, reject) => {
      const waiter: DrainWaiter = { resolve, reject, signal }
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#drainWaiters = this.#drainWaiters.filter(w => w !== waiter)
          reject(signal.reason ?? new AbortError())
        }
        signal.addEventListener('abort', waiter.onAbort, { once: true })
      }
      this.#drainWaiters.push(waiter)
    })
  }

  async write (chunk: Uint8Array, options?: AbortOptions): Promise<void> {
    if (!this.send(chunk)) await this.drain(options)
  }

  #cleanupDrain (w: DrainWaiter): void {
    if (w.onAbort !== undefined) w.signal?.removeEventListener('abort', w.onAbort)
  }

  #rejectDrainWaiters (err: Error): void {
    const waiters = this.#drainWaiters
    this.#drainWaiters = []
    for (const w of waiters) {
      this.#cleanupDrain(w)
      w.reject(err)
    }
  }

  closeWrite (options?: AbortOptions): Promise<void> {
    if (this.#closeWritePromise !== undefined) return this.#closeWritePromise
    if (this.#writeStatus === 'closed') return this.#error !== undefined ? Promise.reject(this.#error) : Promise.resolve()
    this.#writeStatus = 'closing'
    if (this.#status === 'open') this.#status = 'closing'
    this.#closeWritePromise = (async () => {
      try {
        if (this.#writeBlocked) await this.drain(options)
        if (this.#error !== undefined) throw this.#error
        await this.sendCloseWrite(options)
      } catch (err) {
        if (this.#error === undefined) this.abort(err as Error)
        throw err
      }
      this.#writeStatus = 'closed'
      if (this.#drainWaiters.length > 0) this.#rejectDrainWaiters(new StreamClosedError('the write side is closed'))
      this.#maybeFinished()
    })()
    return this.#closeWritePromise
  }

  async close (options?: AbortOptions): Promise<void> {
    try {
      await this.closeWrite(options)
    } finally {
      this.closeRead()
    }
  }

  abort (err: Error): void {
    if (this.#error !== undefined || (this.#readStatus === 'closed' && this.#writeStatus === 'closed')) return
    this.#fail(err, 'aborted')
    this.sendReset(err)
  }

  #fail (err: Error, status: 'aborted' | 'reset'): void {
    if (this.#error !== undefined) return
    if (this.#readStatus === 'closed' && this.#writeStatus === 'closed') return
    this.#error = err
    this.#status = status
    this.#queue = []
    this.#queueHead = 0
    this.#readableLength = 0
    this.#readStatus = 'closed'
    this.#writeStatus = 'closed'
    const pending = this.#pending
    if (pending !== undefined) {
      this.#pending = undefined
      this.#cleanupRead(pending)
      pending.reject(err)
    }
    this.#rejectDrainWaiters(err)
    this.#finished()
  }

  #maybeFinished (): void {
    if (this.#readStatus === 'closed' && this.#writeStatus === 'closed' && this.#status !== 'closed' && this.#error === undefined) {
      this.#status = 'closed'
      this.#finished()
    }
  }

  onceClosed (fn: () => void): void {
    if (this.#finishedCalled) {
      runCloseHook(fn)
      return
    }
    if (this.#closeHook === undefined) this.#closeHook = fn
    else (this.#closeHooks ??= []).push(fn)
  }

  #finishedCalled = false
  #finished (): void {
    if (this.#finishedCalled) return
    this.#finishedCalled = true
    try {
      this.onFinished()
    } finally {
      const hook = this.#closeHook
      const hooks = this.#closeHooks
      this.#closeHook = undefined
      this.#closeHooks = undefined
      if (hook !== undefined) runCloseHook(hook)
      if (hooks !== undefined) for (const fn of hooks) runCloseHook(fn)
      this.#resolveClosed()
    }
  }
}

/**
 * A close hook runs inside whatever finished the stream (a read, a write, a remote frame): one
 * that throws must not break that caller or the hooks after it, so its error is rethrown on
 * its own, as an uncaught error, the way a throwing `closed.then` callback would surface.
 */
function runCloseHook (fn: () => void): void {
  try {
    fn()
  } catch (err) {
    queueMicrotask(() => { throw err })
  }
}
