/**
 * A signal that aborts when a parent signal does or when a time limit passes, with a `clear()`
 * that removes both the timer and the parent listener. The switch creates one per upgrade,
 * dial attempt and stream negotiation, so unlike `AbortSignal.any` + `AbortSignal.timeout`
 * nothing lingers after the operation: no pending timer, no listener on a long-lived signal.
 *
 * Deadlines share timers: those of one duration expire in the order they were made, so one
 * timer, armed for the oldest, serves them all. Making and clearing one then costs no timer
 * operation (a timer per deadline cost ~10 us each way, several times per connection).
 */
import { AbortError, TimeoutError } from './errors.ts'
import { setTimerRef, type TimerHandle } from './timers.ts'

interface TimerEntry {
  readonly expiresAt: number
  readonly fire: () => void
  prev: TimerEntry | undefined
  next: TimerEntry | undefined
}

type Timer = TimerHandle

/** The deadlines of one duration, oldest first, behind one timer. */
class TimerQueue {
  readonly #ms: number
  #head: TimerEntry | undefined
  #tail: TimerEntry | undefined
  #timer: Timer | undefined
  /** When the armed timer is due (its entries up to this time have expired once it fires). */
  #due = 0
  /** The setTimeout that armed it: fake timers installed since then need a timer of their own. */
  #armedWith: typeof setTimeout | undefined

  constructor (ms: number) {
    this.#ms = ms
  }

  add (fire: () => void): TimerEntry {
    const entry: TimerEntry = { expiresAt: performance.now() + this.#ms, fire, prev: this.#tail, next: undefined }
    if (this.#tail === undefined) this.#head = entry
    else this.#tail.next = entry
    this.#tail = entry
    if (this.#timer === undefined || this.#armedWith !== globalThis.setTimeout) this.#arm(this.#head!.expiresAt)
    else setTimerRef(this.#timer, true)
    return entry
  }

  /** Forgets `entry`; an idle queue keeps its timer (cheaper than re-arming) but unreferenced. */
  remove (entry: TimerEntry): void {
    if (entry.prev !== undefined) entry.prev.next = entry.next
    else if (this.#head === entry) this.#head = entry.next
    else return
    if (entry.next !== undefined) entry.next.prev = entry.prev
    else this.#tail = entry.prev
    entry.prev = entry.next = undefined
    if (this.#head === undefined && this.#timer !== undefined) setTimerRef(this.#timer, false)
  }

  #arm (due: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#due = due
    this.#armedWith = globalThis.setTimeout
    const timer: Timer = setTimeout(() => { if (this.#timer === timer) this.#onTimer() }, Math.max(0, due - performance.now()))
    this.#timer = timer
  }

  #onTimer (): void {
    this.#timer = undefined
    // Whatever was due by the time the timer was armed for has expired: trusting the timer,
    // not a clock read, keeps deadlines working under fake timers.
    const due = this.#due
    let entry = this.#head
    while (entry !== undefined && entry.expiresAt <= due) {
      this.remove(entry)
      entry.fire()
      entry = this.#head
    }
    if (this.#head !== undefined) this.#arm(this.#head.expiresAt)
    // An idle queue goes, so computed durations cannot pile up queues.
    else if (queues.get(this.#ms) === this) queues.delete(this.#ms)
  }
}

const queues = new Map<number, TimerQueue>()

function queueFor (ms: number): TimerQueue {
  let queue = queues.get(ms)
  if (queue === undefined) {
    queue = new TimerQueue(ms)
    queues.set(ms, queue)
  }
  return queue
}

/** The signal(s) a deadline follows: aborting any of them aborts the deadline. */
export type ParentSignals = AbortSignal | ReadonlyArray<AbortSignal | undefined> | undefined

export class Deadline {
  readonly #controller = new AbortController()
  #timer: { queue: TimerQueue, entry: TimerEntry } | undefined
  #parents: AbortSignal[] | undefined
  #onParentAbort: ((evt: Event) => void) | undefined

  /**
   * `timeoutMs` undefined or non-finite means no time limit. `parent` is one signal or several
   * (a caller's and a component's shutdown signal, say): one listener each, removed by clear().
   * `timeoutMessage` may be a function, called only if the time limit passes: a message naming
   * an address costs a multiaddr-to-string per operation otherwise.
   */
  constructor (timeoutMs: number | undefined, parent?: ParentSignals, timeoutMessage?: string | (() => string)) {
    const parents = parent === undefined ? undefined : (Array.isArray(parent) ? (parent as Array<AbortSignal | undefined>).filter((s): s is AbortSignal => s !== undefined) : [parent as AbortSignal])
    const aborted = parents?.find(p => p.aborted)
    if (aborted !== undefined) {
      this.#controller.abort(aborted.reason ?? new AbortError())
      return
    }
    if (parents !== undefined && parents.length > 0) {
      this.#parents = parents
      this.#onParentAbort = (evt) => { this.#abort((evt.target as AbortSignal).reason ?? new AbortError()) }
      for (const p of parents) p.addEventListener('abort', this.#onParentAbort, { once: true })
    }
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
      const queue = queueFor(Math.max(0, timeoutMs))
      const entry = queue.add(() => {
        this.#timer = undefined
        this.#abort(new TimeoutError(typeof timeoutMessage === 'function' ? timeoutMessage() : timeoutMessage ?? `timed out after ${timeoutMs} ms`))
      })
      this.#timer = { queue, entry }
    }
  }

  get signal (): AbortSignal { return this.#controller.signal }

  /** Aborts now with `reason` (and releases the timer and parent listeners). */
  abort (reason: Error): void { this.#abort(reason) }

  #abort (reason: Error): void {
    this.clear()
    if (!this.#controller.signal.aborted) this.#controller.abort(reason)
  }

  /** Releases the timer and the parent listeners; the signal stays as it is. Idempotent. */
  clear (): void {
    if (this.#timer !== undefined) {
      this.#timer.queue.remove(this.#timer.entry)
      this.#timer = undefined
    }
    if (this.#onParentAbort !== undefined && this.#parents !== undefined) {
      for (const p of this.#parents) p.removeEventListener('abort', this.#onParentAbort)
      this.#parents = undefined
      this.#onParentAbort = undefined
    }
  }
}

/**
 * Runs `operation` with a signal that aborts when a parent does or after `timeoutMs` (a
 * TimeoutError with `timeoutMessage`), and releases the deadline when it settles.
 */
export async function withDeadline<T> (timeoutMs: number | undefined, parent: ParentSignals, timeoutMessage: string | undefined, operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = new Deadline(timeoutMs, parent, timeoutMessage)
  try {
    return await operation(deadline.signal)
  } finally {
    deadline.clear()
  }
}

/** Closes `stream` gracefully within `timeoutMs`, else aborts it with the reason. Never rejects. */
export async function closeOrAbort (stream: { close(options?: { signal?: AbortSignal }): Promise<void>, abort(err: Error): void }, timeoutMs: number): Promise<void> {
  const deadline = new Deadline(timeoutMs, undefined, `closing the stream timed out after ${timeoutMs} ms`)
  try {
    await stream.close({ signal: deadline.signal })
  } catch (err) {
    stream.abort(err as Error)
  } finally {
    deadline.clear()
  }
}
