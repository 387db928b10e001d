/**
 * Block coverage from V8, read in-process through node:inspector: precise coverage with call
 * counts (`callCount: true`) resets V8's counters at every take, so each take reports exactly
 * the blocks run since the previous one: per input, or per batch of inputs. Only scripts under
 * the given directories count (the code under test, not the fuzzer or node_modules).
 *
 * A "feature" is a block reached with a count in one of AFL's buckets (1, 2, 3, 4-7, 8-15,
 * 16-31, 32-127, 128+): reaching a block for the first time and running a loop more times than
 * before both make an input interesting.
 *
 * V8 leaves out a nested block that ran as often as its parent and merges neighbours with equal
 * counts, so what a take reports depends on the counts of that run: passing a compare whose
 * body runs once shows only as the not-reached range moving deeper. Blocks are therefore known
 * by their start offset, remembered from every take (reached or not), and a known block's count
 * is that of the innermost reported range around it.
 */
import { Session } from 'node:inspector'

interface CoverageRange { startOffset: number, endOffset: number, count: number }
interface ScriptCoverage { scriptId: string, url: string, functions: Array<{ ranges: CoverageRange[] }> }

function bucket (count: number): number {
  if (count <= 3) return count
  if (count < 8) return 4
  if (count < 16) return 5
  if (count < 32) return 6
  if (count < 128) return 7
  return 8
}

/** The count of the innermost range containing `offset` (ranges come outermost first). */
function innermostCount (ranges: CoverageRange[], offset: number): number {
  let count = 0
  for (const range of ranges) {
    if (range.startOffset <= offset && offset < range.endOffset) count = range.count
  }
  return count
}

export class BlockCoverage {
  private readonly session = new Session()
  private readonly included = new Map<string, boolean>()
  /** The highest bucket seen per block ("scriptId:start"). */
  private readonly best = new Map<string, number>()
  /** Every block start ever reported, per function ("scriptId:functionStart"). */
  private readonly starts = new Map<string, Set<number>>()
  /** Blocks a batch reached that no single input has shown yet (see acceptBatch). */
  private readonly pending = new Set<string>()
  private readonly prefixes: string[]

  /**
   * `directories`: file URLs (ending in /) whose scripts count. One per process (see
   * blockCoverage): after a session stops precise coverage, a new one no longer sees blocks.
   */
  private constructor (directories: string[]) {
    this.prefixes = directories
    this.session.connect()
    this.post('Profiler.enable')
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true })
    this.take()
  }

  private static instance: BlockCoverage | undefined

  /** The process's coverage session, with nothing seen yet, counting scripts under `directories`. */
  static fresh (directories: string[]): BlockCoverage {
    const coverage = BlockCoverage.instance ??= new BlockCoverage(directories)
    coverage.prefixes.splice(0, coverage.prefixes.length, ...directories)
    coverage.included.clear()
    coverage.best.clear()
    coverage.starts.clear()
    coverage.pending.clear()
    coverage.take()
    return coverage
  }

  /** Blocks reached so far (any count). */
  get blocks (): number { return this.best.size }

  /**
   * Takes (and resets) the counters: how many features are new, recorded as seen. For a batch
   * (`batch` true) counts are summed over its inputs, so only blocks never reached before count
   * and nothing is recorded: the inputs of a batch that found one are then checked one by one.
   */
  collect (batch = false): number {
    let fresh = 0
    for (const script of this.take()) {
      let include = this.included.get(script.scriptId)
      if (include === undefined) {
        include = this.prefixes.some(p => script.url.startsWith(p))
        this.included.set(script.scriptId, include)
      }
      if (!include) continue
      for (const fn of script.functions) {
        const ranges = fn.ranges
        if (ranges.length === 0 || ranges[0].count === 0) continue
        const fnKey = `${script.scriptId}:${ranges[0].startOffset}`
        let starts = this.starts.get(fnKey)
        if (starts === undefined) this.starts.set(fnKey, starts = new Set())
        for (const range of ranges) starts.add(range.startOffset)
        for (const start of starts) {
          const count = innermostCount(ranges, start)
          if (count === 0) continue
          const key = `${script.scriptId}:${start}`
          const seen = this.best.get(key)
          if (batch) {
            if (seen === undefined) { fresh++; this.pending.add(key) }
            continue
          }
          const level = bucket(count)
          if (level > (seen ?? 0)) {
            fresh++
            this.best.set(key, level)
          }
        }
      }
    }
    return fresh
  }

  /**
   * After a batch's inputs were replayed one by one: its new blocks count as seen even when no
   * single input reported them (a block that ran as often as its parent in every single run is
   * merged into the parent there, but not in the batch's sums), or every later batch would
   * report them again.
   */
  acceptBatch (): void {
    for (const key of this.pending) if (!this.best.has(key)) this.best.set(key, 1)
    this.pending.clear()
  }

  /** Discards what ran since the last take (the fuzzer's own bookkeeping, a replay). */
  reset (): void { this.take() }

  private take (): ScriptCoverage[] {
    return (this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] }).result
  }

  /** The in-process session answers synchronously: the callback runs before post() returns. */
  private post (method: string, params?: object): unknown {
    let answer: unknown
    let failure: Error | null = null
    this.session.post(method, params, (err, result) => { failure = err; answer = result })
    if (failure !== null) throw failure
    return answer
  }
}
