import { test } from 'node:test'
import assert from 'node:assert/strict'
import { selectMeshSurvivors } from '../../src/pubsub/gossipsub/mesh-selection.ts'

test('an oversubscribed mesh keeps the Dscore best-scored peers, D in all, and prunes the rest best-scored first', () => {
  const peers = Array.from({ length: 12 }, (_, i) => `p${i}`)
  const score = (k: string): number => Number(k.slice(1))
  for (let run = 0; run < 20; run++) {
    const { keep, prune } = selectMeshSurvivors(new Set(peers), { D: 6, Dscore: 4, Dout: 0 }, score, () => true)
    assert.equal(keep.size, 6)
    for (const best of ['p11', 'p10', 'p9', 'p8']) assert.ok(keep.has(best), `${best} is among the Dscore best`)
    assert.deepEqual(new Set([...keep, ...prune]), new Set(peers))
    assert.equal(prune.length, 6)
    assert.deepEqual(prune, [...prune].sort((a, b) => score(b) - score(a)))
  }
})

test('the kept peers include at least Dout outbound ones, replacing inbound ones kept', () => {
  const peers = Array.from({ length: 12 }, (_, i) => `p${i}`)
  // only the three lowest-scored peers are outbound, so score alone would keep none of them
  const outbound = new Set(['p0', 'p1', 'p2'])
  const { keep, prune } = selectMeshSurvivors(new Set(peers), { D: 4, Dscore: 4, Dout: 2 }, k => Number(k.slice(1)), k => outbound.has(k))
  // score keeps p11, p10, p9, p8; the best outbound ones (p2, p1) replace the last inbound kept
  assert.deepEqual(keep, new Set(['p11', 'p10', 'p1', 'p2']))
  assert.ok(prune.includes('p9') && prune.includes('p8') && prune.includes('p0'))
})
