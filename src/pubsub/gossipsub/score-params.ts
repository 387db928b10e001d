/**
 * Peer scoring parameters and thresholds (gossipsub-v1.1.md "Peer Scoring"), with the checks
 * go applies to them so a misconfiguration fails at construction, not silently at run time.
 */
import type { PeerId } from '../../interface/peer-id.ts'
import { InvalidParametersError } from '../../util/errors.ts'

export interface TopicScoreParams {
  topicWeight: number
  /** P1: time in mesh. */
  timeInMeshWeight: number
  timeInMeshQuantum: number
  timeInMeshCap: number
  /** P2: first message deliveries. */
  firstMessageDeliveriesWeight: number
  firstMessageDeliveriesDecay: number
  firstMessageDeliveriesCap: number
  /** P3: mesh message delivery rate (weight <= 0). */
  meshMessageDeliveriesWeight: number
  meshMessageDeliveriesDecay: number
  meshMessageDeliveriesCap: number
  meshMessageDeliveriesThreshold: number
  /** Duplicates this soon after the first delivery still count for P3, in ms. */
  meshMessageDeliveriesWindow: number
  /** Time in mesh before P3 applies, in ms. */
  meshMessageDeliveriesActivation: number
  /** P3b: sticky mesh failure penalty (weight <= 0). */
  meshFailurePenaltyWeight: number
  meshFailurePenaltyDecay: number
  /** P4: invalid messages (weight <= 0). */
  invalidMessageDeliveriesWeight: number
  invalidMessageDeliveriesDecay: number
}

export interface PeerScoreParams {
  topics: Record<string, TopicScoreParams>
  /** Cap on the sum of positive topic contributions (0 = none). */
  topicScoreCap: number
  /** P5: application-specific score. */
  appSpecificScore: (peer: PeerId) => number
  appSpecificWeight: number
  /** P6: peers sharing an IP above the threshold (weight <= 0). */
  IPColocationFactorWeight: number
  IPColocationFactorThreshold: number
  IPColocationFactorWhitelist: Set<string>
  /** P7: behaviour penalty (weight <= 0). */
  behaviourPenaltyWeight: number
  behaviourPenaltyThreshold: number
  behaviourPenaltyDecay: number
  /** How often counters decay, in ms (1 s). */
  decayInterval: number
  /** Counters below this become 0 (0.01). */
  decayToZero: number
  /** How long a disconnected peer's score is remembered, in ms. */
  retainScore: number
}

export interface PeerScoreThresholds {
  /** Below: no gossip to or from the peer (<= 0). */
  gossipThreshold: number
  /** Below: our own messages are not sent to the peer (<= gossipThreshold). */
  publishThreshold: number
  /** Below: everything from the peer is ignored (<= publishThreshold). */
  graylistThreshold: number
  /** At least: PX from the peer is followed (>= 0). */
  acceptPXThreshold: number
  /** Median mesh score below which opportunistic grafting runs (>= 0). */
  opportunisticGraftThreshold: number
}

export const DEFAULT_TOPIC_SCORE_PARAMS: Readonly<TopicScoreParams> = Object.freeze({
  topicWeight: 0.5,
  timeInMeshWeight: 1,
  timeInMeshQuantum: 1000,
  timeInMeshCap: 3600,
  firstMessageDeliveriesWeight: 1,
  firstMessageDeliveriesDecay: 0.5,
  firstMessageDeliveriesCap: 2000,
  meshMessageDeliveriesWeight: -1,
  meshMessageDeliveriesDecay: 0.5,
  meshMessageDeliveriesCap: 100,
  meshMessageDeliveriesThreshold: 20,
  meshMessageDeliveriesWindow: 10,
  meshMessageDeliveriesActivation: 5000,
  meshFailurePenaltyWeight: -1,
  meshFailurePenaltyDecay: 0.5,
  invalidMessageDeliveriesWeight: -1,
  invalidMessageDeliveriesDecay: 0.3
})

export const DEFAULT_PEER_SCORE_PARAMS: Readonly<PeerScoreParams> = Object.freeze({
  topics: {},
  topicScoreCap: 10,
  appSpecificScore: () => 0,
  appSpecificWeight: 10,
  IPColocationFactorWeight: -5,
  IPColocationFactorThreshold: 10,
  IPColocationFactorWhitelist: new Set<string>(),
  behaviourPenaltyWeight: -10,
  behaviourPenaltyThreshold: 0,
  behaviourPenaltyDecay: 0.2,
  decayInterval: 1000,
  decayToZero: 0.1,
  retainScore: 3600 * 1000
})

export const DEFAULT_PEER_SCORE_THRESHOLDS: Readonly<PeerScoreThresholds> = Object.freeze({
  gossipThreshold: -10,
  publishThreshold: -50,
  graylistThreshold: -80,
  acceptPXThreshold: 10,
  opportunisticGraftThreshold: 20
})

