/**
 * A short fuzzing run of every decoder target (test/fuzz/targets.ts) inside `npm test`: 1000
 * inputs each (random bytes and mutated corpus seeds), with a fixed seed so a failure is
 * reproducible. `npm run fuzz -- --minutes N` is the long run. A crash found becomes a
 * regression case in regressions.test.ts.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fuzz, loadCorpus, toHex } from './engine.ts'
import { targets, type FuzzTarget } from './targets.ts'

const RUNS = 1000

for (const target of targets) {
  test(`fuzz ${target.name}: ${RUNS} inputs, only typed errors`, () => {
    const result = fuzz(target, loadCorpus(target.name), { runs: RUNS, seed: 13 })
    process.stdout.write(`# fuzz ${target.name}: ${result.executions} executions\n`)
    assert.equal(result.failure, undefined, result.failure === undefined ? '' : `${target.name} crashed on ${toHex(result.failure.input)}: ${String((result.failure.error as Error)?.stack ?? result.failure.error)}`)
    assert.ok(result.executions >= RUNS)
  })
}

test('the harness reports an untyped error as a crash, with a small input', () => {
  const broken: FuzzTarget = { name: 'broken', run: (b) => { if (b.length > 2 && b[1] === 0x42) throw new TypeError('x is undefined') } }
  const result = fuzz(broken, [Uint8Array.of(1, 2, 3, 4)], { runs: 5000, seed: 13 })
  assert.ok(result.failure !== undefined, 'the planted bug was found')
  assert.equal(result.failure.input[1], 0x42)
  assert.ok(result.failure.input.length <= 16, `shrunk to a small input (${result.failure.input.length} bytes)`)
})
