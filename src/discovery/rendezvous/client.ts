/**
 * The rendezvous client (specs rendezvous/README.md): registers this node under namespaces at
 * rendezvous points and discovers the peers registered there.
 * `services: { rendezvous: rendezvous({ points: [MA], namespaces: ['my-app'] }) }`.
 *
 * - `register(point, ns, { ttl })`, `unregister(point, ns)`, `discover(point, ns, { limit,
 *   cookie })`: one request each, on a stream of its own, with a time limit.
 * - With `points` and `namespaces` it runs by itself once started: it registers in each
 *   namespace at each point (again before the TTL ends; after a failure, with backoff) and
 *   discovers each namespace every `discoverInterval`, following the cookie so only new
 *   registrations come back.
 * - Each registration discovered (the peer record verified, not ourselves) goes to the peer
 *   store with its addresses for the registration's TTL and is announced as `peer:discovery`.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { NodeComponents, Startable } from '../../interface/components.ts'
import type { Logger } from '../../interface/logger.ts'
import type { PeerInfo } from '../../interface/routing.ts'
import { consumeSignedPeerRecord, createSignedPeerRecord } from '../../peer/peer-record.ts'
import { closeOrAbort, Deadline } from '../../util/deadline.ts'
import { Libp2pError } from '../../util/errors.ts'
import { StreamReader, writeLP } from '../../util/stream-reader.ts'
import { withoutPeerId } from '../../util/multiaddr.ts'
import { unrefTimeout } from '../../util/timers.ts'
import type { TimerHandle } from '../../util/timers.ts'
import { decodeRendezvousMessage, encodeRendezvousMessage, MAX_RESPONSE_SIZE, MessageType, RENDEZVOUS_PROTOCOL, ResponseStatus } from './messages.ts'
import type { RendezvousMessage } from './messages.ts'

/** A rendezvous point answered with a status other than OK. */
export class RendezvousError extends Libp2pError {
  readonly status: number
  constructor (message: string, status: number) {
    super(message, 'ERR_RENDEZVOUS', undefined)
    this.name = 'RendezvousError'
    this.status = status
  }
}

export interface RendezvousOptions {
  /** Rendezvous points to use by themselves once started (each ends in /p2p/<id>). */
  points?: Array<string | Multiaddr>
  /** Namespaces to register in and discover at every point. */
  namespaces?: string[]
  /** TTL asked for registrations, in seconds (default 2 h). */
  ttl?: number
  /** Time between discovers, in ms (default 60 s). */
  discoverInterval?: number
  /** One request, in ms (default 10 s). */
  requestTimeout?: number
  /** Called after each registration the client makes by itself (the CLI prints it). */
  onRegistered?: (point: string, ns: string, ttl: number) => void
}

export type RendezvousComponents = Pick<NodeComponents, 'peerId' | 'privateKey' | 'connectionManager' | 'addressManager' | 'peerStore' | 'events' | 'logger'>

export interface DiscoverResult {
  peers: Array<PeerInfo & { ns: string, ttl: number }>
  cookie?: Uint8Array
}

const RETRY_FIRST_MS = 2_000
const RETRY_MAX_MS = 5 * 60_000

