/**
 * The child side of runner.ts: fuzzes the named targets of a module one after the other and
 * sends each result. Before every execution the input and a counter go into the record file,
 * so the parent can name the input when this process hangs, runs out of heap or dies.
 */
import { openSync, writeSync } from 'node:fs'
import { fuzz, loadCorpus, type FuzzOptions } from './engine.ts'
import type { FuzzTarget } from './target.ts'

export interface WorkerJob {
  /** URL of a module exporting `targets: FuzzTarget[]`. */
  module: string
  names: string[]
  options: Omit<FuzzOptions, 'beforeExecution'>
  /** Directories (paths ending in /) with <name>.json corpus files. */
  corpusDirs: string[]
  /** The record file: executions (int32 LE), input length (int32 LE), then the input. */
  recordFile: string
  /** Longest input recorded (and generated). */
  maxInput: number
}

export type WorkerMessage = { type: 'start', name: string } | { type: 'result', result: Awaited<ReturnType<typeof fuzz>> }

function send (message: WorkerMessage): Promise<void> {
  return new Promise((resolve, reject) => { process.send!(message, undefined, {}, (err) => { if (err === null) resolve(); else reject(err) }) })
}

const job = await new Promise<WorkerJob>(resolve => { process.once('message', message => { resolve(message as WorkerJob) }) })
const { targets } = await import(job.module) as { targets: FuzzTarget[] }
const fd = openSync(job.recordFile, 'r+')
const record = Buffer.alloc(8 + job.maxInput)
let executions = 0

function recordInput (input: Uint8Array): void {
  const length = Math.min(input.length, job.maxInput)
  record.set(input.subarray(0, length), 8)
  record.writeInt32LE(++executions, 0)
  record.writeInt32LE(length, 4)
  writeSync(fd, record, 0, 8 + length, 0)
}

for (const name of job.names) {
  const target = targets.find(t => t.name === name)
  if (target === undefined) throw new Error(`no fuzz target ${name} in ${job.module}`)
  executions = 0
  await send({ type: 'start', name })
  const seeds = job.corpusDirs.flatMap(dir => loadCorpus(name, dir))
  const result = await fuzz(target, seeds, { ...job.options, maxLength: job.maxInput, beforeExecution: recordInput })
  await send({ type: 'result', result })
}
process.disconnect()
