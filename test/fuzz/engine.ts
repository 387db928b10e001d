/**
 * The coverage-guided fuzzing loop, in-process on V8's block coverage (coverage.ts): an input
 * is a mutation (mutate.ts) of a corpus entry; one that reaches new blocks (or runs a block
 * more often than any input before) joins the corpus, so mutations build on it and reach
 * deeper into the format, one comparison at a time.
 *
 * A crash is what a decoder must never do on bad input: throw anything but a typed error, run
 * longer than `slowMs`, or allocate more than `allocationLimit` bytes (V8 heap plus array
 * buffers) for one input. Hangs that never return cannot be caught here: runner.ts runs this
 * loop in a child process and watches it (see there).
 *
 * Speed: a take costs 0.5-1.5 ms (it walks every compiled function), far more than most
 * decoders. While the corpus grows, every input is checked on its own; after 64 inputs with
 * nothing new, inputs run in batches of 32 (128 after 8192) with one take per batch, and only
 * a batch that reached a new block is replayed input by input to learn which one did (a batch
 * sums counts, so loop-count features are only seen one by one).
 *
 * @jazzer.js is not used: its prebuilt addon needs glibc 2.38 (newer than the machines this
 * runs on) and building it needs Node headers from outside the package registries.
 */
import { readFileSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { getHeapStatistics } from 'node:v8'
import { BlockCoverage } from './coverage.ts'
import { BASE_DICTIONARY, Random, mutate } from './mutate.ts'
import { isTypedError, type FuzzTarget } from './target.ts'

export const CORPUS_DIR = fileURLToPath(new URL('./corpus/', import.meta.url))
/** The code under test: coverage counts only scripts under src/. */
export const SOURCE_DIR = new URL('../../src/', import.meta.url).href

export function toHex (b: Uint8Array): string { return Buffer.from(b).toString('hex') }
export function fromHex (s: string): Uint8Array { return new Uint8Array(Buffer.from(s, 'hex')) }

/** The committed seeds of `target` (test/fuzz/corpus/<name>.json: a list of hex strings). */
export function loadCorpus (name: string, dir = CORPUS_DIR): Uint8Array[] {
  const file = `${dir}${name}.json`
  if (!existsSync(file)) return []
  return (JSON.parse(readFileSync(file, 'utf8')) as string[]).map(fromHex)
}

export interface FuzzOptions {
  /** Stop after this many executions (seeds included). */
  maxExecutions?: number
  /** Stop after this long. */
  timeLimitMs?: number
  seed?: number
  maxLength?: number
  /** One input running longer than this is a crash ("slow"). */
  slowMs?: number
  /** One input growing the heap plus array buffers by more than this is a crash. */
  allocationLimit?: number
  /** File URLs of the directories whose coverage guides the run (default: src/). */
  coverageDirectories?: string[]
  /** Guided by coverage (default), or blind mutation of the seeds (to compare). */
  guided?: boolean
  /** Called before each execution: the runner's watchdog records the input there. */
  beforeExecution?: (input: Uint8Array) => void
}

export type FailureKind = 'crash' | 'slow' | 'allocation' | 'hang'

export interface FuzzFailure {
  kind: FailureKind
  /** The input, minimized for crashes (smallest input found that fails the same way). */
  input: Uint8Array
  error: string
}

export interface FuzzResult {
  target: string
  executions: number
  corpusSize: number
  blocks: number
  /** Inputs that joined the corpus in this run (for `npm run fuzz`'s saved corpus). */
  discovered: Uint8Array[]
  failure?: FuzzFailure
}

function allocated (): number {
  const stats = getHeapStatistics()
  return stats.used_heap_size + stats.external_memory
}

function describe (err: unknown): string {
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err)
}

/**
 * Runs one input: undefined when the decoder behaved, the failure otherwise. An async target
 * (one whose run returns a promise, e.g. a certificate check that verifies signatures) is
 * awaited; a sync one costs no promise.
 */
function execute (target: FuzzTarget, input: Uint8Array, options: Required<Pick<FuzzOptions, 'slowMs' | 'allocationLimit'>>): Omit<FuzzFailure, 'input'> | undefined | Promise<Omit<FuzzFailure, 'input'> | undefined> {
  const before = allocated()
  const started = performance.now()
  let pending: Promise<void> | undefined
  try {
    const returned = target.run(input)
    if (returned instanceof Promise) pending = returned
  } catch (err) {
    if (!isTypedError(err, target)) return { kind: 'crash', error: describe(err) }
  }
  if (pending !== undefined) {
    return pending.then(() => settle(before, started, options), (err: unknown) => isTypedError(err, target) ? settle(before, started, options) : { kind: 'crash', error: describe(err) })
  }
  return settle(before, started, options)
}

