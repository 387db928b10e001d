/**
 * Publish/subscribe: GossipSub (`gossipsub()`, the default choice) and FloodSub (`floodsub()`),
 * with the wire codec for tools and tests.
 */
export { gossipsub, GossipSub, DEFAULT_GOSSIPSUB_PARAMS, GOSSIPSUB_PROTOCOL_V10, GOSSIPSUB_PROTOCOL_V11, GOSSIPSUB_PROTOCOL_V12, PeerScore, DEFAULT_PEER_SCORE_PARAMS, DEFAULT_PEER_SCORE_THRESHOLDS, DEFAULT_TOPIC_SCORE_PARAMS } from './gossipsub/index.ts'
export type { GossipSubOptions, GossipSubParams, PeerScoreParams, PeerScoreThresholds, TopicScoreParams } from './gossipsub/index.ts'
export { floodsub, FloodSub, FLOODSUB_PROTOCOL, type FloodSubOptions } from './floodsub/floodsub.ts'
export * from './shared-exports.ts'
export { decodeRpc, encodeRpc, DEFAULT_RPC_LIMITS, type Rpc, type RpcLimits, type PubSubRpcMessage, type ControlMessage } from './rpc.ts'
