/**
 * The circuit relay v2 hop service (relay/circuit-v2.md "Hop Protocol"):
 * `services: { relay: circuitRelayServer() }` makes this node a relay.
 *
 * - RESERVE: a peer asks to be reachable through us. We answer OK with a reservation (expiry,
 *   our own addresses, a signed voucher) and the limits its circuits will have, or
 *   RESERVATION_REFUSED when the overall or per-IP cap is reached. A reservation lives until
 *   its expiry or until the peer's last connection to us closes, whichever comes first.
 * - CONNECT: a peer asks to reach a peer with a reservation. We open a stop stream over the
 *   connection the target already has to us (never a new dial), and once the target accepts,
 *   splice the two streams (./circuit.ts) with the limits: duration, and bytes per direction.
 *   Refusals: NO_RESERVATION, RESOURCE_LIMIT_EXCEEDED (circuits per peer or overall),
 *   CONNECTION_FAILED (the target is gone or refused), MALFORMED_MESSAGE.
 * - Neither is accepted over a relayed connection (PERMISSION_DENIED): no relay chains.
 *
 * Defaults follow go-libp2p's relay (PROTOCOLS.md): reservations for 1 h, 128 of them, 8 per IP,
 * 16 circuits per peer; circuits of 2 min and 128 KiB per direction.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '../interface/connection.ts'
import type { NodeComponents, Startable } from '../interface/components.ts'
import type { Logger } from '../interface/logger.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { Stream } from '../interface/stream.ts'
import { peerIdFromBytes } from '../peer/peer-id.ts'
import { Deadline } from '../util/deadline.ts'
import { ServiceStoppedError } from '../util/errors.ts'
import { ipOf, isRelayed, withoutPeerId } from '../util/multiaddr.ts'
import { StreamReader, writeLP } from '../util/stream-reader.ts'
import { unrefInterval } from '../util/timers.ts'
import { Circuit } from './circuit.ts'
import { RelayStatusError } from './errors.ts'
import { decodeHopMessage, decodeStopMessage, encodeHopMessage, encodeStopMessage, HOP_PROTOCOL, HopType, MAX_RELAY_MESSAGE_SIZE, RelayStatus, STOP_PROTOCOL, StopType } from './messages.ts'
import type { HopMessage, RelayLimit } from './messages.ts'
import { ReservationTable } from './reservation-table.ts'
import { sealVoucher } from './voucher.ts'

export const DEFAULT_RESERVATION_TTL = 60 * 60 * 1000
export const DEFAULT_MAX_RESERVATIONS = 128
export const DEFAULT_MAX_RESERVATIONS_PER_IP = 8
export const DEFAULT_MAX_CIRCUITS_PER_PEER = 16
export const DEFAULT_MAX_CIRCUITS = 1024
export const DEFAULT_CIRCUIT_DURATION = 2 * 60 * 1000
export const DEFAULT_CIRCUIT_DATA = 1n << 17n
export const DEFAULT_HOP_TIMEOUT = 30_000
/** How often expired reservations are dropped from memory. */
const SWEEP_INTERVAL = 60_000

export interface CircuitRelayServerOptions {
  /** How long a reservation lasts, in ms (default 1 h); a client refreshes before it ends. */
  reservationTtl?: number
  /** Reservations held at once (default 128). */
  maxReservations?: number
  /** Reservations from one IP address (default 8). */
  maxReservationsPerIp?: number
  /** Circuits a peer takes part in at once, as initiator or target (default 16). */
  maxCircuitsPerPeer?: number
  /** Circuits at once overall (default 1024). */
  maxCircuits?: number
  /**
   * Limits of each circuit: `duration` in ms (default 2 min), `data` in bytes per direction
   * (default 128 KiB). `false` relays without limits (then the connections are not limited).
   */
  circuitLimit?: { duration?: number, data?: bigint } | false
  /** Bound on reading a hop request and on the whole stop handshake, in ms (default 30 s). */
  hopTimeout?: number
  /** Concurrent hop streams per connection (default 32). */
  maxInboundHopStreams?: number
  /** The addresses put in reservations (default: the node's announced, non-relayed ones). */
  announceAddrs?(): Multiaddr[]
}

