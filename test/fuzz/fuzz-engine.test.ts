/**
 * The fuzzer finds what it is for: a bug behind compares that only coverage guidance gets past
 * (and blind mutation does not, with the same budget), hangs, over-allocation and exceptions
 * thrown later by a decoder's timer, each reported with an input.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fuzz } from './engine.ts'
import { runFuzzTargets } from './runner.ts'
import { targets as planted } from './fixtures/planted.ts'

const PLANTED = new URL('./fixtures/planted.ts', import.meta.url).href
const FIXTURES = new URL('./fixtures/', import.meta.url).href
const magic = planted.find(t => t.name === 'magic-nibbles')!

test('coverage guidance finds a bug behind five nested compares; blind mutation does not, with the same budget', async () => {
  const budget = { maxExecutions: 20_000, seed: 7, coverageDirectories: [FIXTURES] }
  const guided = await fuzz(magic, [], budget)
  assert.equal(guided.failure?.kind, 'crash', `not found in ${guided.executions} executions`)
  assert.match(guided.failure.error, /planted/)
  assert.deepEqual([...guided.failure.input.subarray(0, 5)].map(b => b >> 4), [0x4, 0xc, 0x5, 0x0, 0x3])
  assert.equal(guided.failure.input.length, 5, 'minimized to the five bytes that matter')
  assert.ok(guided.corpusSize >= 5, 'each compare passed grew the corpus')
  const blind = await fuzz(magic, [], { ...budget, guided: false })
  assert.equal(blind.failure, undefined)
  assert.equal(blind.executions, budget.maxExecutions)
})

test('an input that allocates far beyond its size is a failure (array buffers and JS heap)', async () => {
  const buffers = await fuzz(planted.find(t => t.name === 'length-trusted')!, [], { maxExecutions: 20_000, seed: 3, coverageDirectories: [FIXTURES] })
  assert.equal(buffers.failure?.kind, 'allocation')
  assert.ok(buffers.failure.input[0] > 64, `allocated ${buffers.failure.input[0]} MiB`)
  const heap = await fuzz(planted.find(t => t.name === 'heap-hungry')!, [], { maxExecutions: 20_000, seed: 3, coverageDirectories: [FIXTURES] })
  assert.equal(heap.failure?.kind, 'allocation')
  assert.equal(heap.failure.input[0], 0x77)
})

test('an input that allocates until V8\'s heap limit ends the fuzz process is an allocation failure with its input; the next target still runs', async () => {
  const results = await runFuzzTargets(['heap-exhausting', 'magic-nibbles'], {
    module: PLANTED, corpusDirs: [], maxExecutions: 20_000, seed: 5, heapLimitMb: 96, coverageDirectories: [FIXTURES]
  })
  const byName = new Map(results.map(r => [r.target, r]))
  const heap = byName.get('heap-exhausting')?.failure
  assert.equal(heap?.kind, 'allocation', `got ${heap?.kind}: ${heap?.error}`)
  assert.equal(heap.input[0], 0x66)
  assert.match(heap.error, /heap limit \(96 MiB\)/)
  assert.equal(byName.get('magic-nibbles')?.failure?.kind, 'crash', 'a fresh process fuzzes the next target')
})

test('the runner reports a hang and a timer\'s exception, and goes on with the next target in a fresh process', async () => {
  const results = await runFuzzTargets(['endless-loop', 'timer-throws', 'magic-nibbles'], {
    module: PLANTED, corpusDirs: [], maxExecutions: 20_000, seed: 5, hangMs: 1500, coverageDirectories: [FIXTURES]
  })
  const byName = new Map(results.map(r => [r.target, r]))
  assert.equal(byName.get('endless-loop')?.failure?.kind, 'hang')
  assert.equal(byName.get('endless-loop')?.failure?.input[0], 0x99)
  assert.equal(byName.get('timer-throws')?.failure?.kind, 'crash')
  assert.match(byName.get('timer-throws')!.failure!.error, /thrown by a timer/)
  assert.equal(byName.get('magic-nibbles')?.failure?.kind, 'crash', 'the worker after the failures still fuzzes')
})
