/**
 * Test helper: records the timers armed with one exact duration (a component's timeout) and
 * which of them are still armed, by wrapping setTimeout/clearTimeout until `restore()`.
 */
export interface ArmedTimers {
  /** Timers of the watched duration not cleared yet. */
  readonly armed: Set<unknown>
  restore(): void
}

export function watchArmedTimers (durationMs: number): ArmedTimers {
  const originalSet = globalThis.setTimeout
  const originalClear = globalThis.clearTimeout
  const armed = new Set<unknown>()
  globalThis.setTimeout = ((fn: () => void, ms?: number, ...args: unknown[]) => {
    const timer = originalSet(fn, ms, ...args)
    if (ms === durationMs) armed.add(timer)
    return timer
  }) as typeof setTimeout
  globalThis.clearTimeout = ((timer: Parameters<typeof clearTimeout>[0]) => {
    armed.delete(timer)
    originalClear(timer)
  }) as typeof clearTimeout
  return {
    armed,
    restore: () => {
      globalThis.setTimeout = originalSet
      globalThis.clearTimeout = originalClear
    }
  }
}
