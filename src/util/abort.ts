/**
 * AbortSignal plumbing: every wait in ts-libp2p is bounded by a signal. Time limits come from
 * Deadline (./deadline.ts), which leaves no timer behind once its operation ends.
 */
import { AbortError } from './errors.ts'

/** Throws the signal's reason (or an AbortError) if it has aborted. */
export function throwIfAborted (signal?: AbortSignal): void {
  if (signal?.aborted === true) throw signal.reason ?? new AbortError()
}

/** Resolves or rejects with `promise`, or rejects when `signal` aborts first. */
export async function raceSignal<T> (promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return await promise
  throwIfAborted(signal)
  let onAbort: (() => void) | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        onAbort = () => { reject(signal.reason ?? new AbortError()) }
        signal.addEventListener('abort', onAbort, { once: true })
      })
    ])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}
