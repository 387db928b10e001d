/**
 * The timer toolkit: every timer of the package comes from here or from `Deadline`
 * (./deadline.ts, time limits on operations). What it guarantees: no timer keeps a process
 * alive on its own (each is unreferenced where the runtime supports it: Node's timers are
 * objects with `unref`, browsers' are numbers), and every timer has an owner that clears it
 * (`cancel()`, `clear()`), so nothing outlives the operation it belongs to. Browser-safe.
 */
import { logger } from './logger.ts'

const log = logger('timers')

export type TimerHandle = ReturnType<typeof setTimeout>

/** Sets whether `timer` keeps the process alive (a no-op in browsers). */
export function setTimerRef (timer: TimerHandle, ref: boolean): void {
  if (typeof timer !== 'object' || timer === null) return
  const t = timer as { ref?: () => void, unref?: () => void, hasRef?: () => boolean }
  if (t.hasRef?.() === ref) return
  if (ref) t.ref?.()
  else t.unref?.()
}

/** A setTimeout that never keeps the process alive by itself. */
export function unrefTimeout (callback: () => void, ms: number): TimerHandle {
  const timer = setTimeout(callback, ms)
  setTimerRef(timer, false)
  return timer
}

/** A setInterval that never keeps the process alive by itself. */
export function unrefInterval (callback: () => void, ms: number): ReturnType<typeof setInterval> {
  const timer = setInterval(callback, ms)
  setTimerRef(timer as unknown as TimerHandle, false)
  return timer
}

/**
 * Resolves after `ms`, or rejects with the signal's reason; the timer goes with the abort. The
 * timer does not keep the process alive unless `keepAlive` (a command pacing its own work,
 * with nothing else open meanwhile).
 */
export async function delay (ms: number, signal?: AbortSignal, options: { keepAlive?: boolean } = {}): Promise<void> {
  if (signal?.aborted === true) throw signal.reason
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => { clearTimeout(timer); reject(signal?.reason) }
    const done = (): void => { signal?.removeEventListener('abort', onAbort); resolve() }
    const timer = options.keepAlive === true ? setTimeout(done, ms) : unrefTimeout(done, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

const nodeSetImmediate = (globalThis as { setImmediate?: (task: () => void) => unknown }).setImmediate

/**
 * Runs `task` on a later turn of the event loop, after pending I/O callbacks and timers had a
 * chance (Node's setImmediate; a zero timeout in browsers).
 */
export const runOnNextTurn: (task: () => void) => void = nodeSetImmediate !== undefined
  ? (task) => { nodeSetImmediate(task) }
  : (task) => { setTimeout(task, 0) }

/**
 * Runs `task` once the current batch of I/O events is handled (Node's check phase), so work
 * from many promise continuations of one batch can be coalesced; in browsers, which hand
 * events over one at a time, the next microtask.
 */
export const runAtBatchEnd: (task: () => void) => void = nodeSetImmediate !== undefined
  ? nodeSetImmediate as (task: () => void) => void // called directly: it is on the write path
  : queueMicrotask

const afterBatch: Array<() => void> = []

/**
 * Runs `task` after the current batch of I/O events and the batch-end work it queued (a QUIC
 * connection's send pass: `runAtBatchEnd`) are done, i.e. once what the batch answers has
 * left: for bookkeeping nobody waits for (Node: the check phase of the next loop turn;
 * browsers: a zero timeout). Tasks of one batch share one hop and run in order; one that
 * throws is logged and does not stop the others.
 */
export function runAfterBatch (task: () => void): void {
  afterBatch.push(task)
  if (afterBatch.length > 1) return
  // Queued from the check phase, an immediate waits for the next turn's.
  runOnNextTurn(() => { runAtBatchEnd(runAfterBatchTasks) })
}

function runAfterBatchTasks (): void {
  const tasks = afterBatch.splice(0)
  for (const task of tasks) {
    try {
      task()
    } catch (err) {
      // Bookkeeping must not take the process down (as event listeners: util/events.ts).
      log.error('a task run after the batch threw: %s', err)
    }
  }
}

/** True where `runAtBatchEnd` really waits for the end of an I/O batch (Node). */
export const HAS_BATCH_END = nodeSetImmediate !== undefined

/** Resolves on a later turn of the event loop (see runOnNextTurn). */
export async function nextTurn (): Promise<void> {
  await new Promise<void>(resolve => { runOnNextTurn(resolve) })
}

/**
 * Coalesces bursts of calls into one, `delayMs` after the last; `cancel()` clears the pending
 * timer so a stopped node leaves none behind.
 */
export interface Debounced {
  (): void
  cancel(): void
}

export function debounce (fn: () => void, delayMs: number): Debounced {
  let timer: TimerHandle | undefined
  const call = (() => {
    if (timer !== undefined) clearTimeout(timer)
    timer = unrefTimeout(() => {
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

/**
 * An inactivity timeout for long-lived streams (ping, echo, perf): one timer per stream,
 * re-armed lazily, so marking activity on every chunk costs a clock read and nothing else (no
 * timer churn, no allocation on the data path).
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
  let timer: TimerHandle | undefined
  const check = (): void => {
    const idle = performance.now() - last
    if (idle >= timeoutMs) {
      timer = undefined
      onIdle()
      return
    }
    arm(timeoutMs - idle)
  }
  const arm = (ms: number): void => { timer = unrefTimeout(check, ms) }
  arm(timeoutMs)
  return {
    touch () { last = performance.now() },
    clear () {
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
    }
  }
}

/** The longest delay setTimeout honours: a larger one overflows and fires at once (Node, browsers). */
export const MAX_TIMER_DELAY = 2 ** 31 - 1

export interface LongTimeout {
  /** Clears the timer; idempotent. */
  cancel(): void
}

/**
 * An unreferenced timeout for any delay, including ones past MAX_TIMER_DELAY (about 24.8
 * days): those are waited in steps, so a far-future expiry (a relay reservation's, a record's)
 * fires when due instead of at once. Non-finite delays never fire.
 */
export function unrefLongTimeout (callback: () => void, ms: number): LongTimeout {
  let timer: TimerHandle | undefined
  let remaining = Number.isFinite(ms) ? Math.max(0, ms) : Infinity
  const step = (): void => {
    if (remaining === 0) {
      timer = undefined
      callback()
      return
    }
    const wait = Math.min(remaining, MAX_TIMER_DELAY)
    remaining -= wait
    timer = unrefTimeout(step, wait)
  }
  if (remaining === 0) timer = unrefTimeout(step, 0)
  else if (remaining !== Infinity) step()
  return {
    cancel () {
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
    }
  }
}
