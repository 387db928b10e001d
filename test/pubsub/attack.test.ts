/**
 * Attacks on a scoring GossipSub node over real connections: a peer forging signatures and a
 * peer flooding IHAVE get scores below the graylist threshold, and honest delivery goes on.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { gossipsub, DEFAULT_TOPIC_SCORE_PARAMS, DEFAULT_PEER_SCORE_THRESHOLDS } from '../../src/pubsub/gossipsub/index.ts'
import { encodeRpcFrame, type Rpc } from '../../src/pubsub/rpc.ts'
import { buildMessage, StrictSign } from '../../src/pubsub/sign.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { collect, connect, createPubSubNode, untilCount, untilSubscribed } from './helpers.ts'

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

test('attack: IHAVE flooding is capped per heartbeat and broken promises are penalised', async (t) => {
  const victim = await createPubSubNode(gossipsub({ ...scoring, heartbeatInterval: 1000, iwantFollowupTime: 200 }))
  const attacker = await rawAttacker()
  t.after(async () => { await Promise.all([victim.stop(), attacker.stop()]) })
  victim.services.pubsub.subscribe(TOPIC)
  const inbound = new Promise<import('../../src/interface/stream.ts').Stream>((resolve) => {
    // the victim opens its own stream to us, where IWANTs arrive
    void attacker.handle('/meshsub/1.1.0', (s) => { resolve(s) })
  })
  const stream = await attacker.dialProtocol(victim.getMultiaddrs()[0], '/meshsub/1.1.0')
  await stream.write(encodeRpcFrame({ subscriptions: [{ subscribe: true, topic: TOPIC }], messages: [] }))
  const fromVictim = await inbound
  let iwantBytes = 0
  void (async () => { for await (const chunk of fromVictim) iwantBytes += chunk.length })().catch(() => {})
  for (let round = 0; round < 40; round++) {
    const ids = Array.from({ length: 50 }, (_, i) => new TextEncoder().encode(`fake-${round}-${i}`))
    await stream.write(encodeRpcFrame({ subscriptions: [], messages: [], control: { ihave: [{ topic: TOPIC, messageIds: ids }], iwant: [], graft: [], prune: [], idontwant: [] } }))
  }
  const ps = victim.services.pubsub
  const deadline = Date.now() + 15_000
  while (ps.getScore(attacker.peerId) >= 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
  assert.ok(ps.getScore(attacker.peerId) < 0, 'unfulfilled IWANT promises cost score')
  // at most maxIHaveMessages (10) IHAVEs per heartbeat are answered; the 40 arrive within at
  // most two heartbeats, so no more than 20 x 50 ids (each at most 16 bytes on the wire) come back
  assert.ok(iwantBytes > 0 && iwantBytes <= 20 * 50 * 16, `victim asked for ${iwantBytes} bytes of ids`)
})
