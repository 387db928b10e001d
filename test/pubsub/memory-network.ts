/**
 * Pubsub networks of many ts-libp2p nodes in one process over the memory transport (trusted
 * in-process encrypter, Yamux), for the simulation test: a seeded random generator for
 * replayable topologies, and a metered GossipSub that counts duplicates and the pubsub bytes
 * it sends, without touching the router's behaviour.
 */
import { MemoryNetwork } from '../../src/transport/memory/index.ts'
import { createMemoryNode } from '../support/memory-node.ts'
import { GossipSub, type GossipSubOptions } from '../../src/pubsub/gossipsub/index.ts'
import { encodeRpcFrame, type PubSubRpcMessage, type Rpc } from '../../src/pubsub/rpc.ts'
import type { PubSubComponents, PubSubPeer } from '../../src/pubsub/pubsub.ts'
import type { PubSubNode } from './helpers.ts'

/** GossipSub that counts what it sends and the duplicates it receives. */
export class MeteredGossipSub extends GossipSub {
  /** Pubsub frame bytes accepted by outbound streams (messages, control, subscriptions). */
  bytesSent = 0
  framesSent = 0
  /** Messages received again after the first copy (any source: mesh, flood publish, IWANT). */
  duplicates = 0

  protected override sendRpc (peer: PubSubPeer, rpc: Rpc): boolean {
    return this.sendFrame(peer, encodeRpcFrame(rpc))
  }

  protected override sendFrame (peer: PubSubPeer, frame: Uint8Array): boolean {
    const sent = super.sendFrame(peer, frame)
    if (sent) {
      this.bytesSent += frame.length
      this.framesSent++
    }
    return sent
  }

  protected override onDuplicate (peer: PubSubPeer, key: string, msg: PubSubRpcMessage): void {
    this.duplicates++
    super.onDuplicate(peer, key, msg)
  }

  resetMeters (): void {
    this.bytesSent = 0
    this.framesSent = 0
    this.duplicates = 0
  }
}

export async function createMemoryPubSubNode (network: MemoryNetwork, options: GossipSubOptions): Promise<PubSubNode<MeteredGossipSub>> {
  return await createMemoryNode({
    network,
    services: { pubsub: (components: PubSubComponents) => new MeteredGossipSub(components, options) }
  }) as unknown as PubSubNode<MeteredGossipSub>
}

export { MemoryNetwork }
