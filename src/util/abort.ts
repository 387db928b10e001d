/** Helpers for AbortSignal plumbing: every wait in ts-libp2p is bounded by one. */
import { AbortError, TimeoutError } from './errors.ts'

/** A signal that aborts when any input does, or after `timeoutMs` with a TimeoutError. */
export function combineSignals (signals: Array<AbortSignal | undefined>, timeoutMs?: number, timeoutMessage?: string): AbortSignal {
  const list = signals.filter((s): s is AbortSignal => s !== undefined)
  if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) list.push(timeoutSignal(timeoutMs, timeoutMessage))
  if (list.length === 1) return list[0]
  return AbortSignal.any(list)
}

/** Like AbortSignal.timeout, but the reason is our typed TimeoutError. */
export function timeoutSignal (ms: number, message: string = `timed out after ${ms} ms`): AbortSignal {
  const controller = new AbortController()
  const timer = setTimeout(() => { controller.abort(new TimeoutError(message)) }, ms)
  // Never keep a process alive just for a timeout.
  if (typeof timer === 'object' && timer !== null && 'unref' in timer) (timer as { unref(): void }).unref()
  return controller.signal
}

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
