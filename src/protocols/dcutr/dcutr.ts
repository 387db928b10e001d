/**
 * DCUtR, Direct Connection Upgrade through Relay (`/libp2p/dcutr`, specs relay/DCUtR.md): turns
 * a relayed connection into a direct one by a coordinated TCP simultaneous open (hole punch).
 *
 * Roles, as the spec names them: A dialed B through a relay; B (the inbound side of the relayed
 * connection) drives. B first dials A directly when A announces public addresses; otherwise B
 * opens the stream, sends CONNECT with its public addresses and times the answer (RTT); A
 * answers CONNECT with its own; B sends SYNC, waits RTT/2 and dials, while A dials as soon as
 * SYNC arrives, so both SYNs cross in flight. Up to three attempts on the same stream (a new
 * stream when the other side closed it after one attempt, as go-libp2p does).
 *
 * Both peers get an outgoing socket from a simultaneous open, so the handshake roles are
 * assigned: A is the security (and muxer) initiator, B the responder (go-libp2p's rule since
 * v0.41), swapped on the last attempt for peers that had them the other way round; both sides
 * count attempts on the stream, so they agree.
 *
 * The addresses sent are the public ones the node announces plus those peers observed for it
 * over direct connections (identify): with the TCP transport's shared dial port
 * (transport/tcp/dial-port.ts) an endpoint-independent NAT maps the port the punch leaves from
 * to exactly the observed one. Usage: `services: { dcutr: dcutr() }` (needs identify).
 */
import { multiaddr, CODE_QUIC_V1, CODE_TCP, type Multiaddr } from '@multiformats/multiaddr'
import type { NodeComponents, Startable } from '../../interface/components.ts'
import type { Connection } from '../../interface/connection.ts'
import type { HandshakeRole } from '../../interface/connection-manager.ts'
import type { IdentifyResult } from '../../interface/events.ts'
import type { Logger } from '../../interface/logger.ts'
import type { Stream } from '../../interface/stream.ts'
import { raceSignal } from '../../util/abort.ts'
import { Deadline } from '../../util/deadline.ts'
import { InvalidMessageError, MessageTooLargeError, ServiceStoppedError } from '../../util/errors.ts'
import { isRelayed, reachabilityOf, withoutPeerId } from '../../util/multiaddr.ts'
import { StreamReader } from '../../util/stream-reader.ts'
import { delay } from '../../util/timers.ts'
import { HolePunchFailedError, HolePunchProtocolError } from './errors.ts'
import { DCUTR_PROTOCOL, MAX_HOLE_PUNCH_MESSAGE_SIZE, decodeHolePunch, encodeHolePunch, type HolePunchMessage } from './message.ts'
import { encodeLP } from '../../util/stream-reader.ts'

export interface DcutrOptions {
  /** Hole-punch attempts per relayed connection (spec: 3). */
  maxAttempts?: number
  /** Budget of one attempt's direct dial, and of the direct dial before punching, in ms (default 5 s). */
  dialTimeout?: number
  /** Budget of the whole exchange on one stream, in ms (default 60 s, go-libp2p's). */
  streamTimeout?: number
  /** Swap the handshake roles on the last attempt (default true). */
  swapRolesOnLastAttempt?: boolean
  /** Observed addresses remembered for CONNECT messages (default 8, newest first). */
  maxObservedAddrs?: number
}

export type DcutrComponents = Pick<NodeComponents, 'registrar' | 'connectionManager' | 'peerStore' | 'addressManager' | 'events' | 'logger'>

/** One side's progress through an exchange, for the outcome event. */
interface Attempted { attempt: number, started: number }

