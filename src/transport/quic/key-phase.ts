/**
 * Key updates of the 1-RTT keys (RFC 9001 6): the ones the remote starts (a packet whose Key
 * Phase bit flipped opens with the next generation's keys) and the ones we start, after
 * `keyUpdateInterval` packets in one phase or on request. What this keeps: the current phase
 * bit, the previous generation's read key (packets sent before the remote switched may still
 * arrive, reordered), the first packet number the remote sent in the current phase (older
 * packets with the other bit are late ones of the previous phase, newer ones the remote's next
 * update), and whether a packet we sent in this phase was acknowledged (6.1: we may not start
 * another update before that).
 */
import type { PacketProtector } from './crypto/types.ts'

export class KeyPhase {
  /** The Key Phase bit of the current generation. */
  bit = false
  /** Updates started by us / by the remote (observability and tests). */
  startedByUs = 0
  startedByRemote = 0
  #previousRead: PacketProtector | undefined
  /** Lowest packet number the remote sent in the current phase; -1 while none arrived. */
  #remoteFirstPn = -1
  /** Our first packet number of the current phase; an ACK at or past it allows the next update. */
  #localFirstPn = 0
  #acknowledged = true

  /** The read key for a packet whose Key Phase bit differs from ours, or undefined: try the next generation. */
  previousReadFor (pn: number): PacketProtector | undefined {
    if (this.#previousRead === undefined) return undefined
    return this.#remoteFirstPn === -1 || pn < this.#remoteFirstPn ? this.#previousRead : undefined
  }

  /** A packet of the current phase opened. */
  onCurrentPacket (pn: number): void {
    if (this.#remoteFirstPn === -1 || pn < this.#remoteFirstPn) this.#remoteFirstPn = pn
  }

  /** An ACK of the application space arrived. */
  onAck (largestAcked: number): void {
    if (largestAcked >= this.#localFirstPn) this.#acknowledged = true
  }

  /** Whether we may start an update now, given our next packet number and the interval (0: only on request). */
  due (nextPn: number, interval: number): boolean {
    return interval > 0 && this.#acknowledged && nextPn - this.#localFirstPn >= interval
  }

  get canStart (): boolean { return this.#acknowledged }

  /** The keys switched: `previousRead` stays for late packets of the phase that ended. */
  switched (previousRead: PacketProtector, byUs: boolean, nextPn: number, remotePn: number): void {
    this.bit = !this.bit
    this.#previousRead = previousRead
    this.#remoteFirstPn = remotePn
    this.#localFirstPn = nextPn
    this.#acknowledged = false
    if (byUs) this.startedByUs++
    else this.startedByRemote++
  }
}
