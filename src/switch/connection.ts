/**
 * A secured, multiplexed connection to one peer. It owns the stream muxer and runs
 * multistream-select on every stream: outbound streams negotiate one of the caller's protocols,
 * inbound streams are matched against the registrar and handed to the protocol's handler.
 * Per-protocol stream limits from the registrar are enforced per connection here.
 *
 * Closing: `close()` is graceful (the muxer lets streams finish, bounded by `closeTimeout`, then
 * the connection is aborted), `abort(err)` is immediate. Either way `onClose` runs exactly once.
 */
import type { StreamBytes } from '../metrics/stream-bytes.ts'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions, Direction } from '../interface/common.ts'
import type { Connection, ConnectionLimits, ConnectionStatus, ConnectionTimeline, NewStreamOptions } from '../interface/connection.ts'
import type { MemoryAccount, StreamMuxer, StreamMuxerFactory } from '../interface/muxer.ts'
import type { Registrar } from '../interface/registrar.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { ByteStream, Stream } from '../interface/stream.ts'
import type { RawConnection } from '../interface/transport.ts'
import { handle, handleQueued, lazySelect, select } from '../mss/index.ts'
import { ConnectionClosedError, InvalidParametersError, LimitExceededError, UnsupportedProtocolError } from '../util/errors.ts'
import { logger } from '../util/logger.ts'
import type { Logger } from '../interface/logger.ts'
import { Deadline } from '../util/deadline.ts'
import { DEFAULT_MAX_OUTBOUND_STREAMS } from './registrar.ts'
import { unrefTimeout } from '../util/timers.ts'
import { TokenBucket } from '../util/token-bucket.ts'
import type { ResourceManager, StreamResources } from './resource-manager/index.ts'

export const DEFAULT_NEGOTIATION_TIMEOUT = 10_000
export const DEFAULT_CLOSE_TIMEOUT = 5_000
/**
 * Inbound streams whose negotiation may fail (unknown protocol, reset or silence before a
 * protocol was agreed), in a burst and per second after it. Each costs us a stream, a
 * negotiation and a timer and the remote a few bytes, so a remote that floods them loses the
 * connection; an honest peer fails a few negotiations per protocol it probes.
 */
export const DEFAULT_FAILED_NEGOTIATIONS = { burst: 256, perSecond: 32 }

export interface ConnectionInit {
  remotePeer: PeerId
  remoteAddr: Multiaddr
  direction: Direction
  /** The security protocol id, e.g. '/noise'. */
  encryption: string
  /** The raw transport connection under everything; aborted when the connection dies. */
  rawConnection: RawConnection
  /** The secured byte stream the muxer runs over. */
  securedConnection: ByteStream
  muxerFactory: StreamMuxerFactory
  registrar: Registrar
  limits?: ConnectionLimits
  /** When the raw connection opened (ms since epoch). */
  openedAt?: number
  /** Bound for multistream-select on a new stream, each direction (default 10 s). */
  negotiationTimeout?: number
  /** Bound for a graceful close before the connection is aborted (default 5 s). */
  closeTimeout?: number
  /** Runs once when the connection has closed, whatever the cause. */
  onClose?(connection: SwitchConnection): void
  /** Every stream reserves from it for its life (refused: ResourceLimitError). */
  resourceManager?: StreamResourceManager
  /** Budget of failed inbound negotiations before the connection is aborted (DEFAULT_FAILED_NEGOTIATIONS). */
  failedNegotiations?: { burst: number, perSecond: number }
  log?: Logger
  /** Counts a stream's bytes by protocol when it closes (metrics on). */
  streamBytes?: StreamBytes
}

/** What a connection needs of the resource manager. */
export type StreamResourceManager = Pick<ResourceManager, 'openStream'>

/**
 * The muxer's memory account: reservations go to the connection's resource scopes once the
 * connection manager attaches them (when it registers the connection); what the muxer reserved
 * before that (the first moments of a connection) was not counted and is not released there.
 */
class ConnectionMemory implements MemoryAccount {
  #account: MemoryAccount | undefined
  #uncounted = 0

