/**
 * A signal that aborts when a parent signal does or when a time limit passes, with a `clear()`
 * that removes both the timer and the parent listener. The switch creates one per upgrade,
 * dial attempt and stream negotiation, so unlike `AbortSignal.any` + `AbortSignal.timeout`
 * nothing lingers after the operation: no pending timer, no listener on a long-lived signal.
 */
import { AbortError, TimeoutError } from '../util/errors.ts'

export class Deadline {
  readonly #controller = new AbortController()
  #timer: ReturnType<typeof setTimeout> | undefined
  readonly #parent: AbortSignal | undefined
  readonly #onParentAbort: (() => void) | undefined

  /** `timeoutMs` undefined or non-finite means no time limit. */
  constructor (timeoutMs: number | undefined, parent?: AbortSignal, timeoutMessage?: string) {
    if (parent?.aborted === true) {
      this.#controller.abort(parent.reason ?? new AbortError())
      return
    }
    if (parent !== undefined) {
      this.#parent = parent
      this.#onParentAbort = () => { this.#abort(parent.reason ?? new AbortError()) }
      parent.addEventListener('abort', this.#onParentAbort, { once: true })
    }
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined
        this.#abort(new TimeoutError(timeoutMessage ?? `timed out after ${timeoutMs} ms`))
      }, timeoutMs)
    }
  }

  get signal (): AbortSignal { return this.#controller.signal }

  /** Aborts now with `reason` (and releases the timer and parent listener). */
  abort (reason: Error): void { this.#abort(reason) }

  #abort (reason: Error): void {
    this.clear()
    if (!this.#controller.signal.aborted) this.#controller.abort(reason)
  }

  clear (): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    if (this.#onParentAbort !== undefined) this.#parent?.removeEventListener('abort', this.#onParentAbort)
  }
}
