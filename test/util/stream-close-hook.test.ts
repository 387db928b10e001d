/**
 * The stream close hook (`onceClosed`): per-stream bookkeeping runs synchronously when the
 * stream reaches its final state, whatever ends it, exactly once, and before `closed` resolves.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { duplexPair } from '../../src/util/duplex-pair.ts'

test('a close hook runs synchronously when a local abort ends the stream, and on the remote end at its reset', () => {
  const [a, b] = duplexPair()
  const calls: string[] = []
  a.onceClosed(() => { calls.push(`a:${a.status}`) })
  b.onceClosed(() => { calls.push(`b:${b.status}`) })
  a.abort(new Error('boom'))
  // no await in between: the hooks ran inside abort()
  assert.deepEqual(calls.sort(), ['a:aborted', 'b:reset'])
})

test('a close hook runs once both directions are closed, not at the first half-close', async () => {
  const [a, b] = duplexPair()
  let runs = 0
  a.onceClosed(() => { runs++ })
  await a.closeWrite()
  assert.equal(runs, 0, 'our write side alone closed')
  assert.equal(await b.read(), null)
  await b.closeWrite()
  assert.equal(await a.read(), null)
  assert.equal(a.status, 'closed')
  assert.equal(runs, 1)
  a.abort(new Error('after the end'))
  assert.equal(runs, 1, 'never twice')
})

test('close hooks run in the order they were registered, before closed resolves', async () => {
  const [a] = duplexPair()
  const order: string[] = []
  void a.closed.then(() => { order.push('closed') })
  a.onceClosed(() => { order.push('first') })
  a.onceClosed(() => { order.push('second') })
  a.onceClosed(() => { order.push('third') })
  a.abort(new Error('boom'))
  assert.deepEqual(order, ['first', 'second', 'third'])
  await a.closed
  assert.deepEqual(order, ['first', 'second', 'third', 'closed'])
})

test('a close hook registered after the stream ended runs at once', () => {
  const [a] = duplexPair()
  a.abort(new Error('boom'))
  let ran = false
  a.onceClosed(() => { ran = true })
  assert.equal(ran, true)
})
