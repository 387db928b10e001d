/**
 * A resource scope: counters of what it holds, its limits, and the scopes it belongs to (a
 * stream's protocol and peer, a peer's system...). A reservation is checked against the whole
 * chain and taken from all of it or from none, and released the same way, so a refusal never
 * leaves a partial count behind.
 */
import { ResourceLimitError } from './errors.ts'
import type { LimitName, ScopeLimits } from './limits.ts'

export type Direction = 'inbound' | 'outbound'

export interface Usage {
  connsInbound: number
  connsOutbound: number
  streamsInbound: number
  streamsOutbound: number
  memory: number
  fds: number
}

export function emptyUsage (): Usage {
  return { connsInbound: 0, connsOutbound: 0, streamsInbound: 0, streamsOutbound: 0, memory: 0, fds: 0 }
}

export interface Reservation {
  conns?: Direction
  streams?: Direction
  memory?: number
  fds?: number
}

export class ResourceScope {
  readonly name: string
  readonly limits: ScopeLimits
  /** Its key in the resource manager's map of peers, protocols or addresses ('' for the fixed scopes). */
  readonly key: string
  readonly usage: Usage = emptyUsage()
  /** Set while anything holds it; a scope kept in a map is dropped when this reaches zero. */
  holders = 0

  constructor (name: string, limits: ScopeLimits, key = '') {
    this.name = name
    this.limits = limits
    this.key = key
  }

  /** The first limit `add` would exceed here, or undefined. */
  exceeded (add: Reservation): LimitName | undefined {
    const u = this.usage
    const l = this.limits
    if (add.conns !== undefined) {
      const inbound = u.connsInbound + (add.conns === 'inbound' ? 1 : 0)
      const outbound = u.connsOutbound + (add.conns === 'outbound' ? 1 : 0)
      if (add.conns === 'inbound' && l.connsInbound !== undefined && inbound > l.connsInbound) return 'connsInbound'
      if (add.conns === 'outbound' && l.connsOutbound !== undefined && outbound > l.connsOutbound) return 'connsOutbound'
      if (l.conns !== undefined && inbound + outbound > l.conns) return 'conns'
    }
    if (add.streams !== undefined) {
      const inbound = u.streamsInbound + (add.streams === 'inbound' ? 1 : 0)
      const outbound = u.streamsOutbound + (add.streams === 'outbound' ? 1 : 0)
      if (add.streams === 'inbound' && l.streamsInbound !== undefined && inbound > l.streamsInbound) return 'streamsInbound'
      if (add.streams === 'outbound' && l.streamsOutbound !== undefined && outbound > l.streamsOutbound) return 'streamsOutbound'
      if (l.streams !== undefined && inbound + outbound > l.streams) return 'streams'
    }
    if (add.memory !== undefined && l.memory !== undefined && u.memory + add.memory > l.memory) return 'memory'
    if (add.fds !== undefined && l.fds !== undefined && u.fds + add.fds > l.fds) return 'fds'
    return undefined
  }

  apply (r: Reservation, sign: 1 | -1): void {
    const u = this.usage
    if (r.conns === 'inbound') u.connsInbound += sign
    else if (r.conns === 'outbound') u.connsOutbound += sign
    if (r.streams === 'inbound') u.streamsInbound += sign
    else if (r.streams === 'outbound') u.streamsOutbound += sign
    if (r.memory !== undefined) u.memory += sign * r.memory
    if (r.fds !== undefined) u.fds += sign * r.fds
  }

  isEmpty (): boolean {
    const u = this.usage
    return u.connsInbound === 0 && u.connsOutbound === 0 && u.streamsInbound === 0 && u.streamsOutbound === 0 && u.memory === 0 && u.fds === 0
  }
}

/** Takes `r` from every scope of `chain`, or throws ResourceLimitError and takes nothing. */
export function reserve (chain: readonly ResourceScope[], r: Reservation): void {
  for (const scope of chain) {
    const limit = scope.exceeded(r)
    if (limit !== undefined) throw new ResourceLimitError(scope.name, limit, scope.limits[limit] ?? 0)
  }
  for (const scope of chain) scope.apply(r, 1)
}

export function release (chain: readonly ResourceScope[], r: Reservation): void {
  for (const scope of chain) scope.apply(r, -1)
}
