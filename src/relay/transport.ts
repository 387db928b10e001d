/**
 * The circuit relay v2 client transport: `transports: [tcp(), circuitRelayTransport()]`.
 *
 * - Dial `<relay addr>/p2p-circuit/p2p/<peer>`: over our connection to the relay (opened if
 *   needed, never itself relayed) we send CONNECT; the hop stream is then the raw connection
 *   the switch secures and multiplexes, with us as the dialer.
 * - Listen on `<relay addr>/p2p-circuit`: we reserve on the relay (./reservations.ts) and,
 *   while the reservation lives, listen on `<relay addr>/p2p/<relay>/p2p-circuit` as the relay
 *   told us its addresses. A relay that is down at start is retried; listening never throws
 *   for it.
 * - Listen on the bare `/p2p-circuit`: auto-relay (./auto-relay.ts) finds relays and reserves.
 * - The stop protocol handler: a relay opens `/libp2p/circuit/relay/0.2.0/stop` to tell us a
 *   peer is connecting; we accept (from any relay we are connected to directly) and hand the
 *   stream to the node as an inbound raw connection.
 *
 * Relayed connections are limited when the relay sends limits (it usually does): the switch
 * then runs only protocols registered with `runOnLimitedConnection: true` on them, and
 * `newStream` refuses others unless the caller passes that option.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { CODE_P2P_CIRCUIT } from '@multiformats/multiaddr'
import type { AbortOptions } from '../interface/common.ts'
import type { Connection } from '../interface/connection.ts'
import type { Logger } from '../interface/logger.ts'
import type { Stream } from '../interface/stream.ts'
import type { Listener, ListenerInit, RawConnection, Transport, TransportNodeContext } from '../interface/transport.ts'
import { peerIdFromString } from '../peer/peer-id.ts'
import { closeOrAbort, Deadline } from '../util/deadline.ts'
import { ConnectionDeniedError, InvalidMultiaddrError, NotStartedError } from '../util/errors.ts'
import { isRelayed, peerIdStringOf, withoutPeerId } from '../util/multiaddr.ts'
import { connectThroughRelay } from './hop-client.ts'
import { RelayStatus, STOP_PROTOCOL } from './messages.ts'
import { connectionLimitsOf, RelayedConnection } from './relayed-connection.ts'
import { ReservationManager } from './reservations.ts'
import type { ReservationOptions } from './reservations.ts'
import { AutoRelay } from './auto-relay.ts'
import type { AutoRelayOptions } from './auto-relay.ts'
import { answerStop, readStopConnect } from './stop.ts'

export const DEFAULT_STOP_TIMEOUT = 30_000

export interface CircuitRelayTransportOptions extends ReservationOptions {
  /** Bound on a relay's stop handshake, in ms (default 30 s). */
  stopTimeout?: number
  /** Concurrent inbound stop streams per relay connection (default 32). */
  maxInboundStopStreams?: number
  /** Auto-relay, used when listening on the bare address `/p2p-circuit` (./auto-relay.ts). */
  autoRelay?: AutoRelayOptions
}

/** `<relay>/p2p-circuit/p2p/<peer>` -> its parts; undefined when it is not a dialable circuit address. */
export function parseCircuitAddr (addr: Multiaddr): { relayAddr: Multiaddr, target: string } | undefined {
  const components = addr.getComponents()
  const circuit = components.findIndex(c => c.code === CODE_P2P_CIRCUIT)
  if (circuit <= 0) return undefined
  // No relay chains: exactly one /p2p-circuit, then exactly /p2p/<peer>.
  if (components.findIndex((c, i) => i > circuit && c.code === CODE_P2P_CIRCUIT) >= 0) return undefined
  const target = peerIdStringOf(addr)
  if (target === undefined || components.length !== circuit + 2) return undefined
  return { relayAddr: addr.decapsulateCode(CODE_P2P_CIRCUIT), target }
}

