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

describe('Deadline timers', () => {
  function spyTimers () {
    const originalSet = globalThis.setTimeout
    const armed: unknown[] = []
    globalThis.setTimeout = ((fn: () => void, ms?: number, ...args: unknown[]) => {
      const timer = originalSet(fn, ms, ...args)
      armed.push(timer)
      return timer
    }) as typeof setTimeout
    return { armed, restore: () => { globalThis.setTimeout = originalSet } }
  }

  it('deadlines of one duration made and cleared one after another share one timer, which stops holding the process', () => {
    const spy = spyTimers()
    try {
      for (let i = 0; i < 100; i++) new Deadline(31_337).clear()
      assert.equal(spy.armed.length, 1)
      const timer = spy.armed[0] as { hasRef(): boolean }
      assert.equal(timer.hasRef(), false)
      const live = new Deadline(31_337)
      assert.equal(timer.hasRef(), true)
      live.clear()
      assert.equal(timer.hasRef(), false)
      assert.equal(spy.armed.length, 1)
    } finally {
      spy.restore()
    }
  })

  it('a deadline fires at its own time when an older one of the same duration was cleared', async () => {
    const early = new Deadline(60)
    await new Promise(resolve => setTimeout(resolve, 30))
    const started = performance.now()
    const late = new Deadline(60, undefined, 'late one')
    early.clear()
    await new Promise(resolve => { late.signal.addEventListener('abort', resolve) })
    assert.ok(performance.now() - started >= 55, `fired after ${performance.now() - started} ms`)
    assert.equal((late.signal.reason as Error).message, 'late one')
    assert.equal(early.signal.aborted, false)
  })

  it('deadlines of one duration fire in order, each once; clearing one in the middle spares only it', async () => {
    const fired: number[] = []
    const deadlines = Array.from({ length: 5 }, (_, i) => {
      const d = new Deadline(25)
      d.signal.addEventListener('abort', () => { fired.push(i) })
      return d
    })
    deadlines[2].clear()
    await new Promise(resolve => { deadlines[4].signal.addEventListener('abort', resolve) })
    assert.deepEqual(fired, [0, 1, 3, 4])
  })

  it('fires under fake timers, also for a duration whose shared timer was armed before they were installed', (t) => {
    new Deadline(47_000).clear()
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const d = new Deadline(47_000)
    t.mock.timers.tick(46_000)
    assert.equal(d.signal.aborted, false)
    t.mock.timers.tick(1_000)
    assert.equal(d.signal.aborted, true)
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
