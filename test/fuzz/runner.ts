/**
 * Runs fuzz targets in a child process and watches it: what the in-process loop (engine.ts)
 * cannot see for itself becomes a failure here, with the input that caused it.
 * - a hang: the execution counter stops moving for `hangMs`; the child is killed;
 * - a heap-exhausting input: the loop's own allocation check (engine.ts) stops an input that
 *   grows the heap by more than its limit and returns; one that keeps allocating without
 *   returning reaches the child's heap cap (`heapLimitMb`, --max-old-space-size) and V8 ends
 *   the process: an `allocation` failure. This is why a process and not a worker thread: on
 *   Node 24 a worker reaching its `resourceLimits` takes the whole process down with it, the
 *   watcher included, and the input was lost.
 * - an exception thrown outside an execution (a decoder's timer or promise) ends the child: a
 *   `crash` with its stderr.
 * After any of these, a fresh child goes on with the remaining targets.
 *
 * The child records each input before running it in a file (a counter, the length, the bytes,
 * rewritten in place with one positioned write): that survives the process, where shared
 * memory would not, and costs one write to the page cache per execution.
 */
import { fork } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CORPUS_DIR, type FuzzOptions, type FuzzResult, type FailureKind } from './engine.ts'
import type { WorkerJob, WorkerMessage } from './worker.ts'

export const TARGETS_MODULE = new URL('./targets.ts', import.meta.url).href
export const MAX_INPUT = 4096
/** The record file: executions (int32), input length (int32), then the input. */
export const RECORD_HEADER = 8
const STDERR_KEPT = 8192

export interface RunOptions extends Omit<FuzzOptions, 'beforeExecution' | 'maxLength'> {
  /** Module exporting `targets` (default: test/fuzz/targets.ts). */
  module?: string
  corpusDirs?: string[]
  /** No execution for this long is a hang (default 10 s: a loaded CI machine is slow). */
  hangMs?: number
  /** The child's V8 heap cap in MiB (default 1024); an input that reaches it is an allocation failure. */
  heapLimitMb?: number
  onResult?: (result: FuzzResult) => void
}

function readRecord (fd: number): { executions: number, input: Uint8Array } {
  const buffer = Buffer.alloc(RECORD_HEADER + MAX_INPUT)
  const n = readSync(fd, buffer, 0, buffer.length, 0)
  if (n < RECORD_HEADER) return { executions: 0, input: new Uint8Array(0) }
  const length = Math.min(buffer.readInt32LE(4), n - RECORD_HEADER)
  return { executions: buffer.readInt32LE(0), input: new Uint8Array(buffer.subarray(RECORD_HEADER, RECORD_HEADER + length)) }
}

function runChild (names: string[], options: RunOptions, results: FuzzResult[], recordFile: string): Promise<string[]> {
  const { module = TARGETS_MODULE, corpusDirs = [CORPUS_DIR], hangMs = 10_000, heapLimitMb = 1024, onResult, ...fuzzOptions } = options
  writeFileSync(recordFile, new Uint8Array(RECORD_HEADER))
  const fd = openSync(recordFile, 'r')
  const job: WorkerJob = { module, names, options: fuzzOptions, corpusDirs, recordFile, maxInput: MAX_INPUT }
  const child = fork(new URL('./worker.ts', import.meta.url), [], {
    execArgv: [`--max-old-space-size=${heapLimitMb}`, '--no-warnings'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'pipe', 'ipc']
  })
  child.send(job)
  let stderr = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-STDERR_KEPT) })
  let current: string | undefined
  let hung = false
  const done = new Set<string>()
  const fail = (kind: FailureKind, error: string): void => {
    if (current === undefined) return
    const record = readRecord(fd)
    const result: FuzzResult = { target: current, executions: record.executions, corpusSize: 0, blocks: 0, discovered: [], failure: { kind, input: record.input, error } }
    results.push(result)
    onResult?.(result)
    done.add(current)
    current = undefined
  }
  return new Promise((resolve, reject) => {
    let lastCount = -1
    let lastMove = performance.now()
    const watchdog = setInterval(() => {
      if (current === undefined) return
      const { executions } = readRecord(fd)
      if (executions !== lastCount) { lastCount = executions; lastMove = performance.now(); return }
      if (performance.now() - lastMove > hangMs) {
        hung = true
        fail('hang', `no execution finished for ${hangMs} ms`)
        child.kill('SIGKILL')
      }
    }, Math.min(250, hangMs / 4))
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'start') {
        current = message.name
        lastCount = -1
        lastMove = performance.now()
        return
      }
      results.push(message.result)
      onResult?.(message.result)
      done.add(message.result.target)
      current = undefined
    })
    child.on('error', (err: Error) => { clearInterval(watchdog); closeSync(fd); reject(err) })
    child.on('exit', (code, signal) => {
      clearInterval(watchdog)
      if (!hung && current !== undefined && (code !== 0 || signal !== null)) {
        const heapLimit = /heap limit|heap out of memory/i.test(stderr)
        fail(heapLimit ? 'allocation' : 'crash', heapLimit
          ? `reached the fuzz process's heap limit (${heapLimitMb} MiB) and V8 ended it`
          : `the fuzz process ended (${signal ?? `exit ${code}`}) outside an execution: ${stderr.trim()}`)
      }
      closeSync(fd)
      resolve(names.filter(name => !done.has(name)))
    })
  })
}

/** Fuzzes every named target; a hang, a heap-limit death or an exception outside an execution fails that target and the rest go on. */
export async function runFuzzTargets (names: string[], options: RunOptions = {}): Promise<FuzzResult[]> {
  const results: FuzzResult[] = []
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-fuzz-'))
  try {
    let remaining = names
    while (remaining.length > 0) {
      const left = await runChild(remaining, options, results, join(dir, 'input'))
      if (left.length === remaining.length) throw new Error(`the fuzz process ended before it started ${left[0]}`)
      remaining = left
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return results
}
