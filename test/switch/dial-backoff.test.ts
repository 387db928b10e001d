import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DialBackoff } from '../../src/switch/dial-backoff.ts'

test('an address that failed is in backoff for the base time, doubling per failure up to the cap, per peer', () => {
  const backoff = new DialBackoff({ dialBackoff: 1000, maxDialBackoff: 3000 })
  const t0 = 1_000_000
  assert.equal(backoff.blockedUntil('A', '/ip4/1.2.3.4/tcp/1', t0), undefined)
  backoff.failed('A', '/ip4/1.2.3.4/tcp/1', t0)
  assert.equal(backoff.blockedUntil('A', '/ip4/1.2.3.4/tcp/1', t0 + 999), t0 + 1000)
  assert.equal(backoff.blockedUntil('A', '/ip4/1.2.3.4/tcp/1', t0 + 1000), undefined)
  assert.equal(backoff.blockedUntil('B', '/ip4/1.2.3.4/tcp/1', t0), undefined, 'another peer at the same address is not held back')
  assert.equal(backoff.blockedUntil('A', '/ip4/1.2.3.4/tcp/2', t0), undefined, 'nor another address of the peer')
  backoff.failed('A', '/ip4/1.2.3.4/tcp/1', t0 + 1000)
  assert.equal(backoff.blockedUntil('A', '/ip4/1.2.3.4/tcp/1', t0 + 1000), t0 + 3000)
  backoff.failed('A', '/ip4/1.2.3.4/tcp/1', t0 + 3000)
  assert.equal(backoff.blockedUntil('A', '/ip4/1.2.3.4/tcp/1', t0 + 3000), t0 + 6000, 'capped at 3 s')
  backoff.succeeded('A')
  assert.equal(backoff.blockedUntil('A', '/ip4/1.2.3.4/tcp/1', t0 + 3000), undefined)
})

test('a base of 0 turns backoff off', () => {
  const backoff = new DialBackoff({ dialBackoff: 0 })
  backoff.failed('A', '/ip4/1.2.3.4/tcp/1', 0)
  assert.equal(backoff.blockedUntil('A', '/ip4/1.2.3.4/tcp/1', 0), undefined)
})
