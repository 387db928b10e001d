/**
 * GossipSub v1.1 peer exchange (PX): the peers we offer in a PRUNE (with their signed peer
 * records, so the pruned peer can dial them), and following the peers offered to us: records
 * verified and stored, at most `maxPXConnect` dials in flight.
 */
import type { PeerId } from '../../interface/peer-id.ts'
import { peerIdFromMultihash } from '../../peer/peer-id.ts'
import type { Logger } from '../../interface/logger.ts'
import type { PubSubComponents, PubSubPeer } from '../pubsub.ts'
import type { PeerInfo } from '../rpc.ts'
import type { GossipSubParams } from './params.ts'
import { withDeadline } from '../../util/deadline.ts'

export interface PeerExchangeHost {
  readonly params: GossipSubParams
  readonly components: PubSubComponents
  readonly log: Logger
  /** Up to `n` random gossipsub peers subscribed to `topic` that pass `filter`. */
  candidates(topic: string, n: number, filter: (peer: PubSubPeer) => boolean): PubSubPeer[]
  scoreOf(key: string): number
  /** True when we already have an outbound pubsub stream to the peer. */
  isConnected(key: string): boolean
}

export class PeerExchange {
  readonly #host: PeerExchangeHost
  #dialing = 0

  constructor (host: PeerExchangeHost) {
    this.#host = host
  }

  /** The peers to offer `exclude` (being pruned from `topic`): well-scored, with records. */
  async offer (topic: string, exclude: string): Promise<PeerInfo[]> {
    const host = this.#host
    const candidates = host.candidates(topic, host.params.prunePeers, (p) => p.key !== exclude && host.scoreOf(p.key) >= 0)
    const out: PeerInfo[] = []
    for (const p of candidates) {
      const info: PeerInfo = { peerId: p.id.bytes }
      try {
        const record = (await host.components.peerStore.get(p.id)).peerRecordEnvelope
        if (record !== undefined) info.signedPeerRecord = record
      } catch {}
      out.push(info)
    }
    return out
  }

  /** Follows peer exchange: stores the signed records and dials a few of the peers. */
  async follow (infos: PeerInfo[]): Promise<void> {
    const { params, components } = this.#host
    const toDial: PeerId[] = []
    for (const info of infos.slice(0, params.prunePeers)) {
      if (toDial.length + this.#dialing >= params.maxPXConnect) break
      if (info.peerId === undefined) continue
      let id: PeerId
      try {
        id = peerIdFromMultihash(info.peerId)
      } catch {
        continue
      }
      if (id.equals(components.peerId) || this.#host.isConnected(id.toString())) continue
      if (info.signedPeerRecord === undefined) continue // without a record there is no address to dial
      try {
        // verifies the record and that it is `id`'s (rejects otherwise)
        await components.peerStore.consumePeerRecord(info.signedPeerRecord, id)
      } catch {
        continue
      }
      toDial.push(id)
    }
    for (const id of toDial) {
      this.#dialing++
      withDeadline(10_000, undefined, 'PX dial timed out', async signal => await components.connectionManager.openConnection(id, { signal }))
        .catch((err: Error) => { this.#host.log('PX dial to %s failed: %s', id.toString(), err.message) })
        .finally(() => { this.#dialing-- })
    }
  }
}
