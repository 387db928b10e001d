/** GossipSub between real ts-libp2p nodes over loopback TCP. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { gossipsub, type GossipSub } from '../../src/pubsub/gossipsub/index.ts'
import { floodsub, FLOODSUB_PROTOCOL } from '../../src/pubsub/floodsub/floodsub.ts'
import { GOSSIPSUB_PROTOCOL_V12 } from '../../src/pubsub/gossipsub/params.ts'
import { collect, connect, createPubSubNode, until, untilCount, untilSubscribed, type PubSubNode } from './helpers.ts'

const enc = new TextEncoder()

async function untilMeshes (nodes: Array<PubSubNode<GossipSub>>, topic: string, min: number): Promise<void> {
  await Promise.all(nodes.map(async (n) => {
    const ps = n.services.pubsub
    await until(ps, ['gossipsub:graft', 'subscription-change'], () => ps.getMeshPeers(topic).length >= min, 20_000, `mesh of ${min} on ${n.peerId.toString()}`)
  }))
}

test('gossipsub: 12 nodes in a ring with chords; every message reaches every subscriber exactly once; mesh within bounds', async (t) => {
  const N = 12
  const nodes = await Promise.all(Array.from({ length: N }, async () => await createPubSubNode(gossipsub({ heartbeatInterval: 200 }))))
  t.after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })
  for (const n of nodes) n.services.pubsub.subscribe('chat')
  for (let i = 0; i < N; i++) {
    await connect(nodes[i], nodes[(i + 1) % N])
    await connect(nodes[i], nodes[(i + 5) % N])
  }
  await untilMeshes(nodes, 'chat', 2)
  const got = nodes.map(n => collect(n))
  for (let i = 0; i < N; i++) await nodes[i].services.pubsub.publish('chat', enc.encode(`m${i}`))
  await Promise.all(nodes.map(async (n, i) => { await untilCount(n, got[i], N - 1) }))
  for (let i = 0; i < N; i++) {
    const texts = got[i].map(m => new TextDecoder().decode(m.data)).sort()
    const want = Array.from({ length: N }, (_, j) => `m${j}`).filter(x => x !== `m${i}`).sort()
    assert.deepEqual(texts, want, `node ${i}`)
  }
  for (const n of nodes) {
    const mesh = n.services.pubsub.getMeshPeers('chat').length
    assert.ok(mesh >= 1 && mesh <= 12, `mesh size ${mesh}`)
    for (const p of n.services.pubsub.getMeshPeers('chat')) {
      assert.ok(n.services.pubsub.getSubscribers('chat').some(s => s.equals(p)))
    }
  }
  assert.equal(nodes[0].services.pubsub.protocols[0], GOSSIPSUB_PROTOCOL_V12)
})

test('gossipsub: without flood publishing, a non-subscriber publishes through fanout and late joiners graft', async (t) => {
  const nodes = await Promise.all(Array.from({ length: 4 }, async () => await createPubSubNode(gossipsub({ floodPublish: false, heartbeatInterval: 100 }))))
  t.after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })
  const [pub, ...subs] = nodes
  for (const s of subs) s.services.pubsub.subscribe('news')
  for (const s of subs) await connect(pub, s)
  await connect(subs[0], subs[1])
  for (const s of subs) await untilSubscribed(pub, s.peerId, 'news')
  const got = subs.map(s => collect(s))
  await pub.services.pubsub.publish('news', enc.encode('x'))
  assert.equal(pub.services.pubsub.getFanoutPeers('news').length, 3)
  assert.deepEqual(pub.services.pubsub.getMeshPeers('news'), [])
  await Promise.all(subs.map(async (s, i) => { await untilCount(s, got[i], 1) }))
  // subscribing turns the fanout into the mesh
  pub.services.pubsub.subscribe('news')
  assert.equal(pub.services.pubsub.getMeshPeers('news').length, 3)
  assert.equal(pub.services.pubsub.getFanoutPeers('news').length, 0)
  await until(subs[2].services.pubsub, ['gossipsub:graft'], () => subs[2].services.pubsub.getMeshPeers('news').some(p => p.equals(pub.peerId)))
  // leaving prunes: the others drop us from their mesh
  pub.services.pubsub.unsubscribe('news')
  await until(subs[2].services.pubsub, ['gossipsub:prune', 'subscription-change'], () => !subs[2].services.pubsub.getMeshPeers('news').some(p => p.equals(pub.peerId)))
})

test('gossipsub: a floodsub node and gossipsub nodes exchange messages', async (t) => {
  const g1 = await createPubSubNode(gossipsub({ heartbeatInterval: 100 }))
  const g2 = await createPubSubNode(gossipsub({ heartbeatInterval: 100 }))
  const f = await createPubSubNode(floodsub())
  t.after(async () => { await Promise.all([g1.stop(), g2.stop(), f.stop()]) })
  for (const n of [g1, g2, f]) n.services.pubsub.subscribe('mix')
  await connect(f, g1)
  await connect(g1, g2)
  await untilSubscribed(g1, f.peerId, 'mix')
  await untilSubscribed(f, g1.peerId, 'mix')
  await untilSubscribed(g2, g1.peerId, 'mix')
  await untilMeshes([g1, g2], 'mix', 1)
  const got = { g1: collect(g1), g2: collect(g2), f: collect(f) }
  await f.services.pubsub.publish('mix', enc.encode('from floodsub'))
  await g2.services.pubsub.publish('mix', enc.encode('from gossipsub'))
  await untilCount(g2, got.g2, 1)
  await untilCount(f, got.f, 1)
  await untilCount(g1, got.g1, 2)
  assert.equal(new TextDecoder().decode(got.f[0].data), 'from gossipsub')
  assert.equal(new TextDecoder().decode(got.g2[0].data), 'from floodsub')
  // g1 talks floodsub to f: f is never in a mesh
  assert.ok(!g1.services.pubsub.getMeshPeers('mix').some(p => p.equals(f.peerId)))
  assert.equal(f.services.pubsub.protocols[0], FLOODSUB_PROTOCOL)
})

test('gossipsub: a message published before the mesh reaches a node by IHAVE/IWANT gossip', async (t) => {
  // a -- b -- c; b does not forward (it is not in a mesh with c yet) but gossips
  const opts = { floodPublish: false, heartbeatInterval: 100, D: 1, Dlo: 1, Dhi: 1, Dscore: 1, Dout: 0, Dlazy: 1 }
  const [a, b, c] = await Promise.all([0, 1, 2].map(async () => await createPubSubNode(gossipsub(opts))))
  t.after(async () => { await Promise.all([a.stop(), b.stop(), c.stop()]) })
  for (const n of [a, b, c]) n.services.pubsub.subscribe('g')
  await connect(a, b)
  await connect(c, b)
  await untilMeshes([a, c], 'g', 1)
  // b has a mesh of one: either a or c, so the other one learns by gossip
  const got = collect(c)
  const gotA = collect(a)
  await b.services.pubsub.publish('g', enc.encode('gossip me'))
  await untilCount(c, got, 1)
  await untilCount(a, gotA, 1)
  assert.equal(got.length, 1)
  assert.equal(gotA.length, 1)
})