export class DcutrService implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/dcutr']
  readonly serviceDependencies: readonly string[] = ['@libp2p/identify']
  readonly #components: DcutrComponents
  readonly #log: Logger
  readonly #maxAttempts: number
  readonly #dialTimeout: number
  readonly #streamTimeout: number
  readonly #swapRoles: boolean
  readonly #maxObserved: number
  /** Addresses peers saw us at over direct connections, with the connection each came over. */
  #observed: Array<{ addr: Multiaddr, connection: Connection }> = []
  /** Peers with an upgrade in progress (one at a time per peer). */
  readonly #active = new Set<string>()
  /** A's side: attempts answered so far on each relayed connection. */
  readonly #responding = new WeakMap<Connection, Attempted>()
  #stopController = new AbortController()

  constructor (components: DcutrComponents, options: DcutrOptions = {}) {
    this.#components = components
    this.#log = components.logger('dcutr')
    this.#maxAttempts = options.maxAttempts ?? 3
    this.#dialTimeout = options.dialTimeout ?? 5_000
    this.#streamTimeout = options.streamTimeout ?? 60_000
    this.#swapRoles = options.swapRolesOnLastAttempt ?? true
    this.#maxObserved = options.maxObservedAddrs ?? 8
  }

  start (): void {
    this.#stopController = new AbortController()
    this.#components.registrar.handle(DCUTR_PROTOCOL, (stream, connection) => { void this.#respond(stream, connection) }, {
      runOnLimitedConnection: true,
      maxInboundStreams: 2,
      maxOutboundStreams: 2
    })
    this.#components.events.addEventListener('peer:identify', this.#onIdentify)
  }

  stop (): void {
    this.#components.events.removeEventListener('peer:identify', this.#onIdentify)
    this.#components.registrar.unhandle(DCUTR_PROTOCOL)
    this.#stopController.abort(new ServiceStoppedError('dcutr stopped'))
  }

  readonly #onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { connection, observedAddr } = evt.detail
    if (isRelayed(connection.remoteAddr)) {
      // B's side: the relayed connection came in and identify told us A's addresses.
      if (connection.direction === 'inbound') {
        this.upgrade(connection).catch(err => { this.#log('upgrade of the connection to %s failed: %s', connection.remotePeer, err.message) })
      }
    } else if (observedAddr !== undefined) {
      this.#remember(observedAddr, connection)
    }
  }

  #remember (addr: Multiaddr, connection: Connection): void {
    if (isRelayed(addr) || reachabilityOf(addr) !== 'public') return
    // One entry per connection: the same address seen over two connections stays usable
    // while either is open (a punched connection that closes must not take the relay's with it).
    const kept = this.#observed.filter(o => o.connection !== connection && o.connection.status === 'open')
    this.#observed = [...kept, { addr, connection }].slice(-this.#maxObserved)
  }

  /**
   * Observed addresses worth punching to: only those seen over connections still open (the
   * NAT mapping of a closed one is gone or about to be), oldest connection first. The oldest
   * is the one that left from the TCP transport's shared dial port, which the punch leaves
   * from too; later connections to the same peer fell back to ephemeral ports, whose mappings
   * a punch cannot use, and a router that answers unsolicited SYNs with RST punishes a peer
   * that tries them first.
   */
  #punchableObserved (): Multiaddr[] {
    return this.#observed
      .filter(o => o.connection.status === 'open')
      .sort((a, b) => a.connection.timeline.open - b.connection.timeline.open)
      .map(o => o.addr)
  }

  /**
   * Our public direct addresses for CONNECT: observed ones (what a punch can use), then
   * announced ones. Observed QUIC addresses count only while we listen on QUIC: a QUIC punch
   * ends in the peer's dial to our socket, which a dial-only socket does not accept. (TCP
   * needs no listener: both sides dial, from the TCP transport's shared dial port.)
   */
  #ownAddrs (): Multiaddr[] {
    const quicListening = this.#components.addressManager.getListenAddrs().some(a => transportOf(a) === 'quic')
    const seen = new Set<string>()
    const out: Multiaddr[] = []
    const observed = this.#punchableObserved().filter(a => quicListening || transportOf(a) !== 'quic')
    for (const addr of [...observed, ...this.#components.addressManager.getAddresses().map(withoutPeerId)]) {
      const text = addr.toString()
      if (seen.has(text) || isRelayed(addr) || reachabilityOf(addr) !== 'public') continue
      seen.add(text)
      out.push(addr)
    }
    return out
  }

  /**
   * B's side: upgrades a relayed connection to a direct one. Resolves with the direct
   * connection; rejects with HolePunchFailedError after the last attempt (the relayed
   * connection is left as it was). Emits `holepunch` either way.
   */
  async upgrade (relayed: Connection): Promise<Connection> {
    const peer = relayed.remotePeer
    const key = peer.toString()
    if (this.#active.has(key)) throw new HolePunchFailedError(`an upgrade of the connection to ${key} is already running`)
    this.#active.add(key)
    const progress: Attempted = { attempt: 0, started: performance.now() }
    try {
      const existing = this.#directConnection(relayed)
      if (existing !== undefined) return existing
      const direct = await this.#dialPublicAddrs(relayed) ?? await this.#punchAsB(relayed, progress)
      this.#emit(relayed, progress, direct)
      this.#retireRelayed(relayed, direct)
      return direct
    } catch (err) {
      this.#emit(relayed, progress, undefined)
      throw err
    } finally {
      this.#active.delete(key)
    }
  }

  #directConnection (relayed: Connection): Connection | undefined {
    return this.#components.connectionManager.getConnections(relayed.remotePeer)
      .find(c => c.status === 'open' && !isRelayed(c.remoteAddr))
  }

  /** The spec's first step: a plain dial when A announces public addresses. */
  async #dialPublicAddrs (relayed: Connection): Promise<Connection | undefined> {
    let known: Multiaddr[] = []
    try {
      known = (await this.#components.peerStore.get(relayed.remotePeer)).addresses.map(a => a.multiaddr)
    } catch {}
    const addrs = known.filter(a => !isRelayed(a) && reachabilityOf(a) === 'public')
    if (addrs.length === 0) return undefined
    try {
      return await this.#dial(relayed, addrs, 'initiator')
    } catch (err) {
      this.#log('direct dial of %s failed, punching: %s', relayed.remotePeer, (err as Error).message)
      return undefined
    }
  }

  async #punchAsB (relayed: Connection, progress: Attempted): Promise<Connection> {
    const deadline = new Deadline(this.#streamTimeout, this.#stopController.signal, `the hole punch with ${relayed.remotePeer.toString()} timed out`)
    let exchange: { stream: Stream, reader: StreamReader } | undefined
    let lastError: Error | undefined
    try {
      // go-libp2p's A ends the stream after each attempt: then the next one takes a new stream
      // (once per attempt, so a peer that keeps ending streams cannot keep us looping).
      let reopened = false
      while (progress.attempt < this.#maxAttempts) {
        const attempt = progress.attempt + 1
        const ownAddrs = this.#ownAddrs()
        if (ownAddrs.length === 0) throw new HolePunchFailedError('no public address of ours to send (no observed address yet)')
        const fresh = exchange === undefined
        exchange ??= await this.#openExchange(relayed, deadline.signal)
        const sentAt = performance.now()
        let answer: HolePunchMessage | null
        try {
          await exchange.stream.write(encodeLP(encodeHolePunch({ type: 'CONNECT', observedAddrs: ownAddrs.map(a => a.bytes) })), { signal: deadline.signal })
          answer = await readMessage(exchange.reader, deadline.signal)
        } catch (err) {
          if (fresh || reopened || deadline.signal.aborted || err instanceof InvalidMessageError || err instanceof MessageTooLargeError) throw err
          answer = null
        }
        if (answer === null) {
          exchange.stream.abort(new HolePunchProtocolError('the stream ended before CONNECT'))
          exchange = undefined
          if (fresh || reopened) throw new HolePunchProtocolError('the stream ended before CONNECT')
          reopened = true
          continue
        }
        reopened = false
        const rtt = performance.now() - sentAt
        progress.attempt = attempt
        const remoteAddrs = expectConnect(answer)
        await exchange.stream.write(encodeLP(encodeHolePunch({ type: 'SYNC', observedAddrs: [] })), { signal: deadline.signal })
        await delay(rtt / 2, deadline.signal)
        try {
          const direct = await this.#dial(relayed, remoteAddrs, this.#roleOf('B', attempt))
          await exchange.stream.close().catch(() => {})
          return direct
        } catch (err) {
          lastError = err as Error
          this.#log('hole punch attempt %d with %s failed: %s', attempt, relayed.remotePeer, lastError.message)
        }
      }
      throw new HolePunchFailedError(`no direct connection to ${relayed.remotePeer.toString()} after ${progress.attempt} attempts`, { cause: lastError })
    } catch (err) {
      exchange?.stream.abort(err as Error)
      throw deadline.signal.aborted ? deadline.signal.reason as Error : err
    } finally {
      deadline.clear()
    }
  }

  async #openExchange (relayed: Connection, signal: AbortSignal): Promise<{ stream: Stream, reader: StreamReader }> {
    const stream = await relayed.newStream(DCUTR_PROTOCOL, { runOnLimitedConnection: true, signal })
    return { stream, reader: new StreamReader(stream) }
  }

  /** A's side: answers CONNECT and dials on SYNC, for as many attempts as B makes. */
  async #respond (stream: Stream, relayed: Connection): Promise<void> {
    if (!isRelayed(relayed.remoteAddr)) {
      stream.abort(new HolePunchProtocolError('DCUtR runs over relayed connections only'))
      return
    }
    const deadline = new Deadline(this.#streamTimeout, this.#stopController.signal, `the hole punch with ${relayed.remotePeer.toString()} timed out`)
    const reader = new StreamReader(stream)
    // Attempts count per relayed connection, not per stream: go-libp2p's B opens a new stream
    // for each attempt, and the last attempt's role swap must happen on both sides.
    let progress = this.#responding.get(relayed)
    if (progress === undefined) {
      progress = { attempt: 0, started: performance.now() }
      this.#responding.set(relayed, progress)
    }
    let direct: Connection | undefined
    let finished = false
    try {
      while (progress.attempt < this.#maxAttempts && direct === undefined) {
        const connect = await readMessage(reader, deadline.signal)
        if (connect === null) break
        const remoteAddrs = expectConnect(connect)
        progress.attempt++
        await stream.write(encodeLP(encodeHolePunch({ type: 'CONNECT', observedAddrs: this.#ownAddrs().map(a => a.bytes) })), { signal: deadline.signal })
        const sync = await readMessage(reader, deadline.signal)
        if (sync?.type !== 'SYNC') throw new HolePunchProtocolError(`expected SYNC, got ${sync === null ? 'the end of the stream' : sync.type}`)
        try {
          direct = await this.#dial(relayed, remoteAddrs, this.#roleOf('A', progress.attempt))
        } catch (err) {
          this.#log('hole punch attempt %d with %s failed: %s', progress.attempt, relayed.remotePeer, (err as Error).message)
        }
      }
      finished = direct !== undefined || progress.attempt >= this.#maxAttempts
      await stream.close({ signal: deadline.signal }).catch(() => {})
    } catch (err) {
      this.#log('hole punch exchange with %s broke: %s', relayed.remotePeer, (err as Error).message)
      stream.abort(err as Error)
      finished = true
    } finally {
      deadline.clear()
      if (finished) {
        this.#responding.delete(relayed)
        if (progress.attempt > 0) this.#emit(relayed, progress, direct)
        if (direct !== undefined) this.#retireRelayed(relayed, direct)
      }
    }
  }

  /**
   * Closes the relayed connection once the direct one is up and no stream runs on it any more
   * (both sides do it; the first close wins). New streams already take the direct connection:
   * the connection manager prefers an unlimited one. go-libp2p leaves the relayed connection to
   * the relay's limits and its connection manager's trimming; closing it here frees the relay's
   * circuit slot and the data limit at once. Streams that still run (a transfer that started
   * relayed) finish first; a direct connection that closes meanwhile keeps the relayed one.
   */
  #retireRelayed (relayed: Connection, direct: Connection): void {
    const signal = this.#stopController.signal
    const run = async (): Promise<void> => {
      while (relayed.status === 'open' && direct.status === 'open' && !signal.aborted) {
        const running = relayed.streams.filter(s => s.status === 'open' || s.status === 'closing')
        if (running.length === 0) {
          this.#log('closing the relayed connection to %s: the direct one is up', relayed.remotePeer)
          await relayed.close({ signal }).catch(err => { relayed.abort(err as Error) })
          return
        }
        // (a stream's `closed` also resolves when the connection goes)
        await raceSignal(Promise.race(running.map(async s => { await s.closed })), signal)
      }
    }
    run().catch(err => { this.#log('retiring the relayed connection to %s: %s', relayed.remotePeer, (err as Error).message) })
  }

  /** A initiates the handshakes, B responds; the other way round on the last attempt. */
  #roleOf (side: 'A' | 'B', attempt: number): HandshakeRole {
    const swapped = this.#swapRoles && attempt === this.#maxAttempts && attempt > 1
    return (side === 'A') !== swapped ? 'initiator' : 'responder'
  }

  /**
   * One attempt's direct connection. TCP addresses are dialed with the handshake role given
   * (both sides dial: a simultaneous open). QUIC addresses the responder does not dial: as the
   * spec has it, it sends random datagrams to them from its listen socket (opening its NAT's
   * mapping) and takes the other side's dial as an inbound connection; the initiator dials
   * them. go-libp2p splits the roles the same way (its "client" dials).
   */
  async #dial (relayed: Connection, addrs: Multiaddr[], role: HandshakeRole): Promise<Connection> {
    const peer = relayed.remotePeer.toString()
    const manager = this.#components.connectionManager
    const punchable = role === 'responder' ? addrs.filter(a => manager.canHolePunch?.(a) === true) : []
    const dialable = addrs.filter(a => !punchable.includes(a))
    this.#log('punching %s as %s: %s', peer, role, addrs.map(String).join(' '))
    const deadline = new Deadline(this.#dialTimeout, this.#stopController.signal, `direct dial of ${peer} timed out`)
    const attempts: Array<Promise<Connection>> = []
    if (dialable.length > 0) {
      const targets = dialable.map(a => withoutPeerId(a).encapsulate(`/p2p/${peer}`))
      attempts.push(manager.openConnection(targets, { force: true, handshakeRole: role, signal: deadline.signal }))
    }
    if (punchable.length > 0) attempts.push(this.#punchAndAwaitDial(relayed, punchable, deadline.signal))
    try {
      return await Promise.any(attempts)
    } catch (err) {
      throw err instanceof AggregateError ? err.errors[0] as Error : err
    } finally {
      // the losers (a dial or a punch still running) stop here
      deadline.abort(new HolePunchFailedError('the attempt is over'))
      deadline.clear()
    }
  }

  /** UDP hole punch to `addrs` until the peer's dial arrives as a direct connection (or the signal aborts). */
  async #punchAndAwaitDial (relayed: Connection, addrs: Multiaddr[], signal: AbortSignal): Promise<Connection> {
    const existing = this.#directConnection(relayed)
    if (existing !== undefined) return existing
    const manager = this.#components.connectionManager
    const events = this.#components.events
    let onOpen: ((evt: CustomEvent<Connection>) => void) | undefined
    let onAbort: (() => void) | undefined
    const arrived = new Promise<Connection>((resolve, reject) => {
      onOpen = (evt) => {
        const c = evt.detail
        if (c.remotePeer.equals(relayed.remotePeer) && c.status === 'open' && !isRelayed(c.remoteAddr)) resolve(c)
      }
      onAbort = () => { reject(signal.reason) }
      events.addEventListener('connection:open', onOpen)
      signal.addEventListener('abort', onAbort, { once: true })
    })
    // the punches end with the signal: when the dial arrived, failed or timed out
    const punching = new AbortController()
    const stopPunching = (): void => { punching.abort() }
    signal.addEventListener('abort', stopPunching, { once: true })
    for (const addr of addrs) {
      manager.holePunch!(addr, { signal: punching.signal }).catch(err => { this.#log('hole punch to %s failed: %s', addr, (err as Error).message) })
    }
    try {
      return await arrived
    } finally {
      punching.abort()
      signal.removeEventListener('abort', stopPunching)
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
      if (onOpen !== undefined) events.removeEventListener('connection:open', onOpen)
    }
  }

  #emit (relayed: Connection, progress: Attempted, direct: Connection | undefined): void {
    this.#components.events.safeDispatch('holepunch', {
      peer: relayed.remotePeer,
      success: direct !== undefined,
      ms: Math.round(performance.now() - progress.started),
      attempt: progress.attempt,
      addr: direct?.remoteAddr,
      direction: direct?.direction
    })
  }
}

/** 'quic' for a QUIC address, 'tcp' for a TCP one, '' otherwise. */
function transportOf (addr: Multiaddr): string {
  const codes = addr.getComponents().map(c => c.code)
  if (codes.includes(CODE_QUIC_V1)) return 'quic'
  if (codes.includes(CODE_TCP)) return 'tcp'
  return ''
}

async function readMessage (reader: StreamReader, signal: AbortSignal): Promise<HolePunchMessage | null> {
  const bytes = await reader.readLP({ maxLength: MAX_HOLE_PUNCH_MESSAGE_SIZE, signal })
  return bytes === null ? null : decodeHolePunch(bytes)
}

/** The dialable addresses of a CONNECT; unparsable, relayed and non-public ones are dropped. */
function expectConnect (message: HolePunchMessage): Multiaddr[] {
  if (message.type !== 'CONNECT') throw new HolePunchProtocolError(`expected CONNECT, got ${message.type}`)
  const addrs: Multiaddr[] = []
  for (const bytes of message.observedAddrs) {
    try {
      const addr = multiaddr(bytes)
      if (!isRelayed(addr) && reachabilityOf(addr) === 'public') addrs.push(addr)
    } catch {}
  }
  if (addrs.length === 0) throw new HolePunchProtocolError('CONNECT carried no public address to dial')
  return addrs
}

/** `services: { dcutr: dcutr() }` */
export function dcutr (options: DcutrOptions = {}): (components: DcutrComponents) => DcutrService {
  return (components) => new DcutrService(components, options)
}
