/**
 * The resource manager: go-libp2p's scope model. Every connection and stream reserves from a
 * chain of scopes and releases exactly what it took when it ends:
 *
 * - a new connection: system + transient (+ its IP's /32 or /64 scope and, for a public IP,
 *   its /24 or /48 scope; or the allowlist scope when its address is allowlisted); once the
 *   peer is known it moves from transient to that peer's scope;
 * - a new stream: system + transient + peer; once its protocol is negotiated it moves from
 *   transient to the protocol's scope.
 *
 * A refusal is a ResourceLimitError naming the scope (`system`, `transient`, `peer:<id>`,
 * `protocol:<id>`, `ip:<key>`, `subnet:<key>`, `allowlist`) and the limit, logged, and counted
 * through `onRefusal` (for metrics). Per-peer and per-address scopes exist only while something
 * holds them, so their number is bounded by what the node holds.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '../../interface/peer-id.ts'
import type { MemoryAccount } from '../../interface/muxer.ts'
import { cidrContains, isLoopbackBytes, parseCidr, parseIp, prefixKey, type Cidr } from '../../util/ip.ts'
import { ipOf, isLanIpBytes } from '../../util/multiaddr.ts'
import { logger } from '../../util/logger.ts'
import { machineFacts } from '#machine-facts'
import { ResourceLimitError } from './errors.ts'
import { mergeLimits, scaledLimits, type ResourceLimits, type ScopeLimits } from './limits.ts'
import { ResourceScope, release, reserve, type Direction, type Reservation } from './scope.ts'

const log = logger('resource-manager')
/** A stream's reservation, shared by every stream of its direction (never changed). */
const STREAM_RESERVATION: Readonly<Record<Direction, Reservation>> = { inbound: Object.freeze({ streams: 'inbound' }), outbound: Object.freeze({ streams: 'outbound' }) }
/**
 * Empty protocol scopes kept for the next stream of their protocol, up to this many protocol
 * scopes in all: a protocol used one stream at a time (a ping, a request and its answer) would
 * otherwise make and drop its scope (an object, its usage, its name, a map entry) with every
 * stream. Protocol ids come from our own handlers and our own dials, never from a remote alone,
 * and the bound holds either way.
 */
const KEPT_PROTOCOL_SCOPES = 64


export interface ResourceManagerOptions {
  /** Limits per scope kind, merged over the scaled defaults limit by limit. */
  limits?: Partial<{ [K in keyof ResourceLimits]: Partial<ScopeLimits> }>
  /** Addresses and ranges (`/ip4/10.0.0.0/ipcidr/8`, or `10.0.0.0/8`) whose connections count
   * against the allowlist scope instead of the per-address and transient ones. */
  allowlist?: Array<string | Multiaddr>
  /** Memory and descriptors the defaults scale from (default: this machine's; browsers: deviceMemory or 4 GiB). */
  machine?: { memory: number, fds: number }
  /** Apply the per-IP and per-subnet limits to loopback addresses too (default false: every
   * local process shares 127.0.0.1, and a machine's own processes are not an attack surface
   * the way the network is; tests of these limits on loopback turn it on). */
  limitLoopback?: boolean
  /** Apply the per-subnet limit to private and link-local addresses too (default false: a LAN,
   * container bridge or pod network puts many honest peers in one /24, so those are limited
   * per address only; go-libp2p likewise limits IPv4 per address by default). */
  limitPrivateSubnets?: boolean
  /** Called for every refusal (a metrics counter attaches here). */
  onRefusal?(err: ResourceLimitError): void
}

/** What a connection holds; `done()` releases it (idempotent), memory included. */
export interface ConnectionResources extends MemoryAccount {
  /** Moves the connection from the transient scope to `peer`'s; throws ResourceLimitError. */
  setPeer(peer: PeerId): void
  done(): void
}

/** What a stream holds; `done()` releases it (idempotent). Call both as methods (not detached). */
export interface StreamResources {
  /** Moves the stream from the transient scope to `protocol`'s; throws ResourceLimitError. */
  setProtocol(protocol: string): void
  done(): void
}

export class ResourceManager {
  readonly limits: ResourceLimits
  readonly system: ResourceScope
  readonly transient: ResourceScope
  readonly allowlistScope: ResourceScope
  readonly #peers = new Map<string, ResourceScope>()
  readonly #protocols = new Map<string, ResourceScope>()
  readonly #addresses = new Map<string, ResourceScope>()
  readonly #allowlist: Cidr[]
  readonly #onRefusal?: (err: ResourceLimitError) => void
  readonly #limitLoopback: boolean
  readonly #limitPrivateSubnets: boolean

