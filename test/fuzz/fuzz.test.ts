/**
 * A short coverage-guided run of every decoder target (test/fuzz/targets.ts) inside `npm test`:
 * at most 2000 executions each, within a minute for all (a loaded machine gets fewer), from the committed seed
 * corpus, with a fixed seed. The executions, corpus size and blocks reached per target are
 * printed (the CI figures); `npm run fuzz -- --minutes N` is the long run. A crash found is
 * saved under test/fuzz/crashes/ and replayed by regressions.test.ts from then on.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex, type FuzzResult } from './engine.ts'
import { runFuzzTargets } from './runner.ts'
import { targets } from './targets.ts'

const MAX_EXECUTIONS = 2000
/** A minute in all, shared by the targets: the file stays within the suite's 120 s limit. */
const TIME_LIMIT_MS = Math.floor(60_000 / targets.length)
/** Fewer than this means the run did not really fuzz (a broken target or harness, not load). */
const MIN_EXECUTIONS = 20

test(`fuzz every target: ${targets.length} targets, up to ${MAX_EXECUTIONS} inputs each, only typed errors`, async (t) => {
  const results = await runFuzzTargets(targets.map(target => target.name), { maxExecutions: MAX_EXECUTIONS, timeLimitMs: TIME_LIMIT_MS, seed: 13 })
  const byName = new Map<string, FuzzResult>(results.map(r => [r.target, r]))
  let total = 0
  for (const target of targets) {
    await t.test(target.name, () => {
      const result = byName.get(target.name)
      assert.ok(result !== undefined, `${target.name} was not run`)
      total += result.executions
      process.stdout.write(`# fuzz ${target.name}: ${result.executions} executions, corpus ${result.corpusSize}, ${result.blocks} blocks\n`)
      assert.equal(result.failure, undefined, result.failure === undefined ? '' : `${target.name}: ${result.failure.kind} on ${toHex(result.failure.input)}: ${result.failure.error}`)
      assert.ok(result.executions >= MIN_EXECUTIONS, `${result.executions} executions`)
      assert.ok(result.blocks > 0, 'coverage reached the decoder')
    })
  }
  process.stdout.write(`# fuzz: ${targets.length} targets, ${total} executions\n`)
})
