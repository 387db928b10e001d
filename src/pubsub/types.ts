/**
 * The public pubsub types shared by FloodSub and GossipSub: messages as the application sees
 * them, events, validator results and the options every router accepts.
 */
import type { PeerId } from '../interface/peer-id.ts'
import type { PublicKey } from '../interface/keys.ts'
import type { MessageIdFn, SignaturePolicy } from './sign.ts'
import type { RpcLimits } from './rpc.ts'

/** What a topic validator decides about a message (the values js-libp2p uses). */
export const TopicValidatorResult = {
  /** Deliver and forward. */
  Accept: 'accept',
  /** Drop and penalise the peer that sent it. */
  Reject: 'reject',
  /** Drop without penalty. */
  Ignore: 'ignore'
} as const
export type TopicValidatorResult = typeof TopicValidatorResult[keyof typeof TopicValidatorResult]

export interface SignedPubSubMessage {
  type: 'signed'
  from: PeerId
  topic: string
  data: Uint8Array
  sequenceNumber: bigint
  signature: Uint8Array
  key: PublicKey
}

export interface UnsignedPubSubMessage {
  type: 'unsigned'
  topic: string
  data: Uint8Array
}

export type PubSubMessage = SignedPubSubMessage | UnsignedPubSubMessage

/** Detail of the `message` event: the message, its id and the peer that relayed it to us. */
export type PubSubMessageEvent = PubSubMessage & {
  msgId: Uint8Array
  /** The direct peer it came from (our own id for messages we published). */
  propagationSource: PeerId
}

export type TopicValidator = (from: PeerId, message: PubSubMessage, signal: AbortSignal) => TopicValidatorResult | Promise<TopicValidatorResult>

export interface SubscriptionChange {
  peerId: PeerId
  subscriptions: Array<{ topic: string, subscribe: boolean }>
}

export interface PubSubEvents {
  message: PubSubMessageEvent
  'subscription-change': SubscriptionChange
  /** GossipSub: a peer joined our mesh for a topic. */
  'gossipsub:graft': { peerId: PeerId, topic: string, direction: 'inbound' | 'outbound' }
  /** GossipSub: a peer left our mesh for a topic. */
  'gossipsub:prune': { peerId: PeerId, topic: string, direction: 'inbound' | 'outbound' }
}

export interface PublishResult {
  /** Peers the message was sent to directly. */
  recipients: PeerId[]
}

export interface PubSubOptions {
  /** Default StrictSign. */
  globalSignaturePolicy?: SignaturePolicy
  /** Message id function; default from || seqno (StrictSign) or sha256(data) (StrictNoSign). */
  msgIdFn?: MessageIdFn
  /** Also emit `message` for messages we publish (default false). */
  emitSelf?: boolean
  /** How long a message id stays in the seen-cache, in ms (default 120 s). */
  seenTTL?: number
  /** Largest seen-cache (default 1,000,000 ids). */
  maxSeenCacheSize?: number
  /** Wire limits (RPC size 1 MiB and repeated-field counts). */
  rpcLimits?: Partial<RpcLimits>
  /** Time limit for a topic validator, in ms (default 10 s; on timeout the message is ignored). */
  validatorTimeout?: number
  /** Messages being validated at once across all peers (default 8192; more are dropped). */
  maxPendingValidations?: number
  /** Frames queued per peer while its stream pushes back (default 256; more are dropped). */
  maxQueuedFramesPerPeer?: number
  /** Budget to open the outbound stream to a new peer, in ms (default 10 s). */
  streamOpenTimeout?: number
}