export type CircuitRelayServerComponents = Pick<NodeComponents, 'peerId' | 'privateKey' | 'registrar' | 'connectionManager' | 'addressManager' | 'events' | 'logger'> & Partial<Pick<NodeComponents, 'metrics'>>

export class CircuitRelayServer implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/circuit-relay-v2-server']
  readonly #components: CircuitRelayServerComponents
  readonly #log: Logger
  readonly #ttl: number
  readonly #maxCircuitsPerPeer: number
  readonly #maxCircuits: number
  readonly #limit: RelayLimit | undefined
  readonly #hopTimeout: number
  readonly #options: CircuitRelayServerOptions
  readonly reservations: ReservationTable
  /** Open circuits, and how many each peer takes part in. */
  readonly circuits = new Set<Circuit>()
  readonly #circuitsPerPeer = new Map<string, number>()
  #removeCollector: (() => void) | undefined
  #sweep: ReturnType<typeof setInterval> | undefined
  #shutdown = new AbortController()
  readonly #onPeerDisconnect = (evt: CustomEvent<PeerId>): void => {
    if (this.reservations.remove(evt.detail)) this.#log('reservation of %s ended with its last connection', evt.detail)
  }

  constructor (components: CircuitRelayServerComponents, options: CircuitRelayServerOptions = {}) {
    this.#components = components
    this.#options = options
    this.#log = components.logger('relay:server')
    this.#ttl = options.reservationTtl ?? DEFAULT_RESERVATION_TTL
    this.#maxCircuitsPerPeer = options.maxCircuitsPerPeer ?? DEFAULT_MAX_CIRCUITS_PER_PEER
    this.#maxCircuits = options.maxCircuits ?? DEFAULT_MAX_CIRCUITS
    this.#hopTimeout = options.hopTimeout ?? DEFAULT_HOP_TIMEOUT
    const limit = options.circuitLimit
    this.#limit = limit === false
      ? undefined
      : { duration: Math.ceil((limit?.duration ?? DEFAULT_CIRCUIT_DURATION) / 1000), data: limit?.data ?? DEFAULT_CIRCUIT_DATA }
    this.reservations = new ReservationTable({
      maxReservations: options.maxReservations ?? DEFAULT_MAX_RESERVATIONS,
      maxReservationsPerIp: options.maxReservationsPerIp ?? DEFAULT_MAX_RESERVATIONS_PER_IP
    })
  }

  start (): void {
    if (this.#shutdown.signal.aborted) this.#shutdown = new AbortController()
    this.#components.registrar.handle(HOP_PROTOCOL, (stream, connection) => this.#onHop(stream, connection), {
      maxInboundStreams: this.#options.maxInboundHopStreams ?? 32,
      // Accepted so that a request over a relayed connection gets PERMISSION_DENIED, not a reset.
      runOnLimitedConnection: true
    })
    this.#components.events.addEventListener('peer:disconnect', this.#onPeerDisconnect)
    this.#sweep = unrefInterval(() => { this.reservations.sweep(Date.now()) }, SWEEP_INTERVAL)
    const metrics = this.#components.metrics
    if (metrics !== undefined) {
      // read when Prometheus scrapes: the table and the circuit set already hold the counts
      const held = metrics.gauge({ name: 'libp2p_relay_server_reservations', help: 'Reservations this relay holds for others' })
      const circuits = metrics.gauge({ name: 'libp2p_relay_server_circuits', help: 'Circuits open through this relay' })
      this.#removeCollector ??= metrics.addCollector(() => {
        held.set(this.reservations.size)
        circuits.set(this.circuits.size)
      })
    }
  }

  stop (): void {
    this.#removeCollector?.()
    this.#removeCollector = undefined
    this.#components.registrar.unhandle(HOP_PROTOCOL)
    this.#components.events.removeEventListener('peer:disconnect', this.#onPeerDisconnect)
    if (this.#sweep !== undefined) clearInterval(this.#sweep)
    this.#sweep = undefined
    this.#shutdown.abort(new ServiceStoppedError('the relay service stopped'))
    for (const circuit of this.circuits) circuit.reset(new ServiceStoppedError('the relay service stopped'))
    this.circuits.clear()
    this.#circuitsPerPeer.clear()
    this.reservations.clear()
  }

  async #onHop (stream: Stream, connection: Connection): Promise<void> {
    const deadline = new Deadline(this.#hopTimeout, this.#shutdown.signal, `hop request timed out after ${this.#hopTimeout} ms`)
    let request: HopMessage
    const reader = new StreamReader(stream)
    try {
      const frame = await reader.readLP({ maxLength: MAX_RELAY_MESSAGE_SIZE, signal: deadline.signal })
      if (frame === null) {
        await stream.close()
        return
      }
      try {
        request = decodeHopMessage(frame)
      } catch (err) {
        this.#log('malformed hop message from %s: %s', connection.remotePeer, err)
        await this.#refuse(stream, RelayStatus.MALFORMED_MESSAGE, deadline.signal)
        return
      }
      reader.release()
      if (isRelayed(connection.remoteAddr)) {
        await this.#refuse(stream, RelayStatus.PERMISSION_DENIED, deadline.signal)
        return
      }
      if (request.type === HopType.RESERVE) await this.#reserve(stream, connection, deadline.signal)
      else if (request.type === HopType.CONNECT) await this.#connect(stream, connection, request, deadline)
      else await this.#refuse(stream, RelayStatus.UNEXPECTED_MESSAGE, deadline.signal)
    } catch (err) {
      this.#log('hop stream from %s failed: %s', connection.remotePeer, err)
      stream.abort(err as Error)
    } finally {
      deadline.clear()
    }
  }

  async #refuse (stream: Stream, status: number, signal: AbortSignal): Promise<void> {
    await writeLP(stream, encodeHopMessage({ type: HopType.STATUS, status }), { signal })
    await stream.close({ signal })
  }

  /** Our own addresses for a reservation: not relayed, each ending in /p2p/<us>. */
  #reservationAddrs (): Multiaddr[] {
    const own = this.#options.announceAddrs?.() ?? this.#components.addressManager.getAddresses()
    const suffix = `/p2p/${this.#components.peerId.toString()}`
    return own.filter(a => !isRelayed(a)).map(a => withoutPeerId(a).encapsulate(suffix))
  }

  async #reserve (stream: Stream, connection: Connection, signal: AbortSignal): Promise<void> {
    const now = Date.now()
    const expires = now + this.#ttl
    const outcome = this.reservations.reserve(connection.remotePeer, ipOf(connection.remoteAddr), expires, now)
    if (outcome === 'too-many' || outcome === 'too-many-for-ip') {
      this.#log('refusing a reservation for %s: %s', connection.remotePeer, outcome)
      await this.#refuse(stream, RelayStatus.RESERVATION_REFUSED, signal)
      return
    }
    const expireSeconds = BigInt(Math.floor(expires / 1000))
    const voucher = await sealVoucher(this.#components.privateKey, {
      relay: this.#components.peerId.bytes,
      peer: connection.remotePeer.bytes,
      expiration: expireSeconds
    })
    const response: HopMessage = {
      type: HopType.STATUS,
      status: RelayStatus.OK,
      reservation: { expire: expireSeconds, addrs: this.#reservationAddrs().map(a => a.bytes), voucher },
      limit: this.#limit
    }
    await writeLP(stream, encodeHopMessage(response), { signal })
    await stream.close({ signal })
    this.#log('%s reservation for %s until %s', outcome, connection.remotePeer, new Date(expires).toISOString())
  }

  async #connect (stream: Stream, connection: Connection, request: HopMessage, deadline: Deadline): Promise<void> {
    const signal = deadline.signal
    const source = connection.remotePeer
    let target: PeerId
    try {
      if (request.peer === undefined) throw new Error('no peer')
      target = peerIdFromBytes(request.peer.id)
    } catch {
      await this.#refuse(stream, RelayStatus.MALFORMED_MESSAGE, signal)
      return
    }
    if (this.reservations.get(target, Date.now()) === undefined) {
      await this.#refuse(stream, RelayStatus.NO_RESERVATION, signal)
      return
    }
    if (this.circuits.size >= this.#maxCircuits || this.#circuitCount(source) >= this.#maxCircuitsPerPeer || this.#circuitCount(target) >= this.#maxCircuitsPerPeer) {
      await this.#refuse(stream, RelayStatus.RESOURCE_LIMIT_EXCEEDED, signal)
      return
    }
    // Count the circuit from now on, so concurrent CONNECTs cannot overshoot the caps.
    this.#hold(source, 1)
    this.#hold(target, 1)
    let spliced = false
    try {
      const stop = await this.#openStop(source, target, signal)
      if (stop === undefined) {
        await this.#refuse(stream, RelayStatus.CONNECTION_FAILED, signal)
        return
      }
      try {
        await writeLP(stream, encodeHopMessage({ type: HopType.STATUS, status: RelayStatus.OK, limit: this.#limit }), { signal })
      } catch (err) {
        stop.abort(err as Error)
        throw err
      }
      deadline.clear()
      const circuit = new Circuit(stream, stop, {
        durationMs: this.#limit?.duration === undefined ? undefined : this.#limit.duration * 1000,
        dataBytes: this.#limit?.data
      })
      spliced = true
      this.circuits.add(circuit)
      this.#log('relaying %s -> %s', source, target)
      void circuit.closed.then(() => {
        this.circuits.delete(circuit)
        this.#hold(source, -1)
        this.#hold(target, -1)
        this.#log('circuit %s -> %s closed (%d / %d bytes)', source, target, circuit.bytesAtoB, circuit.bytesBtoA)
      })
    } finally {
      if (!spliced) {
        this.#hold(source, -1)
        this.#hold(target, -1)
      }
    }
  }

  /**
   * Opens the stop stream to `target` over a connection it already has to us and asks it to
   * accept `source`; the stream when it answered OK, undefined when it cannot be reached or
   * refused.
   */
  async #openStop (source: PeerId, target: PeerId, signal: AbortSignal): Promise<Stream | undefined> {
    const connection = this.#components.connectionManager.getConnections(target).find(c => c.status === 'open' && !isRelayed(c.remoteAddr))
    if (connection === undefined) {
      this.#log('no connection to %s for a stop stream', target)
      return undefined
    }
    let stop: Stream | undefined
    try {
      stop = await connection.newStream(STOP_PROTOCOL, { signal, runOnLimitedConnection: true })
      await writeLP(stop, encodeStopMessage({ type: StopType.CONNECT, peer: { id: source.bytes, addrs: [] }, limit: this.#limit }), { signal })
      const reader = new StreamReader(stop)
      const frame = await reader.readLP({ maxLength: MAX_RELAY_MESSAGE_SIZE, signal })
      reader.release()
      if (frame === null) throw RelayStatusError.of(RelayStatus.CONNECTION_FAILED, 'the target closed the stop stream without an answer')
      const answer = decodeStopMessage(frame)
      if (answer.type !== StopType.STATUS || answer.status !== RelayStatus.OK) {
        throw RelayStatusError.of(answer.status ?? RelayStatus.UNUSED, `the target refused the circuit: type ${answer.type}, status ${answer.status}`)
      }
      return stop
    } catch (err) {
      this.#log('stop handshake with %s failed: %s', target, err)
      stop?.abort(err as Error)
      return undefined
    }
  }

  #circuitCount (peer: PeerId): number {
    return this.#circuitsPerPeer.get(peer.toString()) ?? 0
  }

  #hold (peer: PeerId, delta: number): void {
    const key = peer.toString()
    const n = (this.#circuitsPerPeer.get(key) ?? 0) + delta
    if (n <= 0) this.#circuitsPerPeer.delete(key)
    else this.#circuitsPerPeer.set(key, n)
  }
}

/** `services: { relay: circuitRelayServer() }`: serve the circuit relay v2 hop protocol. */
export function circuitRelayServer (options: CircuitRelayServerOptions = {}): (components: CircuitRelayServerComponents) => CircuitRelayServer {
  return (components) => new CircuitRelayServer(components, options)
}
