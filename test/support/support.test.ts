import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rng, seededBytes } from './random.ts'
import { quantile } from './stats.ts'

test('quantile: nearest rank; NaN for no samples', () => {
  assert.ok(Number.isNaN(quantile([], 0.5)))
  assert.equal(quantile([5], 0.99), 5)
  assert.equal(quantile([4, 1, 3, 2], 0.5), 2)
  assert.equal(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99), 10)
  assert.equal(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0), 1)
})

test('rng and seededBytes repeat for a seed and differ across seeds', () => {
  const a = rng(7)
  const b = rng(7)
  const first = [a(), a(), a()]
  assert.deepEqual([b(), b(), b()], first)
  assert.ok(first.every(x => x >= 0 && x < 1))
  assert.notDeepEqual([rng(8)(), rng(8)()], first.slice(0, 2))
  assert.deepEqual(seededBytes(64, 3), seededBytes(64, 3))
  assert.notDeepEqual(seededBytes(64, 3), seededBytes(64, 4))
  assert.ok(rng(0)() > 0, 'seed 0 still moves')
})
