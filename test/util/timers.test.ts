import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { debounce, delay, idleWatchdog, nextTurn, runAfterBatch, runAtBatchEnd, unrefInterval, unrefTimeout } from '../../src/util/timers.ts'

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

describe('timers', () => {
  it('unrefTimeout and unrefInterval never hold the process', () => {
    const timeout = unrefTimeout(() => {}, 60_000)
    const interval = unrefInterval(() => {}, 60_000)
    assert.equal(timeout.hasRef(), false)
    assert.equal(interval.hasRef(), false)
    clearTimeout(timeout)
    clearInterval(interval)
  })

  it('delay resolves after its time and rejects with the reason when aborted, clearing its timer', async () => {
    await delay(5)
    const controller = new AbortController()
    const pending = delay(60_000, controller.signal)
    controller.abort(new Error('stop'))
    await assert.rejects(pending, /stop/)
  })

  it('an idle watchdog fires once when touches stop, not while they go on', async () => {
    let fired = 0
    let resolveIdle!: () => void
    const idle = new Promise<void>(resolve => { resolveIdle = resolve })
    const watchdog = idleWatchdog(40, () => { fired++; resolveIdle() })
    for (let i = 0; i < 6; i++) {
      await delay(15)
      watchdog.touch()
      assert.equal(fired, 0, 'touched within the timeout')
    }
    await idle
    assert.equal(fired, 1)
    watchdog.clear()
  })

  it('a runAfterBatch task that throws is logged; the tasks after it still run and the process lives on', async () => {
    const ran: string[] = []
    runAfterBatch(() => { throw new Error('bookkeeping failed') })
    await new Promise<void>(resolve => { runAfterBatch(() => { ran.push('second'); resolve() }) })
    // an uncaught exception would fail this test file before the next turn
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(ran, ['second'])
  })

  it('runAfterBatch runs after the batch-end work queued in the same batch, even later, in order', async () => {
    const order: string[] = []
    runAfterBatch(() => { order.push('after 1') })
    // queued after the first runAfterBatch, as a send pass scheduled by the write that follows a dial
    runAtBatchEnd(() => { order.push('batch end') })
    runAfterBatch(() => { order.push('after 2') })
    void Promise.resolve().then(() => { order.push('microtask') })
    await new Promise<void>(resolve => { runAfterBatch(resolve) })
    assert.deepEqual(order, ['microtask', 'batch end', 'after 1', 'after 2'])
  })

  it('runAtBatchEnd runs after the current microtasks; nextTurn after pending timers of 0 ms', async () => {
    const order: string[] = []
    runAtBatchEnd(() => { order.push('batch end') })
    void Promise.resolve().then(() => { order.push('microtask') })
    await nextTurn()
    assert.deepEqual(order, ['microtask', 'batch end'])
  })
})
