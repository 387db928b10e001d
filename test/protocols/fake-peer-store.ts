/**
 * A small in-memory PeerStore with the documented field semantics (patch replaces given
 * fields, merge adds), enough to test services that record what they learn.
 */
import type { Address, Peer, PeerData, PeerStore } from '../../src/interface/peer-store.ts'
import type { PeerId } from '../../src/interface/peer-id.ts'
import { consumeSignedPeerRecord } from '../../src/peer/peer-record.ts'
import { NotFoundError } from '../../src/util/errors.ts'

export class FakePeerStore implements PeerStore {
  readonly peers = new Map<string, Peer>()
  /** Every write, for assertions: [method, data]. */
  readonly writes: Array<[string, PeerData]> = []

  #get (peerId: PeerId): Peer {
    let peer = this.peers.get(peerId.toString())
    if (peer === undefined) {
      peer = { id: peerId, addresses: [], protocols: [], metadata: new Map(), tags: new Map() }
      this.peers.set(peerId.toString(), peer)
    }
    return peer
  }

  async has (peerId: PeerId): Promise<boolean> { return this.peers.has(peerId.toString()) }
  async get (peerId: PeerId): Promise<Peer> {
    const peer = this.peers.get(peerId.toString())
    if (peer === undefined) throw new NotFoundError('unknown peer')
    return peer
  }

  async all (): Promise<Peer[]> { return [...this.peers.values()] }
  async delete (peerId: PeerId): Promise<void> { this.peers.delete(peerId.toString()) }

  #apply (peer: Peer, data: PeerData, merge: boolean): Peer {
    const addrs: Address[] = [...(data.addresses ?? []), ...(data.multiaddrs ?? []).map(multiaddr => ({ multiaddr, isCertified: false }))]
    if (data.addresses !== undefined || data.multiaddrs !== undefined) {
      const base = merge ? peer.addresses : []
      const out = [...base]
      for (const a of addrs) if (!out.some(o => o.multiaddr.equals(a.multiaddr))) out.push(a)
      peer.addresses = out
    }
    if (data.protocols !== undefined) peer.protocols = merge ? [...new Set([...peer.protocols, ...data.protocols])] : [...data.protocols]
    if (data.metadata !== undefined) {
      const entries = data.metadata instanceof Map ? [...data.metadata] : Object.entries(data.metadata)
      if (!merge) peer.metadata = new Map()
      for (const [k, v] of entries) { if (v === undefined) peer.metadata.delete(k); else peer.metadata.set(k, v) }
    }
    if (data.publicKey !== undefined) peer.publicKey = data.publicKey
    if (data.peerRecordEnvelope !== undefined) peer.peerRecordEnvelope = data.peerRecordEnvelope
    return peer
  }

  async save (peerId: PeerId, data: PeerData): Promise<Peer> { this.writes.push(['save', data]); return this.#apply(this.#get(peerId), data, false) }
  async patch (peerId: PeerId, data: PeerData): Promise<Peer> { this.writes.push(['patch', data]); return this.#apply(this.#get(peerId), data, false) }
  async merge (peerId: PeerId, data: PeerData): Promise<Peer> { this.writes.push(['merge', data]); return this.#apply(this.#get(peerId), data, true) }

  async consumePeerRecord (envelope: Uint8Array, expectedPeer?: PeerId): Promise<boolean> {
    const record = await consumeSignedPeerRecord(envelope, { expectedPeer })
    const peer = this.#get(record.peerId)
    peer.addresses = record.multiaddrs.map(multiaddr => ({ multiaddr, isCertified: true }))
    peer.peerRecordEnvelope = envelope
    return true
  }
}
