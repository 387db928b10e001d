import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { TypedEventEmitter } from '../../src/util/events.ts'

type Events = { 'thing:happened': number, 'other': string }

describe('TypedEventEmitter', () => {
  it('delivers details and removes listeners', () => {
    const events = new TypedEventEmitter<Events>()
    const seen: number[] = []
    const listener = (evt: CustomEvent<number>): void => { seen.push(evt.detail) }
    events.addEventListener('thing:happened', listener)
    events.safeDispatch('thing:happened', 1)
    events.removeEventListener('thing:happened', listener)
    events.safeDispatch('thing:happened', 2)
    assert.deepEqual(seen, [1])
  })

  it('a throwing or rejecting listener does not stop the others or crash the process', async () => {
    const events = new TypedEventEmitter<Events>()
    const seen: string[] = []
    events.addEventListener('other', () => { throw new Error('bad listener') })
    events.addEventListener('other', (async () => { throw new Error('bad async listener') }) as unknown as () => void)
    events.addEventListener('other', evt => { seen.push(evt.detail) })
    let uncaught = 0
    const onUncaught = (): void => { uncaught++ }
    process.on('uncaughtException', onUncaught)
    process.on('unhandledRejection', onUncaught)
    try {
      events.safeDispatch('other', 'still delivered')
      await new Promise(resolve => setImmediate(resolve))
    } finally {
      process.off('uncaughtException', onUncaught)
      process.off('unhandledRejection', onUncaught)
    }
    assert.deepEqual(seen, ['still delivered'])
    assert.equal(uncaught, 0)
  })

  it('once listeners fire once and the same listener may serve two event types', () => {
    const events = new TypedEventEmitter<Events>()
    let count = 0
    const listener = (): void => { count++ }
    events.addEventListener('thing:happened', listener, { once: true })
    events.addEventListener('other', listener)
    events.safeDispatch('thing:happened', 1)
    events.safeDispatch('thing:happened', 2)
    events.safeDispatch('other', 'x')
    events.removeEventListener('other', listener)
    events.safeDispatch('other', 'y')
    assert.equal(count, 2)
  })
})
