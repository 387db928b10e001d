/**
 * An inactivity timeout for stream handlers that may live long (ping, echo): one timer per
 * stream, re-armed lazily, so marking activity on every chunk costs a clock read and nothing
 * else (no timer churn, no allocation on the data path).
 */

export interface IdleWatchdog {
  /** Marks activity now. */
  touch(): void
  /** Stops the watchdog; idempotent. */
  clear(): void
}

/** Calls `onIdle` once when `touch()` was not called for `timeoutMs`. */
export function idleWatchdog (timeoutMs: number, onIdle: () => void): IdleWatchdog {
  let last = performance.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const check = (): void => {
    const idle = performance.now() - last
    if (idle >= timeoutMs) {
      timer = undefined
      onIdle()
      return
    }
    arm(timeoutMs - idle)
  }
  const arm = (ms: number): void => {
    timer = setTimeout(check, ms)
    // A watchdog must never be what keeps a process alive.
    if (typeof timer === 'object' && timer !== null && 'unref' in timer) (timer as { unref(): void }).unref()
  }
  arm(timeoutMs)
  return {
    touch () { last = performance.now() },
    clear () {
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
    }
  }
}
