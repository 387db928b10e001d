/**
 * FloodSub (`/floodsub/1.0.0`, specs pubsub/README.md): every accepted message goes to every
 * peer subscribed to its topic, except the peer it came from and its author. Simple and
 * robust, at the price of one copy per link.
 * `services: { identify: identify(), pubsub: floodsub() }`.
 */
import type { PeerId } from '../../interface/peer-id.ts'
import { encodeRpcFrame, type PubSubRpcMessage } from '../rpc.ts'
import { PubSubBase, type PubSubComponents, type PubSubPeer } from '../pubsub.ts'
import type { PubSubOptions } from '../types.ts'

export const FLOODSUB_PROTOCOL = '/floodsub/1.0.0'

export type FloodSubOptions = PubSubOptions

export class FloodSub extends PubSubBase {
  constructor (components: PubSubComponents, options: FloodSubOptions = {}) {
    super(components, [FLOODSUB_PROTOCOL], options, 'floodsub')
  }

  /** FloodSub has no mesh: every subscriber is a "mesh" peer. */
  getMeshPeers (topic: string): PeerId[] {
    return this.getSubscribers(topic)
  }

  protected route (_key: string, msg: PubSubRpcMessage, from: PubSubPeer | undefined): PubSubPeer[] {
    return floodToSubscribers(this.peers, this.topicPeers.get(msg.topic), msg, from, (peer, frame) => this.sendFrame(peer, frame))
  }
}

/** Sends `msg` to every subscriber except the source and the author; shared with GossipSub. */
export function floodToSubscribers (peers: Map<string, PubSubPeer>, subscribers: Set<string> | undefined, msg: PubSubRpcMessage, from: PubSubPeer | undefined,
  send: (peer: PubSubPeer, frame: Uint8Array) => boolean, accept?: (peer: PubSubPeer) => boolean): PubSubPeer[] {
  const out: PubSubPeer[] = []
  if (subscribers === undefined || subscribers.size === 0) return out
  let frame: Uint8Array | undefined
  for (const key of subscribers) {
    const peer = peers.get(key)
    if (peer === undefined || peer === from) continue
    if (msg.from !== undefined && peerIsAuthor(peer.id, msg.from)) continue
    if (accept !== undefined && !accept(peer)) continue
    frame ??= encodeRpcFrame({ subscriptions: [], messages: [msg] })
    if (send(peer, frame)) out.push(peer)
  }
  return out
}

function peerIsAuthor (peer: PeerId, from: Uint8Array): boolean {
  return peer.equals(from)
}

/** Service factory: `services: { identify: identify(), pubsub: floodsub() }`. */
export function floodsub (options: FloodSubOptions = {}): (components: PubSubComponents) => FloodSub {
  return (components) => new FloodSub(components, options)
}