/** Without scoring every score is 0, so no threshold may exclude anyone by default. */
const ZERO_THRESHOLDS: Readonly<PeerScoreThresholds> = Object.freeze({ gossipThreshold: 0, publishThreshold: 0, graylistThreshold: 0, acceptPXThreshold: 0, opportunisticGraftThreshold: 0 })

/**
 * The scoring a router runs with: with `scoreParams`, them over the defaults and the default
 * thresholds under `scoreThresholds`, both validated (InvalidParametersError); without, no
 * scoring and zero thresholds under `scoreThresholds`.
 */
export function peerScoring (options: { scoreParams?: Partial<PeerScoreParams>, scoreThresholds?: Partial<PeerScoreThresholds> }): { params: PeerScoreParams | undefined, thresholds: PeerScoreThresholds } {
  if (options.scoreParams === undefined) return { params: undefined, thresholds: { ...ZERO_THRESHOLDS, ...options.scoreThresholds } }
  const params = { ...DEFAULT_PEER_SCORE_PARAMS, ...options.scoreParams }
  validatePeerScoreParams(params)
  const thresholds = { ...DEFAULT_PEER_SCORE_THRESHOLDS, ...options.scoreThresholds }
  validateThresholds(thresholds)
  return { params, thresholds }
}

function check (ok: boolean, what: string): void {
  if (!ok) throw new InvalidParametersError(`invalid peer score parameter: ${what}`)
}

export function validateTopicScoreParams (topic: string, p: TopicScoreParams): void {
  check(p.topicWeight >= 0, `${topic}: topicWeight must be >= 0`)
  check(p.timeInMeshQuantum > 0, `${topic}: timeInMeshQuantum must be > 0`)
  check(p.timeInMeshWeight >= 0 && p.timeInMeshCap >= 0, `${topic}: timeInMesh weight and cap must be >= 0`)
  check(p.firstMessageDeliveriesWeight >= 0 && p.firstMessageDeliveriesCap >= 0, `${topic}: firstMessageDeliveries weight and cap must be >= 0`)
  check(p.meshMessageDeliveriesWeight <= 0 && p.meshFailurePenaltyWeight <= 0 && p.invalidMessageDeliveriesWeight <= 0, `${topic}: P3, P3b and P4 weights must be <= 0`)
  for (const [name, d] of [['firstMessageDeliveriesDecay', p.firstMessageDeliveriesDecay], ['meshMessageDeliveriesDecay', p.meshMessageDeliveriesDecay],
    ['meshFailurePenaltyDecay', p.meshFailurePenaltyDecay], ['invalidMessageDeliveriesDecay', p.invalidMessageDeliveriesDecay]] as const) {
    check(d > 0 && d < 1, `${topic}: ${name} must be in (0, 1)`)
  }
  check(p.meshMessageDeliveriesThreshold >= 0 && p.meshMessageDeliveriesCap >= p.meshMessageDeliveriesThreshold, `${topic}: meshMessageDeliveries threshold/cap`)
}

export function validatePeerScoreParams (p: PeerScoreParams): void {
  for (const [topic, tp] of Object.entries(p.topics)) validateTopicScoreParams(topic, tp)
  check(p.topicScoreCap >= 0, 'topicScoreCap must be >= 0')
  check(p.IPColocationFactorWeight <= 0, 'IPColocationFactorWeight must be <= 0')
  check(p.IPColocationFactorWeight === 0 || p.IPColocationFactorThreshold >= 1, 'IPColocationFactorThreshold must be >= 1')
  check(p.behaviourPenaltyWeight <= 0, 'behaviourPenaltyWeight must be <= 0')
  check(p.behaviourPenaltyWeight === 0 || (p.behaviourPenaltyDecay > 0 && p.behaviourPenaltyDecay < 1), 'behaviourPenaltyDecay must be in (0, 1)')
  check(p.decayInterval >= 100, 'decayInterval must be >= 100 ms')
  check(p.decayToZero > 0 && p.decayToZero < 1, 'decayToZero must be in (0, 1)')
}

export function validateThresholds (t: PeerScoreThresholds): void {
  check(t.gossipThreshold <= 0, 'gossipThreshold must be <= 0')
  check(t.publishThreshold <= t.gossipThreshold, 'publishThreshold must be <= gossipThreshold')
  check(t.graylistThreshold <= t.publishThreshold, 'graylistThreshold must be <= publishThreshold')
  check(t.acceptPXThreshold >= 0, 'acceptPXThreshold must be >= 0')
  check(t.opportunisticGraftThreshold >= 0, 'opportunisticGraftThreshold must be >= 0')
}
