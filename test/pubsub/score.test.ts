/** GossipSub v1.1 peer scoring: each score component, decay, retention and parameter checks. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PeerScore } from '../../src/pubsub/gossipsub/score.ts'
import { DEFAULT_PEER_SCORE_PARAMS, DEFAULT_PEER_SCORE_THRESHOLDS, DEFAULT_TOPIC_SCORE_PARAMS, peerScoring, validatePeerScoreParams, validateThresholds, type PeerScoreParams } from '../../src/pubsub/gossipsub/score-params.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { InvalidParametersError } from '../../src/util/errors.ts'

const peerA = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

function setup (overrides: Partial<PeerScoreParams> = {}): { score: PeerScore, clock: { now: number } } {
  const clock = { now: 1_000_000 }
  const params: PeerScoreParams = { ...DEFAULT_PEER_SCORE_PARAMS, topics: { t: { ...DEFAULT_TOPIC_SCORE_PARAMS, topicWeight: 1 } }, topicScoreCap: 0, ...overrides }
  validatePeerScoreParams(params)
  return { score: new PeerScore(params, () => clock.now), clock }
}

test('score: P1 time in mesh grows with mesh time up to its cap, P2 first deliveries count', () => {
  const { score, clock } = setup()
  score.addPeer('a', peerA, ['10.0.0.1'])
  assert.equal(score.score('a'), 0)
  score.graft('a', 't')
  clock.now += 3000
  score.refresh()
  assert.equal(score.score('a'), 3, '3 quanta of 1 s in the mesh')
  score.validating('a', 'm1')
  score.deliverMessage('a', 'm1', 't')
  assert.equal(score.score('a'), 4)
})

test('score: P3 mesh delivery deficit after activation and P3b sticky failure penalty on prune', () => {
  const { score, clock } = setup()
  score.addPeer('a', peerA, [])
  score.graft('a', 't')
  clock.now += 6000 // past the 5 s activation
  score.refresh()
  // 6 (P1) - 20^2 (deficit: threshold 20, nothing delivered); decay ran, but nothing to decay
  assert.equal(score.score('a'), 6 - 400)
  score.prune('a', 't')
  assert.equal(score.score('a'), -400, 'P3b keeps the deficit after the prune')
  clock.now += 1000
  score.refresh()
  assert.equal(score.score('a'), -200, 'and decays it')
})

test('score: invalid messages (P4) and behaviour penalty (P7) push a peer below the graylist threshold; decay forgives', () => {
  const { score, clock } = setup()
  score.addPeer('a', peerA, [])
  for (let i = 0; i < 10; i++) score.rejectMessage('a', `bad${i}`, 't')
  assert.equal(score.score('a'), -100)
  assert.ok(score.score('a') < DEFAULT_PEER_SCORE_THRESHOLDS.graylistThreshold)
  for (let i = 0; i < 20; i++) {
    clock.now += 1000
    score.refresh()
  }
  assert.equal(score.score('a'), 0)
  score.addPenalty('a', 4)
  assert.equal(score.score('a'), -10 * 16)
  // duplicates of an invalid message also count against the relayer
  score.rejectMessage('a', 'x', 't')
  score.duplicateMessage('a', 'x', 't')
  assert.ok(score.score('a') < -160)
})

test('score: IP colocation (P6) penalises peers sharing an address beyond the threshold, unless whitelisted', async () => {
  const { score } = setup({ IPColocationFactorThreshold: 2 })
  const ids = await Promise.all([0, 1, 2, 3].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
  ids.forEach((id, i) => { score.addPeer(`p${i}`, id, ['1.2.3.4']) })
  assert.equal(score.score('p0'), -5 * 4, 'surplus of 2 squared, weight -5')
  score.removePeer('p3')
  assert.equal(score.score('p0'), -5)
  const wl = setup({ IPColocationFactorThreshold: 1, IPColocationFactorWhitelist: new Set(['1.2.3.4']) }).score
  ids.forEach((id, i) => { wl.addPeer(`p${i}`, id, ['1.2.3.4']) })
  assert.equal(wl.score('p0'), 0)
})

test('score: P5 application score; a bad score survives reconnecting until retainScore passes', () => {
  const { score, clock } = setup({ appSpecificScore: (p) => p.equals(peerA) ? 2 : 0, retainScore: 10_000 })
  score.addPeer('a', peerA, [])
  assert.equal(score.score('a'), 20)
  score.addPenalty('a', 3)
  const bad = score.score('a')
  assert.ok(bad < 0)
  score.removePeer('a')
  score.addPeer('a', peerA, [])
  assert.equal(score.score('a'), bad, 'reconnecting does not reset it')
  score.removePeer('a')
  clock.now += 11_000
  score.refresh()
  score.addPeer('a', peerA, [])
  assert.equal(score.score('a'), 20)
})

test('score: invalid parameters and thresholds are refused', () => {
  assert.throws(() => { validatePeerScoreParams({ ...DEFAULT_PEER_SCORE_PARAMS, behaviourPenaltyWeight: 1 }) }, InvalidParametersError)
  assert.throws(() => { validatePeerScoreParams({ ...DEFAULT_PEER_SCORE_PARAMS, topics: { t: { ...DEFAULT_TOPIC_SCORE_PARAMS, invalidMessageDeliveriesDecay: 1 } } }) }, InvalidParametersError)
  assert.throws(() => { validateThresholds({ ...DEFAULT_PEER_SCORE_THRESHOLDS, gossipThreshold: 1 }) }, InvalidParametersError)
  assert.throws(() => { validateThresholds({ ...DEFAULT_PEER_SCORE_THRESHOLDS, graylistThreshold: 0 }) }, InvalidParametersError)
})

test('peerScoring: no scoring means zero thresholds (nobody excluded); with scoring, defaults under the options, validated', () => {
  const off = peerScoring({ scoreThresholds: { acceptPXThreshold: 5 } })
  assert.equal(off.params, undefined)
  assert.deepEqual(off.thresholds, { gossipThreshold: 0, publishThreshold: 0, graylistThreshold: 0, acceptPXThreshold: 5, opportunisticGraftThreshold: 0 })
  const on = peerScoring({ scoreParams: { topicScoreCap: 7 }, scoreThresholds: { gossipThreshold: -1 } })
  assert.equal(on.params?.topicScoreCap, 7)
  assert.equal(on.params?.decayInterval, DEFAULT_PEER_SCORE_PARAMS.decayInterval)
  assert.deepEqual(on.thresholds, { ...DEFAULT_PEER_SCORE_THRESHOLDS, gossipThreshold: -1 })
  assert.throws(() => peerScoring({ scoreParams: {}, scoreThresholds: { gossipThreshold: 1 } }), InvalidParametersError)
})

test('score parts (dashboard): each part is its weighted term and they sum to the score', () => {
  const { score, clock } = setup()
  score.addPeer('a', peerA, [])
  assert.equal(score.parts('unknown'), undefined)
  score.graft('a', 't')
  clock.now += 3000
  score.refresh()
  score.addPenalty('a', 4)
  const parts = score.parts('a')
  assert.deepEqual(parts, { topics: 3, app: 0, ipColocation: 0, behaviour: -160 })
  assert.equal(score.score('a'), parts.topics + parts.app + parts.ipColocation + parts.behaviour)
})
