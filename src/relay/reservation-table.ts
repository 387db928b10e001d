/**
 * The relay's reservations: who may be reached through it, until when, and from which IP
 * (for the per-IP cap). A peer holds at most one reservation: a RESERVE from a peer that has
 * one refreshes it (a new expiry), so the per-peer count is one by construction. Expired
 * entries are dropped when looked up and by `sweep()`, which the server runs periodically so
 * that memory follows the live reservations.
 */
import type { PeerId } from '../interface/peer-id.ts'

export interface ReservationEntry {
  peer: PeerId
  /** The host IP of the connection the reservation was made over (undefined: not an IP). */
  ip: string | undefined
  /** ms since epoch. */
  expires: number
}

export interface ReservationLimits {
  maxReservations: number
  maxReservationsPerIp: number
}

export type ReserveOutcome = 'created' | 'refreshed' | 'too-many' | 'too-many-for-ip'

export class ReservationTable {
  readonly #entries = new Map<string, ReservationEntry>()
  readonly #perIp = new Map<string, number>()
  readonly #limits: ReservationLimits

  constructor (limits: ReservationLimits) {
    this.#limits = limits
  }

  get size (): number { return this.#entries.size }

  /** Creates or refreshes the reservation of `peer`; refuses when a cap is reached. */
  reserve (peer: PeerId, ip: string | undefined, expires: number, now: number): ReserveOutcome {
    const key = peer.toString()
    const existing = this.#get(key, now)
    if (existing !== undefined) {
      if (existing.ip !== ip) {
        // The peer came back from another address: it counts against the new IP now.
        if (ip !== undefined && (this.#perIp.get(ip) ?? 0) >= this.#limits.maxReservationsPerIp) return 'too-many-for-ip'
        this.#release(existing.ip)
        this.#hold(ip)
        existing.ip = ip
      }
      existing.expires = expires
      return 'refreshed'
    }
    if (this.#entries.size >= this.#limits.maxReservations) {
      this.sweep(now)
      if (this.#entries.size >= this.#limits.maxReservations) return 'too-many'
    }
    if (ip !== undefined && (this.#perIp.get(ip) ?? 0) >= this.#limits.maxReservationsPerIp) return 'too-many-for-ip'
    this.#entries.set(key, { peer, ip, expires })
    this.#hold(ip)
    return 'created'
  }

  /** The live reservation of `peer`, if any. */
  get (peer: PeerId, now: number): ReservationEntry | undefined {
    return this.#get(peer.toString(), now)
  }

  #get (key: string, now: number): ReservationEntry | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expires <= now) {
      this.#delete(key, entry)
      return undefined
    }
    return entry
  }

  remove (peer: PeerId): boolean {
    const key = peer.toString()
    const entry = this.#entries.get(key)
    if (entry === undefined) return false
    this.#delete(key, entry)
    return true
  }

  /** Drops every expired reservation. */
  sweep (now: number): void {
    for (const [key, entry] of this.#entries) if (entry.expires <= now) this.#delete(key, entry)
  }

  clear (): void {
    this.#entries.clear()
    this.#perIp.clear()
  }

  #delete (key: string, entry: ReservationEntry): void {
    this.#entries.delete(key)
    this.#release(entry.ip)
  }

  #hold (ip: string | undefined): void {
    if (ip !== undefined) this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1)
  }

  #release (ip: string | undefined): void {
    if (ip === undefined) return
    const n = (this.#perIp.get(ip) ?? 1) - 1
    if (n <= 0) this.#perIp.delete(ip)
    else this.#perIp.set(ip, n)
  }
}
