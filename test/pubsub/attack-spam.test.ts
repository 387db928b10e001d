/**
 * Attack: a peer spams a scoring GossipSub node with properly signed messages that the topic
 * validator rejects, as fast as it can write them. Its score falls below the graylist
 * threshold (P4, invalid messages), after which its RPCs are dropped unread; no spam reaches
 * the application or another peer, and every honest message still arrives exactly once.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { gossipsub, DEFAULT_TOPIC_SCORE_PARAMS, DEFAULT_PEER_SCORE_THRESHOLDS, TopicValidatorResult, type GossipSub } from '../../src/pubsub/gossipsub/index.ts'
import { GOSSIPSUB_PROTOCOL_V11 } from '../../src/pubsub/gossipsub/params.ts'
import { encodeRpcFrame, type PubSubRpcMessage } from '../../src/pubsub/rpc.ts'
import { buildMessage, StrictSign } from '../../src/pubsub/sign.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { collect, connect, createPubSubNode, until, untilCount, untilSubscribed } from './helpers.ts'

const TOPIC = 'spammed'
const SPAM = 3000
const HONEST = 50
const enc = new TextEncoder()
const dec = new TextDecoder()
const scoring = {
  heartbeatInterval: 100,
  // No decay during the test: on a loaded machine a second of decay could lift the attacker back
  // above the graylist threshold before the last check, which is about the graylist holding.
  scoreParams: { decayInterval: 3_600_000, topics: { [TOPIC]: { ...DEFAULT_TOPIC_SCORE_PARAMS, topicWeight: 1 } } },
  scoreThresholds: DEFAULT_PEER_SCORE_THRESHOLDS
}

/** Scores have no change event: look again every few ms, within a deadline. */
async function untilScore (ps: GossipSub, peer: Parameters<GossipSub['getScore']>[0], below: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (ps.getScore(peer) >= below && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
}

test('attack: a peer spamming messages the validator rejects is graylisted; no spam is delivered or forwarded; honest delivery stays at 100%', async (t) => {
  const victim = await createPubSubNode<GossipSub>(gossipsub(scoring))
  const honest = await createPubSubNode<GossipSub>(gossipsub(scoring))
  const attacker = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, services: { identify: identify() } })
  t.after(async () => { await Promise.all([victim.stop(), honest.stop(), attacker.stop()]) })
  let validatedFromAttacker = 0
  victim.services.pubsub.topicValidators.set(TOPIC, (from, msg) => {
    if (from.equals(attacker.peerId)) validatedFromAttacker++
    return dec.decode(msg.data).startsWith('spam') ? TopicValidatorResult.Reject : TopicValidatorResult.Accept
  })
  victim.services.pubsub.subscribe(TOPIC)
  honest.services.pubsub.subscribe(TOPIC)
  await connect(honest, victim)
  await untilSubscribed(honest, victim.peerId, TOPIC)
  await untilSubscribed(victim, honest.peerId, TOPIC)
  const atVictim = collect(victim)
  const atHonest = collect(honest)

  // the attacker signs with its own key (valid signatures): only the validator can stop it
  await attacker.handle(GOSSIPSUB_PROTOCOL_V11, (stream) => { void (async () => { for await (const _ of stream) { /* drain */ } })().catch(() => {}) })
  const stream = await attacker.dialProtocol(victim.getMultiaddrs()[0], GOSSIPSUB_PROTOCOL_V11)
  const key = await generateKeyPair('Ed25519')
  const spam: PubSubRpcMessage[] = []
  for (let i = 0; i < SPAM; i++) spam.push(await buildMessage(StrictSign, key, peerIdFromPrivateKey(key), TOPIC, enc.encode(`spam ${i}`)))
  const flooding = (async () => {
    await stream.write(encodeRpcFrame({ subscriptions: [{ subscribe: true, topic: TOPIC }], messages: [] }))
    for (let i = 0; i < SPAM; i += 10) await stream.write(encodeRpcFrame({ subscriptions: [], messages: spam.slice(i, i + 10) }))
  })()
  for (let i = 0; i < HONEST; i++) await honest.services.pubsub.publish(TOPIC, enc.encode(`honest ${i}`))
  await flooding.catch(() => {}) // the victim may cut the stream once it ignores the attacker
  const ps = victim.services.pubsub
  await untilScore(ps, attacker.peerId, DEFAULT_PEER_SCORE_THRESHOLDS.graylistThreshold)
  assert.ok(ps.getScore(attacker.peerId) < DEFAULT_PEER_SCORE_THRESHOLDS.graylistThreshold, `attacker score ${ps.getScore(attacker.peerId)}`)
  assert.ok(ps.getScore(honest.peerId) >= 0, `honest score ${ps.getScore(honest.peerId)}`)

  await untilCount(victim, atVictim, HONEST)
  // and after the graylisting, honest messages keep flowing
  for (let i = HONEST; i < 2 * HONEST; i++) await honest.services.pubsub.publish(TOPIC, enc.encode(`honest ${i}`))
  await untilCount(victim, atVictim, 2 * HONEST)
  const texts = atVictim.map(m => dec.decode(m.data))
  assert.deepEqual([...texts].sort(), Array.from({ length: 2 * HONEST }, (_, i) => `honest ${i}`).sort(), 'each honest message exactly once, no spam')
  assert.equal(atHonest.length, 0, 'the victim forwarded nothing to the honest peer (rejected messages are not relayed)')
  // once graylisted, the rest of the flood was dropped before validation
  assert.ok(validatedFromAttacker < SPAM, `${validatedFromAttacker} of ${SPAM} spam messages were validated`)
  t.diagnostic(`${validatedFromAttacker} of ${SPAM} spam messages reached the validator; attacker score ${ps.getScore(attacker.peerId).toFixed(0)}`)
  // the graylist holds while the attack goes on: a fresh batch is not even validated
  const before = validatedFromAttacker
  await stream.write(encodeRpcFrame({ subscriptions: [], messages: [await buildMessage(StrictSign, key, peerIdFromPrivateKey(key), TOPIC, enc.encode('spam again'))] })).catch(() => {})
  await honest.services.pubsub.publish(TOPIC, enc.encode('marker'))
  await until(ps, ['message'], () => atVictim.some(m => dec.decode(m.data) === 'marker'), 10_000, 'marker')
  assert.equal(validatedFromAttacker, before)
})
