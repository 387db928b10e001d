/**
 * The worker side of runner.ts: fuzzes the named targets of a module one after the other and
 * posts each result. Before every execution the input goes into shared memory with a counter,
 * so the parent can name the input when this thread hangs or runs out of heap.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { fuzz, loadCorpus, type FuzzOptions } from './engine.ts'
import type { FuzzTarget } from './target.ts'

export interface WorkerJob {
  /** URL of a module exporting `targets: FuzzTarget[]`. */
  module: string
  names: string[]
  options: Omit<FuzzOptions, 'beforeExecution'>
  /** Directories (paths ending in /) with <name>.json corpus files. */
  corpusDirs: string[]
  /** [0]: executions, [1]: length of the current input, then its bytes from byte 8. */
  shared: SharedArrayBuffer
}

export type WorkerMessage = { type: 'start', name: string } | { type: 'result', result: Awaited<ReturnType<typeof fuzz>> }

const job = workerData as WorkerJob
const { targets } = await import(job.module) as { targets: FuzzTarget[] }
const header = new Int32Array(job.shared, 0, 2)
const bytes = new Uint8Array(job.shared, 8)

function record (input: Uint8Array): void {
  const length = Math.min(input.length, bytes.length)
  bytes.set(input.subarray(0, length), 0)
  Atomics.store(header, 1, length)
  Atomics.add(header, 0, 1)
}

for (const name of job.names) {
  const target = targets.find(t => t.name === name)
  if (target === undefined) throw new Error(`no fuzz target ${name} in ${job.module}`)
  parentPort!.postMessage({ type: 'start', name } satisfies WorkerMessage)
  const seeds = job.corpusDirs.flatMap(dir => loadCorpus(name, dir))
  const result = await fuzz(target, seeds, { ...job.options, maxLength: bytes.length, beforeExecution: record })
  parentPort!.postMessage({ type: 'result', result } satisfies WorkerMessage)
}
