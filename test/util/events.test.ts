import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TypedEventEmitter } from '../../src/util/events.ts'

interface Events { a: number, b: string }

test('safeDispatch builds no event for a type nobody ever listened to, and reaches every listener of the others', () => {
  const Original = globalThis.CustomEvent
  let built = 0
  globalThis.CustomEvent = class extends Original<unknown> {
    constructor (type: string, init?: CustomEventInit) { super(type, init); built++ }
  } as typeof CustomEvent
  try {
    const emitter = new TypedEventEmitter<Events>()
    emitter.safeDispatch('a', 1)
    assert.equal(built, 0)
    const seen: Array<number | string> = []
    emitter.addEventListener('a', evt => { seen.push(evt.detail) }, { once: true })
    emitter.addEventListener('b', evt => { seen.push(evt.detail) })
    emitter.safeDispatch('a', 2)
    emitter.safeDispatch('a', 3) // the once listener is gone: still dispatched, nobody sees it
    emitter.safeDispatch('b', 'x')
    assert.deepEqual(seen, [2, 'x'])
    assert.equal(built, 3)
    // a listener added later, after its type was dispatched to nobody, is reached
    const late = new TypedEventEmitter<Events>()
    late.safeDispatch('b', 'lost')
    late.addEventListener('b', evt => { seen.push(evt.detail) })
    late.safeDispatch('b', 'y')
    assert.deepEqual(seen, [2, 'x', 'y'])
  } finally {
    globalThis.CustomEvent = Original
  }
})