/**
 * A listen address `<relay addr>/p2p-circuit`: the relay part; 'auto' for the bare
 * `/p2p-circuit` (auto-relay); undefined for anything else.
 */
export function parseListenAddr (addr: Multiaddr): Multiaddr | 'auto' | undefined {
  const components = addr.getComponents()
  const last = components[components.length - 1]
  if (last?.code !== CODE_P2P_CIRCUIT) return undefined
  if (components.length === 1) return 'auto'
  if (components.slice(0, -1).some(c => c.code === CODE_P2P_CIRCUIT)) return undefined
  return addr.decapsulateCode(CODE_P2P_CIRCUIT)
}

export class CircuitRelayTransport implements Transport {
  readonly name = 'circuit-relay'
  readonly #options: CircuitRelayTransportOptions
  #context: TransportNodeContext | undefined
  #reservations: ReservationManager | undefined
  #autoRelay: AutoRelay | undefined
  #log: Logger | undefined
  #started = false

  constructor (options: CircuitRelayTransportOptions = {}) {
    this.#options = options
  }

  attachNode (context: TransportNodeContext): void {
    this.#context = context
    this.#log = context.components.logger('relay:transport')
    this.#reservations = new ReservationManager(context.components, () => { context.addressesChanged() }, this.#options)
    this.#autoRelay = new AutoRelay({ ...context.components, peerRouting: context.peerRouting }, this.#reservations, this.#options.autoRelay)
  }

