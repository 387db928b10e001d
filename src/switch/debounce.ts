/**
 * Coalesces bursts of calls into one, `delayMs` after the last; `cancel()` clears the pending
 * timer so a stopped node leaves none behind.
 */
export interface Debounced {
  (): void
  cancel(): void
}

export function debounce (fn: () => void, delayMs: number): Debounced {
  let timer: ReturnType<typeof setTimeout> | undefined
  const call = (() => {
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = undefined
      fn()
    }, delayMs)
  }) as Debounced
  call.cancel = () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
  }
  return call
}