  constructor (options: ResourceManagerOptions = {}) {
    const machine = options.machine ?? machineFacts()
    this.limits = mergeLimits(scaledLimits(machine.memory, machine.fds), options.limits)
    this.system = new ResourceScope('system', this.limits.system)
    this.transient = new ResourceScope('transient', this.limits.transient)
    this.allowlistScope = new ResourceScope('allowlist', this.limits.allowlisted)
    this.#allowlist = (options.allowlist ?? []).map(entry => parseCidr(typeof entry === 'string' ? cidrText(entry) : cidrText(entry.toString())))
    this.#onRefusal = options.onRefusal
    this.#limitLoopback = options.limitLoopback ?? false
    this.#limitPrivateSubnets = options.limitPrivateSubnets ?? false
  }

  /** Scopes currently held for peers, protocols and addresses (bounded by what is open). */
  /** Scopes held for peers, protocols and addresses (an empty protocol scope kept for reuse is not held). */
  get scopeCount (): number {
    let protocols = 0
    for (const scope of this.#protocols.values()) if (scope.holders > 0 || !scope.isEmpty()) protocols++
    return this.#peers.size + protocols + this.#addresses.size
  }

  peerScope (peer: PeerId): ResourceScope | undefined { return this.#peers.get(peer.toString()) }
  protocolScope (protocol: string): ResourceScope | undefined { return this.#protocols.get(protocol) }

  /** Reserves a new connection from `remoteAddr`; throws ResourceLimitError when a scope is full. */
  openConnection (direction: Direction, remoteAddr: Multiaddr | undefined, fd = true): ConnectionResources {
    const ipText = remoteAddr === undefined ? undefined : ipOf(remoteAddr)
    const ip = ipText === undefined ? undefined : parseIp(ipText)
    const allowlisted = ip !== undefined && this.#allowlist.some(range => cidrContains(range, ip))
    const addressScopes = allowlisted || ip === undefined || (!this.#limitLoopback && isLoopbackBytes(ip)) ? [] : this.#addressScopes(ip)
    const base = allowlisted ? [this.system, this.allowlistScope] : [this.system, this.transient]
    let chain = [...base, ...addressScopes]
    const reservation: Reservation = { conns: direction, fds: fd ? 1 : undefined }
    this.#reserve(chain, reservation, addressScopes)
    let done = false
    let peerScope: ResourceScope | undefined
    /** Memory the connection's muxer holds, moved with it from transient to its peer. */
    let memory = 0
    return {
      setPeer: (peer) => {
        if (done || peerScope !== undefined || allowlisted) return
        const scope = this.#hold(this.#peers, 'peer:', peer.toString(), this.limits.peer)
        const moving: Reservation = memory > 0 ? { ...reservation, memory } : reservation
        this.#reserve([scope], moving, [scope])
        release([this.transient], moving)
        chain = [this.system, scope, ...addressScopes]
        peerScope = scope
      },
      reserve: (bytes) => {
        if (done) return false
        try {
          this.#reserve(chain, { memory: bytes }, [])
        } catch {
          return false
        }
        memory += bytes
        return true
      },
      release: (bytes) => {
        if (done) return
        const n = Math.min(bytes, memory)
        memory -= n
        if (n > 0) release(chain, { memory: n })
      },
      done: () => {
        if (done) return
        done = true
        if (memory > 0) release(chain, { memory })
        memory = 0
        release(chain, reservation)
        for (const scope of addressScopes) this.#drop(this.#addresses, scope)
        if (peerScope !== undefined) this.#drop(this.#peers, peerScope)
      }
    }
  }

  /**
   * Reserves a new stream with `peer`; throws ResourceLimitError when a scope is full. Every
   * stream comes here twice (once per side), so this path takes no arrays or reservation
   * objects of its own: three named scopes, a shared constant reservation, one small object.
   */
  openStream (peer: PeerId, direction: Direction): StreamResources {
    const peerScope = this.#hold(this.#peers, 'peer:', peer.toString(), this.limits.peer)
    const reservation = STREAM_RESERVATION[direction]
    this.#check(this.system, reservation, this.#peers, peerScope)
    this.#check(this.transient, reservation, this.#peers, peerScope)
    this.#check(peerScope, reservation, this.#peers, peerScope)
    this.system.apply(reservation, 1)
    this.transient.apply(reservation, 1)
    peerScope.apply(reservation, 1)
    return new StreamReservation(this, peerScope, reservation)
  }

  /** StreamReservation.setProtocol: the protocol's scope, held and checked (throws ResourceLimitError). */
  holdProtocol (protocol: string, reservation: Reservation): ResourceScope {
    const scope = this.#hold(this.#protocols, 'protocol:', protocol, this.limits.protocol)
    this.#check(scope, reservation, this.#protocols, scope)
    return scope
  }

  /** StreamReservation.done: gives back the holds of a stream's peer and protocol scopes. */
  dropStreamScopes (peerScope: ResourceScope, protocolScope: ResourceScope | undefined): void {
    this.#drop(this.#peers, peerScope)
    if (protocolScope === undefined) return
    if (this.#protocols.size <= KEPT_PROTOCOL_SCOPES) protocolScope.holders--
    else this.#drop(this.#protocols, protocolScope)
  }

  /** Throws (after giving back `held`'s hold) when `reservation` would exceed a limit of `scope`. */
  #check (scope: ResourceScope, reservation: Reservation, heldIn: Map<string, ResourceScope>, held: ResourceScope): void {
    const limit = scope.exceeded(reservation)
    if (limit === undefined) return
    this.#drop(heldIn, held)
    this.#rethrow(new ResourceLimitError(scope.name, limit, scope.limits[limit] ?? 0))
  }

  #addressScopes (ip: Uint8Array): ResourceScope[] {
    const v4 = ip.length === 4
    const ipKey = prefixKey(ip, v4 ? 32 : 64)
    const scopes = [this.#hold(this.#addresses, '', `ip:${ipKey}`, this.limits.ip)]
    if (this.#limitPrivateSubnets || !isLanIpBytes(ip)) {
      const subnetKey = prefixKey(ip, v4 ? 24 : 48)
      scopes.push(this.#hold(this.#addresses, '', `subnet:${subnetKey}`, this.limits.subnet))
    }
    return scopes
  }

  /**
   * The scope under `key`, made if needed (named `prefix` + `key`: the name is built only then,
   * not on every stream), with one more holder (dropped by #drop).
   */
  #hold (map: Map<string, ResourceScope>, prefix: string, key: string, limits: ScopeLimits): ResourceScope {
    let scope = map.get(key)
    if (scope === undefined) {
      scope = new ResourceScope(prefix + key, limits, key)
      map.set(key, scope)
    }
    scope.holders++
    return scope
  }

  #drop (map: Map<string, ResourceScope>, scope: ResourceScope): void {
    scope.holders--
    // by its key: a search of the map for the scope cost a walk of every peer per stream close
    if (scope.holders <= 0 && scope.isEmpty() && map.get(scope.key) === scope) map.delete(scope.key)
  }

  /** reserve(), and on refusal: release the holds taken for it, log, report, rethrow. */
  #reserve (chain: ResourceScope[], reservation: Reservation, held: ResourceScope[]): void {
    try {
      reserve(chain, reservation)
    } catch (err) {
      for (const scope of held) {
        if (scope.name.startsWith('peer:')) this.#drop(this.#peers, scope)
        else if (scope.name.startsWith('protocol:')) this.#drop(this.#protocols, scope)
        else this.#drop(this.#addresses, scope)
      }
      this.#rethrow(err)
    }
  }

  #rethrow (err: unknown): never {
    if (err instanceof ResourceLimitError) {
      log('refused: %s', err.message)
      this.#onRefusal?.(err)
    }
    throw err
  }
}

/**
 * What a stream holds: system + (transient until its protocol is known, then the protocol's
 * scope) + peer. A class rather than closures: one object per stream and side, on the
 * stream-open path.
 */
class StreamReservation implements StreamResources {
  readonly #manager: ResourceManager
  readonly #peerScope: ResourceScope
  readonly #reservation: Reservation
  /** The transient scope until the protocol is known, then the protocol's. */
  #middle: ResourceScope
  #done = false