export class RendezvousClient implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/peer-discovery']
  readonly #components: RendezvousComponents
  readonly #log: Logger
  readonly #options: RendezvousOptions
  readonly #requestTimeout: number
  readonly #timers = new Set<TimerHandle>()
  readonly #cookies = new Map<string, Uint8Array>()
  #shutdown = new AbortController()
  #running = false

  constructor (components: RendezvousComponents, options: RendezvousOptions = {}) {
    this.#components = components
    this.#log = components.logger('rendezvous')
    this.#options = options
    this.#requestTimeout = options.requestTimeout ?? 10_000
  }

  start (): void {
    this.#running = true
    this.#shutdown = new AbortController()
  }

  afterStart (): void {
    for (const point of this.#options.points ?? []) {
      for (const ns of this.#options.namespaces ?? []) {
        this.#keepRegistered(point, ns, 0, RETRY_FIRST_MS)
        this.#keepDiscovering(point, ns, 0)
      }
    }
  }

  stop (): void {
    this.#running = false
    this.#shutdown.abort()
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
  }

  /** Registers this node's current addresses under `ns`; resolves with the TTL granted (s). */
  async register (point: string | Multiaddr, ns: string, options: { ttl?: number, signal?: AbortSignal } = {}): Promise<number> {
    // a peer record's addresses name no peer: the record's peer id says whose they are
    const addrs = this.#components.addressManager.getAddresses().map(withoutPeerId)
    const signedPeerRecord = await createSignedPeerRecord(this.#components.privateKey, addrs)
    const response = await this.#request(point, {
      type: MessageType.REGISTER,
      register: { ns, signedPeerRecord, ttl: BigInt(options.ttl ?? this.#options.ttl ?? 2 * 60 * 60) }
    }, options.signal)
    const r = response?.registerResponse
    if (r?.status !== ResponseStatus.OK) throw new RendezvousError(`register in '${ns}' refused: ${r?.status ?? 'no status'} ${r?.statusText ?? ''}`.trim(), r?.status ?? -1)
    return Number(r.ttl ?? BigInt(options.ttl ?? 0))
  }

  async unregister (point: string | Multiaddr, ns: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#request(point, { type: MessageType.UNREGISTER, unregister: { ns } }, options.signal, false)
  }

  /**
   * Peers registered under `ns` (all namespaces when empty) after `cookie`. Each verified one is
   * recorded in the peer store and announced as `peer:discovery`.
   */
  async discover (point: string | Multiaddr, ns: string, options: { limit?: number, cookie?: Uint8Array, signal?: AbortSignal } = {}): Promise<DiscoverResult> {
    const response = await this.#request(point, {
      type: MessageType.DISCOVER,
      discover: { ns, ...(options.limit !== undefined ? { limit: BigInt(options.limit) } : {}), ...(options.cookie !== undefined ? { cookie: options.cookie } : {}) }
    }, options.signal)
    const r = response?.discoverResponse
    if (r?.status !== ResponseStatus.OK) throw new RendezvousError(`discover in '${ns}' refused: ${r?.status ?? 'no status'} ${r?.statusText ?? ''}`.trim(), r?.status ?? -1)
    const peers: DiscoverResult['peers'] = []
    for (const reg of r.registrations) {
      if (reg.signedPeerRecord === undefined) continue
      let record
      try {
        record = await consumeSignedPeerRecord(reg.signedPeerRecord)
      } catch (err) {
        this.#log('skipping a registration that does not verify: %s', (err as Error).message)
        continue
      }
      if (record.peerId.equals(this.#components.peerId)) continue
      const ttl = Number(reg.ttl ?? 0n)
      const info = { id: record.peerId, multiaddrs: record.multiaddrs, ns: reg.ns ?? ns, ttl }
      peers.push(info)
      if (record.multiaddrs.length > 0) {
        await this.#components.peerStore.merge(record.peerId, { multiaddrs: record.multiaddrs, addressTtl: Math.max(ttl, 1) * 1000 }).catch(() => {})
      }
      this.#components.events.safeDispatch('peer:discovery', { id: record.peerId, multiaddrs: record.multiaddrs })
    }
    return { peers, cookie: r.cookie }
  }

  async #request (point: string | Multiaddr, message: RendezvousMessage, callerSignal?: AbortSignal, expectAnswer = true): Promise<RendezvousMessage | undefined> {
    const deadline = new Deadline(this.#requestTimeout, [callerSignal, this.#shutdown.signal], 'rendezvous request timed out')
    try {
      const target = typeof point === 'string' ? multiaddr(point) : point
      const connection = await this.#components.connectionManager.openConnection(target, { signal: deadline.signal })
      const stream = await connection.newStream(RENDEZVOUS_PROTOCOL, { signal: deadline.signal })
      try {
        await writeLP(stream, encodeRendezvousMessage(message), { signal: deadline.signal })
        if (!expectAnswer) return undefined
        const reader = new StreamReader(stream)
        try {
          const frame = await reader.readLP({ maxLength: MAX_RESPONSE_SIZE, signal: deadline.signal })
          if (frame === null) throw new RendezvousError('the rendezvous point closed the stream without an answer', ResponseStatus.E_UNAVAILABLE)
          return decodeRendezvousMessage(frame, MAX_RESPONSE_SIZE)
        } finally {
          reader.release()
        }
      } finally {
        await closeOrAbort(stream, 1_000)
      }
    } finally {
      deadline.clear()
    }
  }

  #later (fn: () => void, ms: number): void {
    if (!this.#running) return
    const timer = unrefTimeout(() => {
      this.#timers.delete(timer)
      if (this.#running) fn()
    }, ms)
    this.#timers.add(timer)
  }

  #keepRegistered (point: string | Multiaddr, ns: string, delay: number, retry: number): void {
    this.#later(() => {
      this.register(point, ns, { signal: this.#shutdown.signal }).then(ttl => {
        this.#log('registered in %s at %s for %d s', ns, point, ttl)
        this.#options.onRegistered?.(point.toString(), ns, ttl)
        // renew at half the TTL, so one failed renewal still leaves time for another
        this.#keepRegistered(point, ns, Math.max(1, ttl) * 500, RETRY_FIRST_MS)
      }, (err: Error) => {
        this.#log('registering in %s at %s failed: %s; retrying in %d ms', ns, point, err.message, retry)
        this.#keepRegistered(point, ns, retry, Math.min(retry * 2, RETRY_MAX_MS))
      })
    }, delay)
  }

  #keepDiscovering (point: string | Multiaddr, ns: string, delay: number): void {
    this.#later(() => {
      const key = `${point.toString()} ${ns}`
      this.discover(point, ns, { cookie: this.#cookies.get(key), signal: this.#shutdown.signal }).then(result => {
        if (result.cookie !== undefined) this.#cookies.set(key, result.cookie)
      }, (err: Error) => {
        // a cookie the point no longer knows: start over
        if ((err as RendezvousError).status === ResponseStatus.E_INVALID_COOKIE) this.#cookies.delete(key)
        this.#log('discovering %s at %s failed: %s', ns, point, err.message)
      }).finally(() => { this.#keepDiscovering(point, ns, this.#options.discoverInterval ?? 60_000) })
    }, delay)
  }
}

/** Service factory: `services: { rendezvous: rendezvous({ points, namespaces }) }`. */
export function rendezvous (options: RendezvousOptions = {}): (components: RendezvousComponents) => RendezvousClient {
  return (components) => new RendezvousClient(components, options)
}
