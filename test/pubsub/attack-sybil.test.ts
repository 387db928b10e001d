/**
 * Attack: a sybil group on one IP address. Six GossipSub nodes listen on 127.0.0.66 and
 * subscribe to the topic but never relay (their validator ignores every message, so nothing
 * is forwarded or delivered): if they filled the victim's mesh, the victim would be eclipsed.
 * The victim dials everyone, so each connection's remote address carries the peer's listening
 * IP; honest peers each have their own loopback address (127.0.0.11-13). With an IP
 * colocation threshold of 1, P6 puts every sybil below the graylist threshold once the group
 * has connected: none stays in the mesh, and every message of an honest publisher (reachable only through honest relays and
 * the sybils) still reaches the victim exactly once.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { gossipsub, DEFAULT_TOPIC_SCORE_PARAMS, DEFAULT_PEER_SCORE_THRESHOLDS, TopicValidatorResult, type GossipSub, type GossipSubOptions } from '../../src/pubsub/gossipsub/index.ts'
import { collect, until, untilCount, untilSubscribed, type PubSubNode } from './helpers.ts'

const TOPIC = 'sybil-target'
const SYBILS = 6
const MESSAGES = 30
const SYBIL_IP = '127.0.0.66'
const enc = new TextEncoder()

async function nodeOn (ip: string, options: GossipSubOptions): Promise<PubSubNode<GossipSub>> {
  return await createLibp2p({
    addresses: { listen: [`/ip4/${ip}/tcp/0`] },
    services: { identify: identify(), pubsub: gossipsub(options) }
  }) as unknown as PubSubNode<GossipSub>
}

test('attack: colocated sybils fall below the graylist threshold (P6), stay out of the mesh, and honest delivery stays at 100%', async (t) => {
  const victim = await nodeOn('127.0.0.1', {
    heartbeatInterval: 100,
    scoreParams: { topics: { [TOPIC]: { ...DEFAULT_TOPIC_SCORE_PARAMS, topicWeight: 1 } }, IPColocationFactorThreshold: 1, IPColocationFactorWeight: -5 },
    scoreThresholds: DEFAULT_PEER_SCORE_THRESHOLDS
  })
  const relays = await Promise.all(['127.0.0.11', '127.0.0.12'].map(async ip => await nodeOn(ip, { heartbeatInterval: 100 })))
  const publisher = await nodeOn('127.0.0.13', { heartbeatInterval: 100 })
  const sybils = await Promise.all(Array.from({ length: SYBILS }, async () => await nodeOn(SYBIL_IP, { heartbeatInterval: 100 })))
  const all = [victim, ...relays, publisher, ...sybils]
  t.after(async () => { await Promise.all(all.map(async n => { await n.stop() })) })
  for (const s of sybils) s.services.pubsub.topicValidators.set(TOPIC, () => TopicValidatorResult.Ignore)
  for (const n of all) n.services.pubsub.subscribe(TOPIC)

  // the victim dials relays and sybils; the publisher reaches it only through them
  for (const peer of [...relays, ...sybils]) {
    await victim.dial(peer.getMultiaddrs()[0])
    await publisher.dial(peer.getMultiaddrs()[0])
  }
  assert.equal(victim.getConnections(publisher.peerId).length, 0)
  for (const s of sybils) {
    assert.ok(victim.getConnections(s.peerId).every(c => c.remoteAddr.toString().startsWith(`/ip4/${SYBIL_IP}/`)))
  }
  const ps = victim.services.pubsub
  // sybils that connected early may have been heard before the group grew past the threshold;
  // later ones are ignored from the start: wait for the relays only
  for (const r of relays) await untilSubscribed(victim, r.peerId, TOPIC)
  await until(ps, ['gossipsub:graft'], () => ps.getMeshPeers(TOPIC).length >= relays.length, 20_000, 'victim meshes with the relays')
  const pubPs = publisher.services.pubsub
  await until(pubPs, ['subscription-change'], () => pubPs.getSubscribers(TOPIC).length === relays.length + SYBILS, 20_000, 'publisher knows its subscribers')

  for (const s of sybils) {
    const score = ps.getScore(s.peerId)
    assert.ok(score < DEFAULT_PEER_SCORE_THRESHOLDS.graylistThreshold, `sybil score ${score}`)
  }
  for (const r of relays) assert.ok(ps.getScore(r.peerId) >= 0, `relay score ${ps.getScore(r.peerId)}`)

  const got = collect(victim)
  for (let i = 0; i < MESSAGES; i++) await pubPs.publish(TOPIC, enc.encode(`m${i}`))
  await untilCount(victim, got, MESSAGES)
  assert.deepEqual(got.map(m => new TextDecoder().decode(m.data)).sort(), Array.from({ length: MESSAGES }, (_, i) => `m${i}`).sort())
  for (const m of got) assert.ok(relays.some(r => r.peerId.equals(m.propagationSource)), 'relayed by an honest peer')
  const mesh = ps.getMeshPeers(TOPIC)
  assert.ok(!mesh.some(p => sybils.some(s => s.peerId.equals(p))), 'no sybil in the mesh')
  t.diagnostic(`sybil scores ${sybils.map(s => ps.getScore(s.peerId)).join(', ')}; relay scores ${relays.map(r => ps.getScore(r.peerId).toFixed(1)).join(', ')}; victim mesh ${mesh.length}`)
})