  /** Auto-relay (active while listening on `/p2p-circuit`). */
  get autoRelay (): AutoRelay {
    if (this.#autoRelay === undefined) throw new NotStartedError('the relay transport is not attached to a node')
    return this.#autoRelay
  }

  /** Our reservations (for auto-relay and tools). */
  get reservations (): ReservationManager {
    if (this.#reservations === undefined) throw new NotStartedError('the relay transport is not attached to a node')
    return this.#reservations
  }

  start (): void {
    const context = this.#requireContext()
    if (this.#started) return
    this.#started = true
    this.reservations.start()
    context.components.registrar.handle(STOP_PROTOCOL, (stream, connection) => this.#onStop(stream, connection), {
      maxInboundStreams: this.#options.maxInboundStopStreams ?? 32,
      // Accepted so that a stop over a relayed connection is refused with a status, not a reset.
      runOnLimitedConnection: true
    })
  }

  stop (): void {
    if (!this.#started) return
    this.#started = false
    this.#context?.components.registrar.unhandle(STOP_PROTOCOL)
    this.#autoRelay?.close()
    this.#reservations?.stop()
  }

  #requireContext (): TransportNodeContext {
    if (this.#context === undefined) throw new NotStartedError('circuitRelayTransport() needs a node: give it in `transports` of createLibp2p')
    return this.#context
  }

  dialFilter (addrs: Multiaddr[]): Multiaddr[] {
    return addrs.filter(a => parseCircuitAddr(a) !== undefined)
  }

  listenFilter (addrs: Multiaddr[]): Multiaddr[] {
    return addrs.filter(a => parseListenAddr(a) !== undefined)
  }

  async dial (addr: Multiaddr, options: AbortOptions = {}): Promise<RawConnection> {
    const context = this.#requireContext()
    const parsed = parseCircuitAddr(addr)
    if (parsed === undefined) throw new InvalidMultiaddrError(`not a circuit address: ${addr.toString()}`)
    const target = peerIdFromString(parsed.target)
    const relayId = peerIdStringOf(parsed.relayAddr)
    const relayTarget = relayId !== undefined && parsed.relayAddr.getComponents().length === 1 ? peerIdFromString(relayId) : parsed.relayAddr
    const relayConnection = await context.components.connectionManager.openConnection(relayTarget, options)
    if (isRelayed(relayConnection.remoteAddr)) throw new ConnectionDeniedError('will not dial through a relay reached through another relay')
    const { stream, limit } = await connectThroughRelay(relayConnection, target, options)
    this.#log?.('relayed connection to %s through %s', target, relayConnection.remotePeer)
    return new RelayedConnection(stream, {
      remoteAddr: this.#circuitAddr(relayConnection, parsed.target),
      direction: 'outbound',
      limits: connectionLimitsOf(limit)
    })
  }

  /** `<relay's address>/p2p/<relay>/p2p-circuit/p2p/<peer>` for a circuit over `relayConnection`. */
  #circuitAddr (relayConnection: Connection, peer: string): Multiaddr {
    return withoutPeerId(relayConnection.remoteAddr).encapsulate(`/p2p/${relayConnection.remotePeer.toString()}/p2p-circuit/p2p/${peer}`)
  }

  async #onStop (stream: Stream, connection: Connection): Promise<void> {
    const context = this.#requireContext()
    const timeout = this.#options.stopTimeout ?? DEFAULT_STOP_TIMEOUT
    const deadline = new Deadline(timeout, undefined, `stop handshake timed out after ${timeout} ms`)
    try {
      if (isRelayed(connection.remoteAddr)) {
        await answerStop(stream, RelayStatus.PERMISSION_DENIED, { signal: deadline.signal })
        await closeOrAbort(stream, timeout)
        return
      }
      const request = await readStopConnect(stream, { signal: deadline.signal })
      await answerStop(stream, RelayStatus.OK, { signal: deadline.signal })
      this.#log?.('accepted a relayed connection from %s through %s', request.initiator, connection.remotePeer)
      context.acceptIncoming(new RelayedConnection(stream, {
        remoteAddr: this.#circuitAddr(connection, request.initiator.toString()),
        direction: 'inbound',
        limits: connectionLimitsOf(request.limit)
      }))
    } catch (err) {
      this.#log?.('stop stream from %s failed: %s', connection.remotePeer, err)
      stream.abort(err as Error)
    } finally {
      deadline.clear()
    }
  }

  createListener (init: ListenerInit): Listener {
    return new CircuitListener(this, init)
  }
}

/**
 * One `<relay addr>/p2p-circuit` listen address: a reservation kept on that relay; or the bare
 * `/p2p-circuit`: auto-relay's reservations.
 */
class CircuitListener implements Listener {
  readonly #transport: CircuitRelayTransport
  #relayAddr: Multiaddr | 'auto' | undefined

  constructor (transport: CircuitRelayTransport, _init: ListenerInit) {
    // Inbound relayed connections reach the node through the stop handler, whichever relay
    // they come from, so the listener itself never calls onConnection.
    this.#transport = transport
  }

  async listen (addr: Multiaddr): Promise<void> {
    const relayAddr = parseListenAddr(addr)
    if (relayAddr === undefined) throw new InvalidMultiaddrError(`not a circuit listen address: ${addr.toString()}`)
    this.#relayAddr = relayAddr
    if (relayAddr === 'auto') await this.#transport.autoRelay.listen()
    else await this.#transport.reservations.add(relayAddr)
  }

  getAddrs (): Multiaddr[] {
    if (this.#relayAddr === undefined) return []
    if (this.#relayAddr === 'auto') return this.#transport.autoRelay.getAddrs()
    return this.#transport.reservations.circuitAddrsOf(this.#relayAddr)
  }

  async close (): Promise<void> {
    if (this.#relayAddr === 'auto') this.#transport.autoRelay.close()
    else if (this.#relayAddr !== undefined) this.#transport.reservations.remove(this.#relayAddr)
    this.#relayAddr = undefined
  }
}

/** `transports: [tcp(), circuitRelayTransport()]`: dial and listen through circuit relays. */
export function circuitRelayTransport (options: CircuitRelayTransportOptions = {}): () => CircuitRelayTransport {
  return () => new CircuitRelayTransport(options)
}