  constructor (manager: ResourceManager, peerScope: ResourceScope, reservation: Reservation) {
    this.#manager = manager
    this.#peerScope = peerScope
    this.#reservation = reservation
    this.#middle = manager.transient
  }

  setProtocol (protocol: string): void {
    const transient = this.#manager.transient
    if (this.#done || this.#middle !== transient) return
    const scope = this.#manager.holdProtocol(protocol, this.#reservation)
    scope.apply(this.#reservation, 1)
    transient.apply(this.#reservation, -1)
    this.#middle = scope
  }

  done (): void {
    if (this.#done) return
    this.#done = true
    const manager = this.#manager
    manager.system.apply(this.#reservation, -1)
    this.#middle.apply(this.#reservation, -1)
    this.#peerScope.apply(this.#reservation, -1)
    manager.dropStreamScopes(this.#peerScope, this.#middle === manager.transient ? undefined : this.#middle)
  }
}

/** `/ip4/10.0.0.0/ipcidr/8` -> `10.0.0.0/8`; plain `a.b.c.d/n` and bare addresses pass through. */
function cidrText (text: string): string {
  const m = /^\/ip[46]\/([^/]+)(?:\/ipcidr\/(\d+))?$/.exec(text)
  if (m !== null) return m[2] !== undefined ? `${m[1]}/${m[2]}` : m[1]
  return text
}