  attach (account: MemoryAccount): void { this.#account ??= account }

  reserve (bytes: number): boolean {
    if (this.#account !== undefined) return this.#account.reserve(bytes)
    this.#uncounted += bytes
    return true
  }

  release (bytes: number): void {
    const uncounted = Math.min(bytes, this.#uncounted)
    this.#uncounted -= uncounted
    if (bytes > uncounted) this.#account?.release(bytes - uncounted)
  }
}

/**
 * What one stream holds on its connection until it closes: its resource reservation, and once
 * its protocol is agreed, a place in that protocol's stream count. One object per stream, told
 * by the stream's close hook, instead of a promise reaction (and a closure) per thing held.
 */
class HeldStream {
  readonly #connection: SwitchConnection
  readonly #stream: Stream
  readonly #resources: StreamResources | undefined
  readonly #counts: Map<string, number>
  readonly #streamBytes: StreamBytes | undefined
  #protocol: string | undefined
  #ended = false

  constructor (connection: SwitchConnection, stream: Stream, resources: StreamResources | undefined, counts: Map<string, number>, streamBytes: StreamBytes | undefined) {
    this.#connection = connection
    this.#stream = stream
    this.#resources = resources
    this.#counts = counts
    this.#streamBytes = streamBytes
  }

  /** The protocol is agreed: the stream counts against its limit until it closes. */
  count (protocol: string): void {
    if (this.#ended) return
    this.#protocol = protocol
    this.#counts.set(protocol, (this.#counts.get(protocol) ?? 0) + 1)
  }

  ended (): void {
    if (this.#ended) return
    this.#ended = true
    this.#resources?.done()
    const protocol = this.#protocol
    if (protocol === undefined) return
    this.#streamBytes?.count(this.#stream, this.#connection)
    const n = (this.#counts.get(protocol) ?? 1) - 1
    if (n <= 0) this.#counts.delete(protocol)
    else this.#counts.set(protocol, n)
  }
}

/**
 * Tells `held` once `stream` has finished: synchronously through the stream's close hook
 * (every stream class of ours has one), else after `closed` resolves (streams of other origins).
 */
function whenClosed (stream: Stream, held: HeldStream): void {
  if (stream.onceClosed !== undefined) stream.onceClosed(() => { held.ended() })
  else void stream.closed.then(() => { held.ended() })
}

const connectionLog = logger('connection')
let nextId = 0
const idPrefix = Math.floor(Math.random() * 0xffffff).toString(36)

export class SwitchConnection implements Connection {
  readonly id: string
  readonly remotePeer: PeerId
  readonly remoteAddr: Multiaddr
  readonly localAddr: Multiaddr | undefined
  readonly direction: Direction
  readonly encryption: string
  readonly multiplexer: string
  readonly timeline: ConnectionTimeline
  readonly limits?: ConnectionLimits
  /** Free-form data for the switch and services. */
  readonly tags = new Set<string>()
  readonly #muxer: StreamMuxer
  readonly #raw: RawConnection
  readonly #registrar: Registrar
  readonly #resources: StreamResourceManager | undefined
  readonly #negotiationTimeout: number
  readonly #closeTimeout: number
  readonly #onClose: ((connection: SwitchConnection) => void) | undefined
  readonly #log: Logger
  #status: ConnectionStatus = 'open'
  #closing: Promise<void> | undefined
  #released: Promise<void> | undefined
  readonly #inboundCounts = new Map<string, number>()
  readonly #outboundCounts = new Map<string, number>()
  /** Made at the first failed inbound negotiation: most connections never have one. */
  #failedNegotiations: TokenBucket | undefined
  readonly #memory = new ConnectionMemory()
  readonly #failedNegotiationBudget: { burst: number, perSecond: number }
  readonly #streamBytes: StreamBytes | undefined
  #pingRtt: number | undefined

  get rtt (): number | undefined {
    if (this.#pingRtt !== undefined) return this.#pingRtt
    const muxerRtt = this.#muxer?.rtt
    return muxerRtt !== undefined && muxerRtt > 0 ? muxerRtt : undefined
  }

  set rtt (ms: number | undefined) { this.#pingRtt = ms }

  constructor (init: ConnectionInit) {
    this.id = `${idPrefix}-${(nextId++).toString(36)}`
    this.remotePeer = init.remotePeer
    this.remoteAddr = init.remoteAddr
    this.localAddr = init.rawConnection.localAddr
    this.direction = init.direction
    this.encryption = init.encryption
    this.multiplexer = init.muxerFactory.protocol
    this.limits = init.limits
    this.timeline = { open: init.openedAt ?? Date.now(), upgraded: Date.now() }
    this.#raw = init.rawConnection
    this.#registrar = init.registrar
    this.#resources = init.resourceManager
    this.#negotiationTimeout = init.negotiationTimeout ?? DEFAULT_NEGOTIATION_TIMEOUT
    this.#closeTimeout = init.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT
    this.#onClose = init.onClose
    this.#failedNegotiationBudget = init.failedNegotiations ?? DEFAULT_FAILED_NEGOTIATIONS
    this.#streamBytes = init.streamBytes
    // One logger for every connection, the id in each message: a child logger per connection
    // costs ~12 us to build, on the critical path of every connection.
    this.#log = init.log ?? connectionLog
    init.rawConnection.useMemory?.(this.#memory)
    this.#muxer = init.muxerFactory.createStreamMuxer(init.securedConnection, {
      direction: init.direction,
      onIncomingStream: stream => { this.#onIncomingStream(stream) },
      onClose: err => { this.#finish(err) },
      memory: this.#memory
    })
  }

  get status (): ConnectionStatus { return this.#status }

  /** From now on the muxer's buffer growth is reserved from `account` (the connection's scopes). */
  attachMemory (account: MemoryAccount): void { this.#memory.attach(account) }
  get streams (): readonly Stream[] { return this.#muxer.streams }

  async newStream (protocols: string | string[], options: NewStreamOptions = {}): Promise<Stream> {
    const list = typeof protocols === 'string' ? [protocols] : protocols
    if (list.length === 0) throw new InvalidParametersError('newStream needs at least one protocol')
    if (this.#status !== 'open') throw new ConnectionClosedError(`connection ${this.id} to ${this.remotePeer.toString()} is ${this.#status}`)
    if (this.limits !== undefined && options.runOnLimitedConnection !== true) {
      throw new LimitExceededError(`connection ${this.id} is limited; pass runOnLimitedConnection to open ${list.join(', ')} on it`)
    }
    // With one candidate the limit is known up front: fail before opening anything.
    if (list.length === 1) this.#checkOutboundLimit(list[0], options)
    const resources = this.#resources?.openStream(this.remotePeer, 'outbound')
    const timeoutMs = this.#negotiationTimeout
    const deadline = new Deadline(timeoutMs, options.signal, () => `negotiating ${list.join(', ')} timed out after ${timeoutMs} ms`)
    let stream: Stream | undefined
    try {
      stream = await this.#muxer.newStream({ signal: deadline.signal })
      const held = new HeldStream(this, stream, resources, this.#outboundCounts, this.#streamBytes)
      whenClosed(stream, held)
      let protocol: string
      if (list.length === 1 && options.negotiateFully === false) {
        protocol = list[0]
        stream = lazySelect(stream, protocol)
      } else {
        protocol = await select(stream, list, { signal: deadline.signal })
      }
      this.#checkOutboundLimit(protocol, options)
      resources?.setProtocol(protocol)
      stream.protocol = protocol
      held.count(protocol)
      return stream
    } catch (err) {
      if (stream !== undefined) stream.abort(err as Error)
      else resources?.done()
      throw err
    } finally {
      deadline.clear()
    }
  }

  #checkOutboundLimit (protocol: string, options: NewStreamOptions): void {
    const limit = options.maxOutboundStreams ?? this.#registrar.getHandler(protocol)?.options.maxOutboundStreams ?? DEFAULT_MAX_OUTBOUND_STREAMS
    if ((this.#outboundCounts.get(protocol) ?? 0) >= limit) {
      throw new LimitExceededError(`too many outbound ${protocol} streams on connection ${this.id}: limit ${limit}`)
    }
  }

  #onIncomingStream (stream: Stream): void {
    if (this.#status !== 'open') {
      stream.abort(new ConnectionClosedError('the connection is closing'))
      return
    }
    void this.#acceptStream(stream)
  }

  async #acceptStream (stream: Stream): Promise<void> {
    let resources: StreamResources | undefined
    try {
      resources = this.#resources?.openStream(this.remotePeer, 'inbound')
    } catch (err) {
      stream.abort(err as Error)
      return
    }
    const held = new HeldStream(this, stream, resources, this.#inboundCounts, this.#streamBytes)
    whenClosed(stream, held)
    // A proposal that arrived whole with the stream (lazy select) is answered at once; only a
    // negotiation that has to wait gets a time limit.
    let protocol: string | undefined
    try {
      protocol = handleQueued(stream, this.#registrar.getProtocols())
      if (protocol === undefined) {
        // A muxer announces a stream before it queues the data of the frame that opened it
        // (QUIC, yamux): that data is there once the current frame is handled.
        await undefined
        protocol = handleQueued(stream, this.#registrar.getProtocols())
      }
    } catch (err) {
      // (the answer could not be sent: the stream is gone already)
      stream.abort(err as Error)
      return
    }
    if (protocol === undefined) {
      const deadline = new Deadline(this.#negotiationTimeout, undefined, `inbound stream negotiation timed out after ${this.#negotiationTimeout} ms`)
      try {
        protocol = await handle(stream, this.#registrar.getProtocols(), { signal: deadline.signal })
      } catch (err) {
        this.#log('%s: inbound stream negotiation failed: %s', this.id, err)
        stream.abort(err as Error)
        this.#countFailedNegotiation()
        return
      } finally {
        deadline.clear()
      }
    }
    const entry = this.#registrar.getHandler(protocol)
    if (entry === undefined) {
      stream.abort(new UnsupportedProtocolError(`${protocol} was unhandled during negotiation`))
      return
    }
    if (this.limits !== undefined && entry.options.runOnLimitedConnection !== true) {
      stream.abort(new LimitExceededError(`${protocol} does not run on limited connections`))
      return
    }
    const open = this.#inboundCounts.get(protocol) ?? 0
    if (open >= entry.options.maxInboundStreams) {
      this.#log('%s: resetting inbound %s stream: %d already open', this.id, protocol, open)
      stream.abort(new LimitExceededError(`too many inbound ${protocol} streams on connection ${this.id}: limit ${entry.options.maxInboundStreams}`))
      return
    }
    try {
      resources?.setProtocol(protocol)
    } catch (err) {
      stream.abort(err as Error)
      return
    }
    stream.protocol = protocol
    held.count(protocol)
    try {
      await entry.handler(stream, this)
    } catch (err) {
      this.#log.error('%s: %s handler failed: %s', this.id, protocol, err)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  #countFailedNegotiation (): void {
    if (this.#status !== 'open') return
    const budget = this.#failedNegotiationBudget
    this.#failedNegotiations ??= new TokenBucket(budget.burst, budget.perSecond)
    if (this.#failedNegotiations.take()) return
    this.abort(new LimitExceededError(`connection ${this.id}: the remote failed more than ${budget.burst} inbound stream negotiations at a rate above ${budget.perSecond}/s`))
  }

  close (options: AbortOptions = {}): Promise<void> {
    if (this.#status === 'closed') return this.#released ?? Promise.resolve()
    if (this.#closing !== undefined) return this.#closing
    this.#status = 'closing'
    this.#closing = (async () => {
      const deadline = new Deadline(this.#closeTimeout, options.signal, `closing connection ${this.id} timed out`)
      try {
        await this.#muxer.close({ signal: deadline.signal })
      } catch (err) {
        this.#log('%s: graceful close failed, aborting: %s', this.id, err)
        this.#muxer.abort(err as Error)
      } finally {
        deadline.clear()
      }
      this.#finish()
      await this.#released
    })()
    return this.#closing
  }

  abort (err: Error): void {
    if (this.#status === 'closed') return
    this.#log('%s: aborting: %s', this.id, err)
    this.#muxer.abort(err)
    this.#raw.abort(err)
    this.#finish(err)
  }

  #finish (err?: Error): void {
    if (this.#status === 'closed') return
    this.#status = 'closed'
    this.timeline.close = Date.now()
    if (err !== undefined) this.#log('%s: closed: %s', this.id, err)
    this.#releaseTransport()
    try {
      this.#onClose?.(this)
    } catch (e) {
      this.#log.error('%s: onClose threw: %s', this.id, e)
    }
  }

  /**
   * The muxer closed its side; give the transport a moment to finish the TCP FIN exchange,
   * then make sure the socket is gone even if the remote never answers. `close()` resolves
   * only once the socket is released.
   */
  #releaseTransport (): void {
    const raw = this.#raw
    if (raw.status !== 'open' && raw.status !== 'closing') {
      this.#released = Promise.resolve()
      return
    }
    // The socket itself keeps the process alive while it lives; this timer must not.
    const timer = unrefTimeout(() => { raw.abort(new ConnectionClosedError('the connection closed')) }, this.#closeTimeout)
    this.#released = raw.closed.then(() => { clearTimeout(timer) })
  }
}
