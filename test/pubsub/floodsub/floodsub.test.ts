/** FloodSub between real ts-libp2p nodes over loopback TCP. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { floodsub, FLOODSUB_PROTOCOL } from '../../../src/pubsub/floodsub/floodsub.ts'
import { TopicValidatorResult } from '../../../src/pubsub/types.ts'
import { collect, connect, createPubSubNode, until, untilCount, untilSubscribed } from '../helpers.ts'

const enc = new TextEncoder()

test('floodsub: a line of three nodes delivers every message once, signed, with go-style ids', async (t) => {
  const [a, b, c] = await Promise.all([0, 1, 2].map(async () => await createPubSubNode(floodsub())))
  t.after(async () => { await Promise.all([a.stop(), b.stop(), c.stop()]) })
  for (const n of [a, b, c]) n.services.pubsub.subscribe('t')
  await connect(a, b)
  await connect(b, c)
  await untilSubscribed(a, b.peerId, 't')
  await untilSubscribed(c, b.peerId, 't')
  await untilSubscribed(b, a.peerId, 't')
  await untilSubscribed(b, c.peerId, 't')
  const got = { a: collect(a), b: collect(b), c: collect(c) }
  const r = await a.services.pubsub.publish('t', enc.encode('hello'))
  assert.deepEqual(r.recipients.map(p => p.toString()), [b.peerId.toString()])
  await c.services.pubsub.publish('t', enc.encode('from c'))
  await untilCount(c, got.c, 1)
  await untilCount(a, got.a, 1)
  await untilCount(b, got.b, 2)
  const m = got.c[0]
  assert.equal(m.type, 'signed')
  assert.equal(new TextDecoder().decode(m.data), 'hello')
  assert.ok(m.type === 'signed' && m.from.equals(a.peerId))
  assert.ok(m.propagationSource.equals(b.peerId))
  // go's default id: from || seqno
  assert.deepEqual([...m.msgId.subarray(0, a.peerId.bytes.length)], [...a.peerId.bytes])
  assert.equal(m.msgId.length, a.peerId.bytes.length + 8)
  assert.equal(got.a.length, 1, 'the author does not get its own message back')
  assert.equal(a.services.pubsub.protocols[0], FLOODSUB_PROTOCOL)
})

test('floodsub: validators reject and ignore; unsubscribed nodes get nothing', async (t) => {
  const [a, b] = await Promise.all([0, 1].map(async () => await createPubSubNode(floodsub())))
  t.after(async () => { await Promise.all([a.stop(), b.stop()]) })
  b.services.pubsub.subscribe('v')
  a.services.pubsub.subscribe('v')
  b.services.pubsub.topicValidators.set('v', async (_from, msg) => {
    const text = new TextDecoder().decode(msg.data)
    return text === 'bad' ? TopicValidatorResult.Reject : text === 'meh' ? TopicValidatorResult.Ignore : TopicValidatorResult.Accept
  })
  await connect(a, b)
  await untilSubscribed(a, b.peerId, 'v')
  const got = collect(b)
  for (const text of ['bad', 'meh', 'good']) await a.services.pubsub.publish('v', enc.encode(text))
  await untilCount(b, got, 1)
  assert.deepEqual(got.map(m => new TextDecoder().decode(m.data)), ['good'])
  b.services.pubsub.unsubscribe('v')
  await until(a.services.pubsub, ['subscription-change'], () => a.services.pubsub.getSubscribers('v').length === 0)
  assert.deepEqual(b.services.pubsub.getTopics(), [])
  await a.services.pubsub.publish('v', enc.encode('late'))
  const r = await a.services.pubsub.publish('v', enc.encode('late'))
  assert.deepEqual(r.recipients, [])
})
