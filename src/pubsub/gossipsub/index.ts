/** GossipSub: `import { gossipsub } from 'ts-libp2p/gossipsub'`, `services: { identify: identify(), pubsub: gossipsub() }`, then `node.services.pubsub.subscribe(topic)`. */
export { GossipSub, gossipsub } from './gossipsub.ts'
export { DEFAULT_GOSSIPSUB_PARAMS, GOSSIPSUB_PROTOCOL_V10, GOSSIPSUB_PROTOCOL_V11, GOSSIPSUB_PROTOCOL_V12, type GossipSubOptions, type GossipSubParams } from './params.ts'
export { PeerScore } from './score.ts'
export { DEFAULT_PEER_SCORE_PARAMS, DEFAULT_PEER_SCORE_THRESHOLDS, DEFAULT_TOPIC_SCORE_PARAMS, type PeerScoreParams, type PeerScoreThresholds, type TopicScoreParams } from './score-params.ts'
export { MessageCache } from './mcache.ts'
export * from '../shared-exports.ts'
