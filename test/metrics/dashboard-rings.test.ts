/**
 * The dashboard's bounded memories: the log tail keeps the last N lines (error lines even when
 * DEBUG does not enable their namespace, and they are then not printed) and forgets its tap
 * when stopped; the DHT's recent lookups keep the last N, newest first, with readable keys.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LogTail } from '../../src/metrics/dashboard/log-tail.ts'
import { RecentQueries } from '../../src/dht/recent-queries.ts'
import { MessageType } from '../../src/dht/message.ts'
import { logger } from '../../src/util/logger.ts'
import { utf8Encode } from '../../src/util/bytes.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'

test('the log tail keeps the last lines, error lines without DEBUG, and stops listening when stopped', (t) => {
  const printed: unknown[] = []
  t.mock.method(console, 'error', (...args: unknown[]) => { printed.push(args) })
  const log = logger('dashboard-rings-test')
  const tail = new LogTail(3)
  log('not enabled, not an error: neither kept nor printed')
  for (let i = 0; i < 5; i++) log.error('failure %d', i)
  const lines = tail.lines()
  assert.equal(lines.length, 3)
  assert.match(lines[0], /ts-libp2p:dashboard-rings-test:error failure 2$/)
  assert.match(lines[2], /failure 4$/)
  assert.equal(printed.length, 0, 'DEBUG did not ask for them: nothing printed')
  tail.stop()
  log.error('after stop')
  assert.match(tail.lines()[2], /failure 4$/)
})

test('recent DHT lookups: bounded, newest first, outcome and peers contacted, keys shown as users know them', async () => {
  const ring = new RecentQueries(2)
  assert.deepEqual(ring.list(), [])
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const started = performance.now()
  ring.add(MessageType.FIND_NODE, utf8Encode('first'), started, { closest: [], queried: 3, failed: 1, hops: 1, doneAtHop: 0, completed: false, timedOut: false })
  ring.add(MessageType.FIND_NODE, peerId.bytes, started, { closest: [], queried: 4, failed: 0, hops: 2, doneAtHop: 2, completed: true, timedOut: false })
  ring.add(MessageType.GET_VALUE, new Uint8Array(200), started, undefined)
  const list = ring.list()
  assert.equal(list.length, 2)
  assert.deepEqual(list.map(q => [q.type, q.outcome, q.peersContacted, q.failed]), [['get_value', 'error', 0, 0], ['find_node', 'found', 4, 0]])
  assert.equal(list[1].key, peerId.toString(), 'a peer id key reads as the peer id')
  assert.ok(list[0].key.length <= 64 && list[0].key.startsWith('0x00'), 'other keys: hex, shortened')
})
