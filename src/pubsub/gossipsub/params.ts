/**
 * GossipSub router parameters and their defaults (gossipsub-v1.0.md and v1.1.md parameter
 * tables; the values go-libp2p-pubsub and js-libp2p use).
 */
import type { PubSubOptions } from '../types.ts'
import type { PeerScoreParams, PeerScoreThresholds } from './score-params.ts'

export const GOSSIPSUB_PROTOCOL_V12 = '/meshsub/1.2.0'
export const GOSSIPSUB_PROTOCOL_V11 = '/meshsub/1.1.0'
export const GOSSIPSUB_PROTOCOL_V10 = '/meshsub/1.0.0'

export interface GossipSubParams {
  /** Target mesh degree (6). */
  D: number
  /** Lower bound before grafting more (4). */
  Dlo: number
  /** Upper bound before pruning (12). */
  Dhi: number
  /** Peers kept by score when pruning an oversized mesh (4). */
  Dscore: number
  /** Outbound peers kept in the mesh (2; must be < Dlo and <= D/2). */
  Dout: number
  /** Peers that receive IHAVE gossip per topic per heartbeat, at least (6). */
  Dlazy: number
  /** Fraction of eligible peers that receive gossip, when more than Dlazy (0.25). */
  gossipFactor: number
  heartbeatInterval: number
  /** Delay before the first heartbeat (100 ms). */
  heartbeatInitialDelay: number
  /** A fanout topic we stopped publishing to is forgotten after this long (60 s). */
  fanoutTTL: number
  /** Heartbeats of history in the message cache (5). */
  mcacheLength: number
  /** Heartbeats of history advertised in IHAVE (3). */
  mcacheGossip: number
  /** Backoff after a PRUNE (60 s). */
  pruneBackoff: number
  /** Backoff after leaving a topic (10 s). */
  unsubscribeBackoff: number
  /** Peers offered in a PRUNE's peer exchange (16). */
  prunePeers: number
  /** Send PX in PRUNEs (go default: off; js: on). */
  doPX: boolean
  /** Peers dialed from one received PX, at most (16). */
  maxPXConnect: number
  /** Message ids in one IHAVE / asked per peer per heartbeat (5000). */
  maxIHaveLength: number
  /** IHAVE messages accepted from one peer per heartbeat (10). */
  maxIHaveMessages: number
  /** IDONTWANT ids accepted from one peer per heartbeat (1000). */
  maxIDontWantMessages: number
  /** Messages at least this large trigger IDONTWANT to mesh peers (1024 bytes, as go). */
  idontwantMinDataSize: number
  /** Times one peer may ask for the same message (3). */
  gossipRetransmission: number
  /** Time for a promised IWANT to arrive before the peer is penalised (3 s). */
  iwantFollowupTime: number
  /** Publish to every subscriber with a good enough score, not just the mesh (true). */
  floodPublish: boolean
  /** Heartbeats between opportunistic grafting rounds (60). */
  opportunisticGraftTicks: number
  /** Peers grafted per opportunistic round (2). */
  opportunisticGraftPeers: number
  /** A GRAFT this soon after a PRUNE's backoff counts as flooding (10 s). */
  graftFloodThreshold: number
}

export const DEFAULT_GOSSIPSUB_PARAMS: Readonly<GossipSubParams> = Object.freeze({
  D: 6,
  Dlo: 4,
  Dhi: 12,
  Dscore: 4,
  Dout: 2,
  Dlazy: 6,
  gossipFactor: 0.25,
  heartbeatInterval: 1000,
  heartbeatInitialDelay: 100,
  fanoutTTL: 60_000,
  mcacheLength: 5,
  mcacheGossip: 3,
  pruneBackoff: 60_000,
  unsubscribeBackoff: 10_000,
  prunePeers: 16,
  doPX: false,
  maxPXConnect: 16,
  maxIHaveLength: 5000,
  maxIHaveMessages: 10,
  maxIDontWantMessages: 1000,
  idontwantMinDataSize: 1024,
  gossipRetransmission: 3,
  iwantFollowupTime: 3000,
  floodPublish: true,
  opportunisticGraftTicks: 60,
  opportunisticGraftPeers: 2,
  graftFloodThreshold: 10_000
})

/** The defaults with every parameter `options` sets (an undefined one keeps its default). */
export function gossipSubParams (options: Partial<GossipSubParams>): GossipSubParams {
  const params: GossipSubParams = { ...DEFAULT_GOSSIPSUB_PARAMS }
  for (const k of Object.keys(DEFAULT_GOSSIPSUB_PARAMS) as Array<keyof GossipSubParams>) {
    if (options[k] !== undefined) (params as any)[k] = options[k]
  }
  return params
}

export interface GossipSubOptions extends PubSubOptions, Partial<GossipSubParams> {
  /** Also speak `/floodsub/1.0.0` with peers that have nothing newer (default true). */
  floodsubFallback?: boolean
  /** Peer scoring (v1.1). Without it every score is 0, as in go without WithPeerScore. */
  scoreParams?: Partial<PeerScoreParams>
  scoreThresholds?: Partial<PeerScoreThresholds>
}
