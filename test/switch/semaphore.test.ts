import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Semaphore } from '../../src/switch/semaphore.ts'

describe('Semaphore', () => {
  it('bounds concurrency, serves waiters in order and honours abort', async () => {
    const s = new Semaphore(2)
    await s.acquire()
    await s.acquire()
    const order: number[] = []
    const w1 = s.acquire().then(() => order.push(1))
    const controller = new AbortController()
    const w2 = s.acquire(controller.signal)
    const w3 = s.acquire().then(() => order.push(3))
    controller.abort(new Error('gave up'))
    await assert.rejects(w2, /gave up/)
    assert.equal(s.waiting, 2)
    s.release()
    s.release()
    await Promise.all([w1, w3])
    assert.deepEqual(order, [1, 3])
    assert.equal(s.active, 2)
    s.release()
    s.release()
    assert.equal(s.active, 0)
  })
})
