import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Deadline, closeOrAbort, withDeadline } from '../../src/util/deadline.ts'
import { TimeoutError } from '../../src/util/errors.ts'

describe('Deadline', () => {
  it('aborts with a TimeoutError after the limit', async () => {
    const d = new Deadline(20, undefined, 'too slow')
    await new Promise(resolve => { d.signal.addEventListener('abort', resolve) })
    assert.equal((d.signal.reason as Error).name, 'TimeoutError')
    assert.equal((d.signal.reason as Error).message, 'too slow')
  })

  it('builds a message given as a function only when the time limit passes', async () => {
    let built = 0
    const message = (): string => { built++; return 'too slow for 10.0.0.1' }
    new Deadline(20, undefined, message).clear()
    const d = new Deadline(20, undefined, message)
    assert.equal(built, 0)
    await new Promise(resolve => { d.signal.addEventListener('abort', resolve) })
    assert.equal(built, 1)
    assert.equal((d.signal.reason as Error).message, 'too slow for 10.0.0.1')
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

describe('Deadline with several parents, withDeadline, closeOrAbort', () => {
  it('follows every parent, with the reason of the one that aborted, and detaches from all on clear', () => {
    const a = new AbortController()
    const b = new AbortController()
    const d = new Deadline(undefined, [a.signal, undefined, b.signal])
    b.abort(new Error('shutdown'))
    assert.equal(d.signal.aborted, true)
    assert.equal((d.signal.reason as Error).message, 'shutdown')
    const c = new AbortController()
    const e = new AbortController()
    const cleared = new Deadline(undefined, [c.signal, e.signal])
    cleared.clear()
    c.abort(new Error('late'))
    e.abort(new Error('late'))
    assert.equal(cleared.signal.aborted, false)
  })

  it('withDeadline releases its time limit and its parent when the operation settles', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const parent = new AbortController()
    let seen: AbortSignal | undefined
    const done = withDeadline(1000, parent.signal, 'too slow', async (signal) => { seen = signal; return 42 })
    return done.then((value) => {
      assert.equal(value, 42)
      t.mock.timers.tick(5000)
      parent.abort(new Error('after the fact'))
      assert.equal(seen?.aborted, false, 'neither the timer nor the parent reaches a finished operation')
    })
  })

  it('withDeadline rejects with a TimeoutError carrying the message when the operation overruns', async () => {
    await assert.rejects(withDeadline(20, undefined, 'the thing timed out', async (signal) => {
      await new Promise((_resolve, reject) => { signal.addEventListener('abort', () => { reject(signal.reason) }) })
    }), (err: Error) => err instanceof TimeoutError && err.message === 'the thing timed out')
  })

  it('closeOrAbort closes a stream that finishes and aborts one that does not, with a TimeoutError', async () => {
    const aborted: Error[] = []
    await closeOrAbort({ close: async () => {}, abort: (err) => { aborted.push(err) } }, 50)
    assert.equal(aborted.length, 0)
    await closeOrAbort({
      close: async ({ signal } = {}) => { await new Promise((_resolve, reject) => { signal?.addEventListener('abort', () => { reject(signal.reason) }) }) },
      abort: (err) => { aborted.push(err) }
    }, 20)
    assert.equal(aborted.length, 1)
    assert.ok(aborted[0] instanceof TimeoutError)
  })
})
