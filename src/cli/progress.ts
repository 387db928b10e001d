/**
 * Progress of long one-shot commands (perf, dht queries, add/get, doctor): on a terminal a bar
 * (when the total is known) or a spinner, redrawn in place on stderr at most ten times a
 * second; otherwise nothing on the terminal, and, when the command asks, JSON progress lines
 * through `onLine` (the command prints them on stdout beside its results), so piped output
 * stays machine-readable. `done()` clears the line, so the results that follow start clean.
 */
import { unrefInterval } from '../util/timers.ts'

export interface ProgressOptions {
  /** What is going on ("fetching", "probing"); the start of the line. */
  label: string
  /** The amount to reach, when known: a bar and a percentage; otherwise a spinner. */
  total?: number
  /** How `done` and `total` are shown (default 'items'). */
  unit?: 'bytes' | 'items'
  /** Where the bar goes (default process.stderr); drawn only when it is a TTY. */
  stream?: NodeJS.WriteStream
  /** Called with progress objects, at most once a second, when `stream` is not a TTY. */
  onLine?: (line: { type: 'progress', label: string, done: number, total?: number, detail?: string }) => void
  /** Redraws per second at most (default 10). */
  rate?: number
}

export interface Progress {
  /** How far the work is, and optionally what it does now ("tcp/noise/yamux"). */
  update(done: number, detail?: string): void
  /** The total, once learned (a DAG's size after its root arrives). */
  setTotal(total: number): void
  /** Clears the bar's line for other output on the same terminal; the next update redraws it. */
  clearLine?(): void
  /** Clears the bar (TTY) or sends a last line (JSON); idempotent. */
  done(): void
}

const SPINNER = ['|', '/', '-', '\\']
const BAR_WIDTH = 24

export function createProgress (options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr
  const tty = stream.isTTY === true
  const minGap = 1000 / (options.rate ?? 10)
  let total = options.total
  let done = 0
  let detail: string | undefined
  let lastDraw = 0
  let lastLine = 0
  let frame = 0
  let finished = false
  const started = performance.now()

  const amount = (n: number): string => options.unit === 'bytes' ? formatBytes(n) : String(n)
  const draw = (): void => {
    const seconds = (performance.now() - started) / 1000
    const rate = options.unit === 'bytes' && seconds > 0 ? ` ${formatBytes(done / seconds)}/s` : ''
    let line: string
    if (total !== undefined && total > 0) {
      const fraction = Math.min(1, done / total)
      const filled = Math.round(fraction * BAR_WIDTH)
      line = `${options.label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${amount(done)}/${amount(total)}${rate}`
    } else {
      line = `${options.label} ${SPINNER[frame++ % SPINNER.length]} ${amount(done)}${rate}`
    }
    if (detail !== undefined) line += ` ${detail}`
    // a pty whose size was never set reports 0 columns
    const columns = stream.columns !== undefined && stream.columns > 0 ? stream.columns : 80
    stream.write(`\r${line.slice(0, Math.max(10, columns - 1))}\u001b[K`)
  }
  const emit = (force: boolean): void => {
    const now = performance.now()
    if (tty) {
      if (force || now - lastDraw >= minGap) { lastDraw = now; draw() }
    } else if (options.onLine !== undefined && (force || now - lastLine >= 1000)) {
      lastLine = now
      options.onLine({ type: 'progress', label: options.label, done, ...(total !== undefined ? { total } : {}), ...(detail !== undefined ? { detail } : {}) })
    }
  }
  // a spinner moves even while nothing is counted (a dial in progress)
  const ticker = tty ? unrefInterval(() => { if (!finished) emit(false) }, minGap) : undefined
  emit(true)

  return {
    update (n, what) {
      if (finished) return
      done = n
      if (what !== undefined) detail = what
      emit(false)
    },
    setTotal (n) {
      if (n === total) return
      total = n
      // the spinner becomes a bar (or the JSON lines gain a total) now, not at the next tick
      if (!finished) emit(true)
    },
    clearLine () {
      if (finished || !tty) return
      stream.write('\r\u001b[K')
      lastDraw = 0
    },
    done () {
      if (finished) return
      finished = true
      if (ticker !== undefined) clearInterval(ticker)
      if (tty) stream.write('\r\u001b[K')
      else emit(true)
    }
  }
}

export function formatBytes (n: number): string {
  if (n < 1024) return `${Math.round(n)} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 * 1024 * 1024) return `${(n / 1048576).toFixed(1)} MiB`
  return `${(n / 1073741824).toFixed(2)} GiB`
}
