/**
 * Runs fuzz targets in a worker thread and watches it: what the in-process loop (engine.ts)
 * cannot see for itself becomes a failure here, with the input that caused it.
 * - a hang: the execution counter in shared memory stops moving for `hangMs`; the worker is
 *   terminated (V8 interrupts even a tight loop);
 * - a heap-exhausting input: the loop's own allocation check (engine.ts) stops an input that
 *   grows the heap by more than its limit and returns; one that keeps allocating without
 *   returning stops the counter and is reported as a hang, unless it reaches V8's heap limit
 *   first. Worker `resourceLimits` do not help there: on Node 24 a worker reaching its heap cap
 *   takes the whole process down (FATAL ERROR: Reached heap limit), so none is set.
 * - an exception thrown outside an execution (a decoder's timer or promise) ends the worker.
 * After any of these, a fresh worker goes on with the remaining targets.
 */
import { Worker } from 'node:worker_threads'
import { CORPUS_DIR, type FuzzOptions, type FuzzResult } from './engine.ts'
import type { WorkerJob, WorkerMessage } from './worker.ts'

export const TARGETS_MODULE = new URL('./targets.ts', import.meta.url).href
const MAX_INPUT = 4096

export interface RunOptions extends Omit<FuzzOptions, 'beforeExecution' | 'maxLength'> {
  /** Module exporting `targets` (default: test/fuzz/targets.ts). */
  module?: string
  corpusDirs?: string[]
  /** No execution for this long is a hang (default 10 s: a loaded CI machine is slow). */
  hangMs?: number
  onResult?: (result: FuzzResult) => void
}

function runWorker (names: string[], options: RunOptions, results: FuzzResult[]): Promise<string[]> {
  const shared = new SharedArrayBuffer(8 + MAX_INPUT)
  const header = new Int32Array(shared, 0, 2)
  const { module = TARGETS_MODULE, corpusDirs = [CORPUS_DIR], hangMs = 10_000, onResult, ...fuzzOptions } = options
  const job: WorkerJob = { module, names, options: fuzzOptions, corpusDirs, shared }
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: job })
  let current: string | undefined
  const done = new Set<string>()
  const currentInput = (): Uint8Array => new Uint8Array(shared, 8, Atomics.load(header, 1)).slice()
  const fail = (kind: 'hang' | 'crash', error: string): void => {
    if (current === undefined) return
    const result: FuzzResult = { target: current, executions: Atomics.load(header, 0), corpusSize: 0, blocks: 0, discovered: [], failure: { kind, input: currentInput(), error } }
    results.push(result)
    onResult?.(result)
    done.add(current)
    current = undefined
  }
  return new Promise((resolve, reject) => {
    let lastCount = -1
    let lastMove = performance.now()
    const watchdog = setInterval(() => {
      const count = Atomics.load(header, 0)
      if (count !== lastCount) { lastCount = count; lastMove = performance.now(); return }
      if (current !== undefined && performance.now() - lastMove > hangMs) {
        fail('hang', `no execution finished for ${hangMs} ms`)
        void worker.terminate()
      }
    }, Math.min(250, hangMs / 4))
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'start') {
        current = message.name
        Atomics.store(header, 0, 0)
        lastCount = -1
        return
      }
      results.push(message.result)
      onResult?.(message.result)
      done.add(message.result.target)
      current = undefined
    })
    worker.on('error', (err: Error) => {
      if (current === undefined) { clearInterval(watchdog); reject(err); return }
      // An exception thrown outside the execution (a timer or promise of the decoder) ends the
      // worker: a crash of the current target, whose last input is the likely cause.
      fail('crash', `uncaught outside an execution: ${err.stack ?? String(err)}`)
    })
    worker.on('exit', () => {
      clearInterval(watchdog)
      resolve(names.filter(name => !done.has(name)))
    })
  })
}

/** Fuzzes every named target; a hang or an exception outside an execution fails that target and the rest go on. */
export async function runFuzzTargets (names: string[], options: RunOptions = {}): Promise<FuzzResult[]> {
  const results: FuzzResult[] = []
  let remaining = names
  while (remaining.length > 0) {
    const left = await runWorker(remaining, options, results)
    if (left.length === remaining.length) throw new Error(`the fuzz worker ended before it started ${left[0]}`)
    remaining = left
  }
  return results
}
