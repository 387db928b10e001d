/**
 * IWANT promises (GossipSub v1.1): when we ask a peer for messages it advertised with IHAVE,
 * one of the ids is its promise; if that message has not arrived (from anyone) by the deadline,
 * the peer broke it and is penalised.
 */
export class IWantPromises {
  /** message id key -> peer key -> deadline (ms since the epoch). */
  readonly #byMessage = new Map<string, Map<string, number>>()

  /** `peer` promised `messageKey` by `deadline`; an earlier promise for it stands. */
  add (messageKey: string, peer: string, deadline: number): void {
    let byPeer = this.#byMessage.get(messageKey)
    if (byPeer === undefined) {
      byPeer = new Map()
      this.#byMessage.set(messageKey, byPeer)
    }
    if (!byPeer.has(peer)) byPeer.set(peer, deadline)
  }

  /** The message arrived (or was rejected): every promise of it is settled. */
  settle (messageKey: string): void {
    this.#byMessage.delete(messageKey)
  }

  /** Drops the promises past their deadline, calling `broken` once per peer and broken promise. */
  expire (now: number, broken: (peer: string) => void): void {
    for (const [id, byPeer] of this.#byMessage) {
      for (const [peer, deadline] of byPeer) {
        if (deadline > now) continue
        byPeer.delete(peer)
        broken(peer)
      }
      if (byPeer.size === 0) this.#byMessage.delete(id)
    }
  }

  clear (): void {
    this.#byMessage.clear()
  }
}