/** The slow and allocation checks after an input returned or threw a typed error. */
function settle (before: number, started: number, options: Required<Pick<FuzzOptions, 'slowMs' | 'allocationLimit'>>): Omit<FuzzFailure, 'input'> | undefined {
  const elapsed = performance.now() - started
  // Allocation first: an input that allocates far beyond its size is also slow to run (more so
  // on a loaded machine), and the allocation is the finding, not the time it took.
  const grown = allocated() - before
  if (grown > options.allocationLimit) return { kind: 'allocation', error: `allocated ${grown} bytes (limit ${options.allocationLimit}) in ${elapsed.toFixed(0)} ms` }
  if (elapsed > options.slowMs) return { kind: 'slow', error: `took ${elapsed.toFixed(0)} ms (limit ${options.slowMs} ms)` }
  return undefined
}

/** Shrinks a crashing input by deleting slices while it still fails the same way. */
async function minimize (target: FuzzTarget, input: Uint8Array, failure: Omit<FuzzFailure, 'input'>, limits: Required<Pick<FuzzOptions, 'slowMs' | 'allocationLimit'>>): Promise<Uint8Array> {
  if (failure.kind !== 'crash') return input
  const firstLine = failure.error.split('\n')[0]
  let best = input
  let attempts = 0
  for (let size = Math.max(1, best.length >> 1); size >= 1 && attempts < 4000; size = size === 1 ? 0 : Math.max(1, size >> 1)) {
    for (let at = 0; at + size <= best.length && attempts < 4000;) {
      attempts++
      const candidate = new Uint8Array(best.length - size)
      candidate.set(best.subarray(0, at), 0)
      candidate.set(best.subarray(at + size), at)
      const again = await execute(target, candidate, limits)
      if (again?.kind === 'crash' && again.error.split('\n')[0] === firstLine) best = candidate
      else at += size
    }
  }
  return best
}

/** Fuzzes `target` from `seeds` until an execution or time limit, or the first failure. */
export async function fuzz (target: FuzzTarget, seeds: Uint8Array[], options: FuzzOptions = {}): Promise<FuzzResult> {
  const maxExecutions = options.maxExecutions ?? Number.MAX_SAFE_INTEGER
  const deadline = performance.now() + (options.timeLimitMs ?? Number.POSITIVE_INFINITY)
  const limits = { slowMs: options.slowMs ?? 2000, allocationLimit: options.allocationLimit ?? 64 * 1024 * 1024 }
  const guided = options.guided ?? true
  const random = new Random(options.seed ?? 1)
  const coverage = BlockCoverage.fresh([...(options.coverageDirectories ?? [SOURCE_DIR]), ...(target.coverage ?? [])])
  const corpus: Uint8Array[] = []
  const discovered: Uint8Array[] = []
  const context = { random, corpus, dictionary: [...BASE_DICTIONARY, ...(target.dictionary ?? [])], maxLength: options.maxLength ?? 4096 }
  let executions = 0
  let lastDiscovery = 0
  let lastYield = 0

  const result = (failure?: FuzzFailure): FuzzResult => ({ target: target.name, executions, corpusSize: corpus.length, blocks: coverage.blocks, discovered, failure })
  const run = async (input: Uint8Array): Promise<FuzzFailure | undefined> => {
    options.beforeExecution?.(input)
    executions++
    const executed = execute(target, input, limits)
    const failure = executed instanceof Promise ? await executed : executed
    return failure === undefined ? undefined : { ...failure, input: await minimize(target, input, failure, limits) }
  }

  // Each take resets V8's counters, and between two executions only the fuzzer's own code runs
  // (not counted): a take after an execution covers exactly that execution.
  coverage.reset()
  for (const seed of seeds.length > 0 ? seeds : [new Uint8Array(0)]) {
    const failure = await run(seed)
    if (failure !== undefined) return result(failure)
    coverage.collect()
    corpus.push(seed)
  }

  // Half the time, one of the eight newest entries: what just got past a compare is where the
  // next one is, as libFuzzer's energy for new inputs has it.
  const pickParent = (): Uint8Array => random.below(2) === 0 ? corpus[corpus.length - 1 - random.below(Math.min(8, corpus.length))] : random.pick(corpus)
  const batch: Uint8Array[] = []
  while (executions < maxExecutions && performance.now() < deadline) {
    // Inputs of a batch start from the corpus as it was: one take covers them all.
    const quiet = executions - lastDiscovery
    const size = !guided || quiet < 64 ? 1 : quiet < 8192 ? 32 : 128
    batch.length = 0
    for (let i = 0; i < size && executions < maxExecutions; i++) {
      const input = mutate(pickParent(), context)
      batch.push(input)
      const failure = await run(input)
      if (failure !== undefined) return result(failure)
    }
    if (guided && coverage.collect(size > 1) > 0) {
      if (size === 1) {
        corpus.push(batch[0])
        discovered.push(batch[0])
      } else {
        for (const input of batch) {
          const replayed = execute(target, input, limits)
          if (replayed instanceof Promise) await replayed
          if (coverage.collect() > 0) { corpus.push(input); discovered.push(input) }
        }
        coverage.acceptBatch()
      }
      lastDiscovery = executions
    }
    // Let timers and I/O of the decoders under test (a muxer's teardown) run now and then.
    if (executions - lastYield >= 1024) {
      lastYield = executions
      await new Promise(resolve => setImmediate(resolve))
      if (guided) coverage.reset()
    }
  }
  return result()
}
