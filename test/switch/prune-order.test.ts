import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Connection } from '../../src/interface/connection.ts'
import { pruneCandidates, type PeerWorth } from '../../src/switch/prune-order.ts'

/** What pruneCandidates reads of a connection: its peer, when it opened, its streams. */
function conn (peer: string, open: number, streams = 0): Connection {
  return { remotePeer: { toString: () => peer }, timeline: { open }, streams: new Array(streams).fill({}) } as unknown as Connection
}

describe('prune order', () => {
  it('unidentified before identified, then lower value, then idle before busy, then oldest first', () => {
    const worth = new Map<string, PeerWorth>([
      ['ident', { identified: true, value: 0 }],
      ['valued', { identified: false, value: 10 }],
      ['plain', { identified: false, value: 0 }],
      ['busy', { identified: false, value: 0 }]
    ])
    const connections = [conn('ident', 1), conn('valued', 2), conn('plain', 30), conn('plain', 20), conn('busy', 10, 2)]
    const order = pruneCandidates(connections, worth, { excess: 10, graceStart: 100 })
    assert.deepEqual(order.map(c => `${c.remotePeer.toString()}@${c.timeline.open}`), ['plain@20', 'plain@30', 'busy@10', 'valued@2', 'ident@1'])
  })

  it('never picks protected peers or connections in their grace period, and no more than the excess', () => {
    const worth = new Map<string, PeerWorth>([['kept', 'protected'], ['a', { identified: false, value: 0 }]])
    const connections = [conn('kept', 1), conn('a', 2), conn('a', 3), conn('a', 500)]
    assert.deepEqual(pruneCandidates(connections, worth, { excess: 5, graceStart: 100 }).map(c => c.timeline.open), [2, 3])
    assert.deepEqual(pruneCandidates(connections, worth, { excess: 1, graceStart: 100 }).map(c => c.timeline.open), [2])
    assert.deepEqual(pruneCandidates(connections, worth, { excess: 0, graceStart: 100 }), [])
  })
})
