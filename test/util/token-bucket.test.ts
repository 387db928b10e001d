import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TokenBucket } from '../../src/util/token-bucket.ts'

test('a token bucket allows its burst, refills at its rate, and never holds more than the burst', () => {
  const bucket = new TokenBucket(3, 2, 0)
  assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)], [true, true, true, false])
  // 2 per second: one token after 500 ms
  assert.equal(bucket.take(400), false)
  assert.equal(bucket.take(500), true)
  assert.equal(bucket.take(500), false)
  // an hour idle refills to the burst, not beyond
  const later = 3_600_000
  assert.deepEqual([bucket.take(later), bucket.take(later), bucket.take(later), bucket.take(later)], [true, true, true, false])
})

test('an honest steady rate below the refill never runs dry', () => {
  const bucket = new TokenBucket(10, 10, 0)
  for (let i = 0; i < 10_000; i++) assert.equal(bucket.take(i * 101), true)
})
