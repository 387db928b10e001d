import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Deadline } from '../../src/switch/deadline.ts'
import { Semaphore } from '../../src/switch/semaphore.ts'
import { debounce } from '../../src/switch/debounce.ts'

describe('Deadline', () => {
  it('aborts with a TimeoutError after the limit', async () => {
    const d = new Deadline(20, undefined, 'too slow')
    await new Promise(resolve => { d.signal.addEventListener('abort', resolve) })
    assert.equal((d.signal.reason as Error).name, 'TimeoutError')
    assert.equal((d.signal.reason as Error).message, 'too slow')
  })

  it('follows its parent and detaches on clear', () => {
    const parent = new AbortController()
    const d = new Deadline(undefined, parent.signal)
    parent.abort(new Error('parent'))
    assert.equal((d.signal.reason as Error).message, 'parent')
    const other = new AbortController()
    const cleared = new Deadline(10_000, other.signal)
    cleared.clear()
    other.abort(new Error('late'))
    assert.equal(cleared.signal.aborted, false)
    assert.equal(new Deadline(5, AbortSignal.abort(new Error('already'))).signal.aborted, true)
  })
})

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

describe('debounce', () => {
  it('coalesces bursts and can be cancelled', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    let calls = 0
    const d = debounce(() => { calls++ }, 10)
    d(); d()
    t.mock.timers.tick(5)
    d()
    t.mock.timers.tick(9)
    assert.equal(calls, 0)
    t.mock.timers.tick(1)
    assert.equal(calls, 1)
    d()
    d.cancel()
    t.mock.timers.tick(100)
    assert.equal(calls, 1)
  })
})
