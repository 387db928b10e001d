/**
 * One relayed circuit on the relay: the initiator's hop stream spliced to the target's stop
 * stream, bytes copied both ways with the circuit's limits. The data limit counts each
 * direction on its own: exactly `dataBytes` bytes pass, and the first byte beyond them resets
 * both halves (RelayLimitError), as does the end of `durationMs`. A half-close is passed on
 * (closeWrite), so a peer that finishes writing still gets its answers.
 *
 * Memory per circuit: this object, two pump promises and at most one timer; chunks are passed
 * through as they come (no copy, no per-byte work), backpressure through send()/drain().
 */
import type { ByteStream } from '../interface/stream.ts'
import { unrefLongTimeout } from '../util/timers.ts'
import type { LongTimeout } from '../util/timers.ts'
import { RelayLimitError } from './errors.ts'

export interface CircuitLimits {
  /** Milliseconds from the splice until both halves are reset. */
  durationMs?: number
  /** Bytes per direction. */
  dataBytes?: bigint
}

export class Circuit {
  readonly #a: ByteStream
  readonly #b: ByteStream
  readonly #maxBytes: number
  #timer: LongTimeout | undefined
  #ended = false
  /** Bytes copied a->b and b->a so far. */
  bytesAtoB = 0
  bytesBtoA = 0
  /** Resolves once both directions are finished or the circuit was reset. */
  readonly closed: Promise<void>

  constructor (a: ByteStream, b: ByteStream, limits: CircuitLimits = {}) {
    this.#a = a
    this.#b = b
    // Counts stay numbers on the data path; a limit past 2^53 is no limit in practice.
    this.#maxBytes = limits.dataBytes === undefined || limits.dataBytes > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(limits.dataBytes)
    if (limits.durationMs !== undefined) {
      this.#timer = unrefLongTimeout(() => {
        this.#timer = undefined
        this.reset(new RelayLimitError(`the relayed connection reached its duration limit of ${limits.durationMs} ms`))
      }, limits.durationMs)
    }
    this.closed = Promise.allSettled([this.#pump(a, b, true), this.#pump(b, a, false)]).then(() => { this.#end() })
  }

  /** Resets both halves now. */
  reset (err: Error): void {
    if (this.#ended) return
    this.#end()
    this.#a.abort(err)
    this.#b.abort(err)
  }

  #end (): void {
    this.#ended = true
    this.#timer?.cancel()
    this.#timer = undefined
  }

  async #pump (from: ByteStream, to: ByteStream, aToB: boolean): Promise<void> {
    try {
      for (;;) {
        const chunk = await from.read()
        if (chunk === null) {
          await to.closeWrite()
          return
        }
        const sent = aToB ? this.bytesAtoB : this.bytesBtoA
        if (sent + chunk.length > this.#maxBytes) {
          const allowed = this.#maxBytes - sent
          if (allowed > 0) to.send(chunk.subarray(0, allowed))
          this.#count(aToB, allowed)
          this.reset(new RelayLimitError(`the relayed connection passed its data limit of ${this.#maxBytes} bytes`))
          return
        }
        this.#count(aToB, chunk.length)
        if (!to.send(chunk)) await to.drain()
      }
    } catch (err) {
      this.reset(err as Error)
    }
  }

  #count (aToB: boolean, n: number): void {
    if (aToB) this.bytesAtoB += n
    else this.bytesBtoA += n
  }
}
