import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { collectGarbageNow } from '../../src/cli/collect-garbage.ts'

test('collectGarbageNow runs a full collection: an unreachable object is gone afterwards', async () => {
  let ref: WeakRef<object> | undefined
  ;(() => { ref = new WeakRef({ payload: new Array(1000).fill(1) }) })()
  // a WeakRef's target is kept alive until the job that created it ends
  await nextTurn()
  assert.ok(ref !== undefined)
  collectGarbageNow()
  assert.equal(ref.deref(), undefined)
})
