/**
 * Coalesces the frames a muxer writes into one buffer per flush, so the layer below (Noise,
 * TCP) sees few, large writes instead of a 12-byte header followed by a payload for every frame.
 *
 * Frame headers are written into a scratch buffer that is reused across flushes (its bytes are
 * always copied out); payloads are kept by reference until the flush, which copies small ones
 * next to their headers and passes large ones through untouched. A flush
 * happens on the next microtask, or at once when `flushThreshold` bytes are waiting, so the
 * amount held here is bounded. When the connection reports backpressure the batch marks
 * itself `blocked` and calls `onDrain` once the connection can take more; muxer streams check
 * `blocked` before handing over more data.
 */
import type { ByteStream } from '../interface/stream.ts'

/** Payloads at least this large are written by reference instead of copied. */
const ZERO_COPY_BYTES = 16 * 1024

type AllocUnsafe = (size: number) => Uint8Array
const nodeBuffer = (globalThis as { Buffer?: { allocUnsafe: AllocUnsafe } }).Buffer

/**
 * A buffer whose every byte the caller overwrites: skips zero-filling where the runtime allows
 * it (Node's Buffer pool), and is returned as a plain Uint8Array view either way.
 */
function allocUninitialized (size: number): Uint8Array {
  if (nodeBuffer === undefined) return new Uint8Array(size)
  const b = nodeBuffer.allocUnsafe(size)
  return new Uint8Array(b.buffer, b.byteOffset, size)
}

export interface FrameBatchEvents {
  /** The connection was above its high-water mark and can take more data again. */
  onDrain(): void
  /** Writing to the connection failed; the muxer must tear down. */
  onError(err: Error): void
}

export class FrameBatch {
  readonly #conn: ByteStream
  readonly #events: FrameBatchEvents
  readonly #flushThreshold: number
  #scratch = new Uint8Array(512)
  #scratchLength = 0
  /** Payloads and the scratch offset each one follows. */
  #payloads: Uint8Array[] = []
  #payloadAt: number[] = []
  #pendingBytes = 0
  #scheduled = false
  #blocked = false
  #closed = false
  readonly #flushTask = (): void => {
    this.#scheduled = false
    this.flush()
  }

  constructor (conn: ByteStream, events: FrameBatchEvents, flushThreshold: number = 256 * 1024) {
    this.#conn = conn
    this.#events = events
    this.#flushThreshold = flushThreshold
  }

  /** True while the connection is above its high-water mark: data senders should wait. */
  get blocked (): boolean { return this.#blocked }
  get pendingBytes (): number { return this.#pendingBytes }

  /**
   * Reserves `length` header bytes; write them into `scratch` at the returned offset before
   * calling anything else on the batch (a later reserve may replace `scratch`).
   */
  reserve (length: number): number {
    const offset = this.#scratchLength
    const needed = offset + length
    if (needed > this.#scratch.length) {
      const grown = new Uint8Array(Math.max(needed, this.#scratch.length * 2))
      grown.set(this.#scratch.subarray(0, offset))
      this.#scratch = grown
    }
    this.#scratchLength = needed
    this.#pendingBytes += length
    return offset
  }

  get scratch (): Uint8Array { return this.#scratch }

  /** Appends a payload (kept by reference until the flush, so it must not change). */
  payload (chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.#payloads.push(chunk)
    this.#payloadAt.push(this.#scratchLength)
    this.#pendingBytes += chunk.length
  }

  /** Call after each complete frame: schedules or performs the flush. */
  commit (): void {
    if (this.#closed) {
      this.#scratchLength = 0
      this.#pendingBytes = 0
      this.#payloads.length = 0
      this.#payloadAt.length = 0
      return
    }
    if (this.#pendingBytes >= this.#flushThreshold) {
      this.flush()
    } else if (!this.#scheduled) {
      this.#scheduled = true
      queueMicrotask(this.#flushTask)
    }
  }

  /**
   * Writes everything pending to the connection now. Headers and small payloads are copied
   * into one buffer; payloads of ZERO_COPY_BYTES or more go out by reference between such
   * buffers, since copying them would cost more than the extra write.
   */
  flush (): void {
    if (this.#pendingBytes === 0 || this.#closed) return
    const payloads = this.#payloads
    const payloadAt = this.#payloadAt
    let groupScratchStart = 0
    let groupPayloadStart = 0
    let groupBytes = 0
    let scratchPos = 0
    let ok = true
    for (let i = 0; i < payloads.length; i++) {
      const at = payloadAt[i]
      groupBytes += at - scratchPos
      scratchPos = at
      const payload = payloads[i]
      if (payload.length < ZERO_COPY_BYTES) {
        groupBytes += payload.length
        continue
      }
      if (groupBytes > 0) ok = this.#send(this.#copyGroup(groupScratchStart, groupPayloadStart, i, scratchPos, groupBytes)) && ok
      ok = this.#send(payload) && ok
      groupScratchStart = scratchPos
      groupPayloadStart = i + 1
      groupBytes = 0
    }
    groupBytes += this.#scratchLength - scratchPos
    if (groupBytes > 0) ok = this.#send(this.#copyGroup(groupScratchStart, groupPayloadStart, payloads.length, this.#scratchLength, groupBytes)) && ok
    this.#scratchLength = 0
    this.#pendingBytes = 0
    payloads.length = 0
    payloadAt.length = 0
    if (this.#closed) return
    if (!ok && !this.#blocked) {
      this.#blocked = true
      this.#conn.drain().then(() => {
        this.#blocked = false
        if (!this.#closed) this.#events.onDrain()
      }, (err: Error) => {
        if (this.#closed) return
        this.close()
        this.#events.onError(err)
      })
    }
  }

  /** Copies scratch bytes [scratchStart, scratchEnd) interleaved with payloads [from, to). */
  #copyGroup (scratchStart: number, from: number, to: number, scratchEnd: number, length: number): Uint8Array {
    const out = allocUninitialized(length)
    const scratch = this.#scratch
    let s = scratchStart
    let pos = 0
    for (let j = from; j < to; j++) {
      const at = this.#payloadAt[j]
      if (at > s) {
        out.set(scratch.subarray(s, at), pos)
        pos += at - s
        s = at
      }
      const payload = this.#payloads[j]
      out.set(payload, pos)
      pos += payload.length
    }
    if (scratchEnd > s) out.set(scratch.subarray(s, scratchEnd), pos)
    return out
  }

  #send (chunk: Uint8Array): boolean {
    if (this.#closed) return true
    try {
      return this.#conn.send(chunk)
    } catch (err) {
      this.close()
      this.#events.onError(err as Error)
      return true
    }
  }

  /** Drops anything pending; later frames are ignored. */
  close (): void {
    this.#closed = true
    this.#scratchLength = 0
    this.#pendingBytes = 0
    this.#payloads.length = 0
    this.#payloadAt.length = 0
  }

  get closed (): boolean { return this.#closed }
}
