/**
 * Attacks on a scoring GossipSub node over real connections: a peer forging signatures and a
 * peer flooding IWANT and IHAVE get scores below the graylist threshold, and honest delivery
 * goes on. (Spam rejected by a validator: attack-spam.test.ts; colocated sybils:
 * attack-sybil.test.ts.)
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { gossipsub, DEFAULT_TOPIC_SCORE_PARAMS, DEFAULT_PEER_SCORE_THRESHOLDS } from '../../src/pubsub/gossipsub/index.ts'
import { decodeRpc, emptyControl, encodeRpcFrame, type ControlMessage, type Rpc } from '../../src/pubsub/rpc.ts'
import { DEFAULT_GOSSIPSUB_PARAMS } from '../../src/pubsub/gossipsub/params.ts'
import { StreamReader } from '../../src/util/stream-reader.ts'
import type { Stream } from '../../src/interface/stream.ts'
import { buildMessage, StrictSign } from '../../src/pubsub/sign.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { collect, connect, createPubSubNode, until, untilCount, untilSubscribed } from './helpers.ts'

const TOPIC = 'attacked'
const scoring = {
  heartbeatInterval: 100,
  scoreParams: { topics: { [TOPIC]: { ...DEFAULT_TOPIC_SCORE_PARAMS, topicWeight: 1 } } },
  scoreThresholds: DEFAULT_PEER_SCORE_THRESHOLDS
}

async function rawAttacker () {
  return await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, services: { identify: identify() } })
}

test('attack: forged signatures sink the sender below the graylist threshold; honest messages still arrive', async (t) => {
  const victim = await createPubSubNode(gossipsub(scoring))
  const honest = await createPubSubNode(gossipsub(scoring))
  const attacker = await rawAttacker()
  t.after(async () => { await Promise.all([victim.stop(), honest.stop(), attacker.stop()]) })
  victim.services.pubsub.subscribe(TOPIC)
  honest.services.pubsub.subscribe(TOPIC)
  await connect(honest, victim)
  await untilSubscribed(honest, victim.peerId, TOPIC)
  const stream = await attacker.dialProtocol(victim.getMultiaddrs()[0], '/meshsub/1.1.0')
  const key = await generateKeyPair('Ed25519')
  const author = peerIdFromPrivateKey(key)
  for (let i = 0; i < 20; i++) {
    const msg = await buildMessage(StrictSign, key, author, TOPIC, new Uint8Array([i]))
    msg.signature = new Uint8Array(64) // forged
    const rpc: Rpc = { subscriptions: i === 0 ? [{ subscribe: true, topic: TOPIC }] : [], messages: [msg] }
    await stream.write(encodeRpcFrame(rpc))
  }
  const ps = victim.services.pubsub
  // scores have no change event: look again every few ms (invalid messages are handled async)
  const deadline = Date.now() + 5_000
  while (ps.getScore(attacker.peerId) >= DEFAULT_PEER_SCORE_THRESHOLDS.graylistThreshold && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  assert.ok(ps.getScore(attacker.peerId) < DEFAULT_PEER_SCORE_THRESHOLDS.graylistThreshold, `score ${ps.getScore(attacker.peerId)}`)
  const got = collect(victim)
  await honest.services.pubsub.publish(TOPIC, new TextEncoder().encode('still here'))
  await untilCount(victim, got, 1)
  assert.equal(new TextDecoder().decode(got[0].data), 'still here')
  assert.ok(ps.getScore(honest.peerId) >= 0)
})

test('attack: IWANT flooding gets a message at most gossipRetransmission times; IHAVE flooding is capped per heartbeat, broken promises graylist the peer; honest delivery goes on', async (t) => {
  const victim = await createPubSubNode(gossipsub({ ...scoring, heartbeatInterval: 1000, iwantFollowupTime: 200 }))
  const honest = await createPubSubNode(gossipsub(scoring))
  const attacker = await rawAttacker()
  t.after(async () => { await Promise.all([victim.stop(), honest.stop(), attacker.stop()]) })
  victim.services.pubsub.subscribe(TOPIC)
  honest.services.pubsub.subscribe(TOPIC)
  await connect(honest, victim)
  await untilSubscribed(honest, victim.peerId, TOPIC)
  const got = collect(victim)
  await honest.services.pubsub.publish(TOPIC, new TextEncoder().encode('cached'))
  await untilCount(victim, got, 1)
  const cachedId = got[0].msgId

  // everything the victim sends the attacker, decoded: copies of the cached message, ids asked for
  let copies = 0
  const asked: string[] = []
  const progress = new EventTarget()
  const inbound = new Promise<Stream>((resolve) => {
    // the victim opens its own stream to us: its IWANTs and IWANT answers arrive there
    void attacker.handle('/meshsub/1.1.0', (s) => { resolve(s) })
  })
  const stream = await attacker.dialProtocol(victim.getMultiaddrs()[0], '/meshsub/1.1.0')
  await stream.write(encodeRpcFrame({ subscriptions: [{ subscribe: true, topic: TOPIC }], messages: [] }))
  const fromVictim = await inbound
  void (async () => {
    const reader = new StreamReader(fromVictim)
    for (;;) {
      const frame = await reader.readLP({ maxLength: 1 << 20 })
      if (frame === null) break
      const rpc = decodeRpc(frame.slice())
      for (const m of rpc.messages) if (m.data !== undefined && new TextDecoder().decode(m.data) === 'cached') copies++
      for (const w of rpc.control?.iwant ?? []) for (const id of w.messageIds) asked.push(new TextDecoder().decode(id))
      progress.dispatchEvent(new Event('rpc'))
    }
  })().catch(() => {})
  const control = (c: Partial<ControlMessage>): Uint8Array => encodeRpcFrame({ subscriptions: [], messages: [], control: { ...emptyControl(), ...c } })

  // IWANT flood: the same cached id 50 times (plus ids the victim never had), then one IHAVE
  // whose IWANT answer, on the same ordered stream, tells us the victim got through the flood
  for (let i = 0; i < 50; i++) {
    const unknown = Array.from({ length: 100 }, (_, j) => new TextEncoder().encode(`unknown-${i}-${j}`))
    await stream.write(control({ iwant: [{ messageIds: [cachedId, ...unknown] }] }))
  }
  await stream.write(control({ ihave: [{ topic: TOPIC, messageIds: [new TextEncoder().encode('marker')] }] }))
  await until(progress, ['rpc'], () => asked.includes('marker'), 10_000, 'the IWANT for the marker')
  assert.equal(copies, DEFAULT_GOSSIPSUB_PARAMS.gossipRetransmission, 'the cached message is resent at most gossipRetransmission times')

  // IHAVE flood: 40 IHAVEs of 50 fake ids each, within one or two heartbeats
  const askedBefore = asked.length
  for (let round = 0; round < 40; round++) {
    const ids = Array.from({ length: 50 }, (_, i) => new TextEncoder().encode(`fake-${round}-${i}`))
    await stream.write(control({ ihave: [{ topic: TOPIC, messageIds: ids }] }))
  }
  const ps = victim.services.pubsub
  // scores have no change event: look again every few ms (promises expire at the heartbeat)
  const deadline = Date.now() + 15_000
  while (ps.getScore(attacker.peerId) >= DEFAULT_PEER_SCORE_THRESHOLDS.graylistThreshold && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
  assert.ok(ps.getScore(attacker.peerId) < DEFAULT_PEER_SCORE_THRESHOLDS.graylistThreshold, `unfulfilled IWANT promises graylist the peer (score ${ps.getScore(attacker.peerId)})`)
  // at most maxIHaveMessages (10) IHAVEs per heartbeat are answered (the marker was one of
  // them); the 40 arrive within at most two heartbeats, so no more than 20 x 50 ids are asked for
  const askedInFlood = asked.length - askedBefore
  assert.ok(askedInFlood > 0 && askedInFlood <= 20 * 50, `victim asked for ${askedInFlood} ids`)
  t.diagnostic(`IWANT flood: ${copies} copies sent; IHAVE flood of 2000 ids: ${askedInFlood} asked for; attacker score ${ps.getScore(attacker.peerId).toFixed(0)}`)

  // honest delivery goes on while the attacker is graylisted
  for (let i = 0; i < 20; i++) await honest.services.pubsub.publish(TOPIC, new TextEncoder().encode(`after ${i}`))
  await untilCount(victim, got, 21)
  assert.deepEqual(got.slice(1).map(m => new TextDecoder().decode(m.data)).sort(), Array.from({ length: 20 }, (_, i) => `after ${i}`).sort())
  assert.ok(ps.getScore(honest.peerId) >= 0)
})
