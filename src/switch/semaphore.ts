/**
 * A counting semaphore with abortable waits: bounds how many dials run at once node-wide.
 * Waiters are served first come, first served.
 */
import { AbortError } from '../util/errors.ts'

interface Waiter {
  resolve(): void
  reject(err: Error): void
  signal?: AbortSignal
  onAbort?: () => void
}

export class Semaphore {
  readonly #limit: number
  #active = 0
  #waiters: Waiter[] = []

  constructor (limit: number) {
    this.#limit = Math.max(1, limit)
  }

  get active (): number { return this.#active }
  get waiting (): number { return this.#waiters.length }

  acquire (signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(signal.reason ?? new AbortError())
    if (this.#active < this.#limit) {
      this.#active++
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal }
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#waiters = this.#waiters.filter(w => w !== waiter)
          reject(signal.reason ?? new AbortError())
        }
        signal.addEventListener('abort', waiter.onAbort, { once: true })
      }
      this.#waiters.push(waiter)
    })
  }

  release (): void {
    const next = this.#waiters.shift()
    if (next === undefined) {
      this.#active = Math.max(0, this.#active - 1)
      return
    }
    // The slot passes straight to the next waiter; the active count stays the same.
    if (next.onAbort !== undefined) next.signal?.removeEventListener('abort', next.onAbort)
    next.resolve()
  }
}
