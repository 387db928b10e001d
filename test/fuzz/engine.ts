/**
 * The fuzzing engine over fast-check: inputs are random bytes, or a corpus seed (a valid
 * encoding) with up to eight byte-level mutations (overwrite, insert, delete, truncate,
 * duplicate a slice), so inputs reach deep into each format. fast-check shrinks a failing
 * input to a small one. Used by test/fuzz/fuzz.test.ts (a fixed number of runs per target in
 * `npm test`) and scripts/fuzz.ts (`npm run fuzz -- --minutes N`).
 *
 * Not coverage-guided: @jazzer.js (the fuzzer that would be) ships its native addon built
 * against glibc 2.38, newer than this machine's, and building it needs Node headers from
 * outside the package registries. Seeds stand in for the corpus a coverage-guided run grows.
 */
import fc from 'fast-check'
import { readFileSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isTypedError, type FuzzTarget } from './targets.ts'

export const CORPUS_DIR = fileURLToPath(new URL('./corpus/', import.meta.url))

export function toHex (b: Uint8Array): string { return Buffer.from(b).toString('hex') }
export function fromHex (s: string): Uint8Array { return new Uint8Array(Buffer.from(s, 'hex')) }

/** The committed seeds of `target` (test/fuzz/corpus/<name>.json: a list of hex strings). */
export function loadCorpus (name: string): Uint8Array[] {
  const file = `${CORPUS_DIR}${name}.json`
  if (!existsSync(file)) return []
  return (JSON.parse(readFileSync(file, 'utf8')) as string[]).map(fromHex)
}

type Mutation = [kind: number, position: number, value: number]

function mutate (seed: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = seed
  for (const [kind, position, value] of mutations) {
    const at = b.length === 0 ? 0 : position % b.length
    if (kind === 0 && b.length > 0) { b = b.slice(); b[at] = value } else if (kind === 1) {
      b = Uint8Array.from([...b.subarray(0, at), value, ...b.subarray(at)])
    } else if (kind === 2) {
      b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)])
    } else if (kind === 3) {
      b = b.subarray(0, at)
    } else {
      b = Uint8Array.from([...b, ...b.subarray(at, Math.min(b.length, at + 1 + value))])
    }
  }
  return b
}

function inputs (seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const random = fc.uint8Array({ maxLength: 1024 })
  if (seeds.length === 0) return random
  const mutated = fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(4), fc.nat(), fc.nat(255)), { maxLength: 8 }))
    .map(([seed, mutations]) => mutate(seed, mutations as Mutation[]))
  return fc.oneof({ arbitrary: mutated, weight: 3 }, { arbitrary: random, weight: 1 })
}

export interface FuzzResult {
  target: string
  executions: number
  /** The smallest failing input and what it threw, when the target crashed. */
  failure?: { input: Uint8Array, error: unknown }
}

/** Runs `target` for `runs` inputs, or until `timeLimitMs`, whichever comes first. */
export function fuzz (target: FuzzTarget, seeds: Uint8Array[], options: { runs?: number, timeLimitMs?: number, seed?: number }): FuzzResult {
  let executions = 0
  let lastError: unknown
  const property = fc.property(inputs(seeds), (input) => {
    executions++
    try {
      target.run(input)
    } catch (err) {
      if (!isTypedError(err, target)) {
        lastError = err
        return false
      }
    }
    return true
  })
  const details = fc.check(property, {
    numRuns: options.runs ?? Number.MAX_SAFE_INTEGER,
    interruptAfterTimeLimit: options.timeLimitMs,
    markInterruptAsFailure: false,
    seed: options.seed
  })
  if (!details.failed) return { target: target.name, executions }
  return { target: target.name, executions, failure: { input: details.counterexample![0], error: lastError ?? details.errorInstance } }
}
