/**
 * The ping protocol (`/ipfs/ping/1.0.0`, specs ping/ping.md): the dialer writes 32 random
 * bytes, the listener echoes them, repeatedly on one stream until the dialer half-closes.
 *
 * Outbound, one stream per connection is kept for a few seconds after a ping and reused by
 * the next one (the spec allows at most one outbound ping stream per peer, so concurrent
 * pings on the same connection queue behind each other). Inbound, at most two streams per
 * connection, each closed after a period without pings.
 */
import type { Histogram } from '../../interface/metrics.ts'
import type { AbortOptions } from '../../interface/common.ts'
import type { Connection } from '../../interface/connection.ts'
import type { NodeComponents, Startable } from '../../interface/components.ts'
import type { Stream } from '../../interface/stream.ts'
import type { Logger } from '../../interface/logger.ts'
import { Deadline, closeOrAbort } from '../../util/deadline.ts'
import { equalBytes } from '../../util/bytes.ts'
import { AbortError, InvalidMessageError, ServiceStoppedError, StreamResetError } from '../../util/errors.ts'
import { StreamReader } from '../../util/stream-reader.ts'
import { echoUntilHalfClosed } from '../../util/echo-stream.ts'
import { resolveConnection, type ProtocolTarget } from '../connection-target.ts'
import { unrefTimeout } from '../../util/timers.ts'

export const PING_PAYLOAD_LENGTH = 32

/** Ends the read that watches an idle stream; nobody sees it (an abort() without a reason builds a DOMException with a stack each time). */
const STOP_WATCHING = new AbortError('the ping stream is in use again')

export interface PingOptions {
  /** Protocol id prefix: `/<prefix>/ping/1.0.0` (default 'ipfs'). */
  protocolPrefix?: string
  /** Budget of one `ping()` call including dialing, in ms (default 10 s). */
  timeout?: number
  /** An inbound ping stream is closed after this long without a ping, in ms (default 60 s). */
  inboundIdleTimeout?: number
  /** An outbound stream is kept for reuse this long after a ping, in ms (default 10 s; 0 = close at once). */
  reuseStreamFor?: number
  /** Inbound ping streams per connection (default 2, as the spec suggests). */
  maxInboundStreams?: number
  /** Ping over relayed (limited) connections (default true). */
  runOnLimitedConnection?: boolean
}

export type PingTarget = ProtocolTarget

export type PingComponents = Pick<NodeComponents, 'registrar' | 'connectionManager' | 'logger'> & Partial<Pick<NodeComponents, 'metrics'>>

interface OutboundPingStream {
  stream: Stream
  reader: StreamReader
  idle?: ReturnType<typeof setTimeout>
  /** Aborts the read that watches the stream while it is idle. */
  watch?: AbortController
}

export class PingService implements Startable {
  /** Literal, so the node's `services` type sees a ping (node/implied-services.ts). */
  readonly serviceCapabilities = ['@libp2p/ping'] as const
  readonly protocol: string
  readonly #components: PingComponents
  readonly #log: Logger
  readonly #timeout: number
  readonly #inboundIdleTimeout: number
  readonly #reuseStreamFor: number
  readonly #maxInboundStreams: number
  readonly #runOnLimitedConnection: boolean
  /** Reusable outbound streams, by connection id. */
  readonly #outbound = new Map<string, OutboundPingStream>()
  /** Per-connection tail of queued pings, so only one uses the stream at a time. */
  readonly #queues = new Map<string, Promise<unknown>>()
  readonly #inbound = new Set<Stream>()
  readonly #rttMetric: Histogram | undefined

  constructor (components: PingComponents, options: PingOptions = {}) {
    this.#components = components
    this.#rttMetric = components.metrics?.histogram({ name: 'libp2p_ping_rtt_seconds', help: 'Round-trip times of our pings' })
    this.#log = components.logger('ping')
    this.protocol = `/${options.protocolPrefix ?? 'ipfs'}/ping/1.0.0`
    this.#timeout = options.timeout ?? 10_000
    this.#inboundIdleTimeout = options.inboundIdleTimeout ?? 60_000
    this.#reuseStreamFor = options.reuseStreamFor ?? 10_000
    this.#maxInboundStreams = options.maxInboundStreams ?? 2
    this.#runOnLimitedConnection = options.runOnLimitedConnection ?? true
  }

  start (): void {
    this.#components.registrar.handle(this.protocol, (stream, connection) => this.#handle(stream, connection), {
      maxInboundStreams: this.#maxInboundStreams,
      // one in use plus one being closed
      maxOutboundStreams: 2,
      runOnLimitedConnection: this.#runOnLimitedConnection
    })
  }

  stop (): void {
    this.#components.registrar.unhandle(this.protocol)
    for (const key of [...this.#outbound.keys()]) this.#release(key, true)
    for (const stream of this.#inbound) stream.abort(new ServiceStoppedError('ping service stopped'))
    this.#inbound.clear()
  }

  /** Echoes every byte back until the dialer half-closes or goes quiet. */
  async #handle (stream: Stream, connection: Connection): Promise<void> {
    this.#inbound.add(stream)
    try {
      await echoUntilHalfClosed(stream, this.#inboundIdleTimeout, 'ping stream idle')
    } catch (err) {
      // the stream is aborted already
      this.#log('inbound ping from %s ended: %s', connection.remotePeer, (err as Error).message)
    } finally {
      this.#inbound.delete(stream)
    }
  }

  /** Round-trip time in ms (sub-millisecond resolution). */
  async ping (target: PingTarget, options: AbortOptions = {}): Promise<number> {
    // A Deadline, not AbortSignal.timeout: its timer goes away with the ping instead of
    // lingering for the whole timeout after every ping.
    const deadline = new Deadline(this.#timeout, options.signal, `ping timed out after ${this.#timeout} ms`)
    const signal = deadline.signal
    try {
      const connection = await resolveConnection(this.#components.connectionManager, target, signal)
      const key = connection.id
      const previous = this.#queues.get(key)
      const run = previous === undefined ? this.#pingOn(connection, signal) : previous.then(() => this.#pingOn(connection, signal))
      const tail = run.catch(() => {})
      this.#queues.set(key, tail)
      try {
        const rtt = await run
        this.#rttMetric?.observe(rtt / 1000)
        // the connection shows its latest RTT (the dashboard's RTT column)
        connection.rtt = rtt
        return rtt
      } finally {
        if (this.#queues.get(key) === tail) this.#queues.delete(key)
      }
    } finally {
      deadline.clear()
    }
  }

  async #pingOn (connection: Connection, signal: AbortSignal): Promise<number> {
    let entry = this.#outbound.get(connection.id)
    if (entry !== undefined) {
      if (entry.idle !== undefined) clearTimeout(entry.idle)
      entry.idle = undefined
      stopWatching(entry)
      if (entry.stream.status !== 'open') {
        this.#release(connection.id, true)
        entry = undefined
      }
    }
    const reused = entry !== undefined
    if (entry === undefined) entry = await this.#open(connection, signal)
    try {
      const rtt = await pingOnce(entry.stream, entry.reader, signal)
      this.#keep(connection.id)
      return rtt
    } catch (err) {
      this.#release(connection.id, true, err as Error)
      // A reused stream may have been closed by the remote's idle timeout just now.
      if (!reused || signal.aborted || err instanceof InvalidMessageError) throw err
      this.#log('reused ping stream failed (%s), retrying on a new one', (err as Error).message)
      entry = await this.#open(connection, signal)
      try {
        const rtt = await pingOnce(entry.stream, entry.reader, signal)
        this.#keep(connection.id)
        return rtt
      } catch (err2) {
        this.#release(connection.id, true, err2 as Error)
        throw err2
      }
    }
  }

  async #open (connection: Connection, signal: AbortSignal): Promise<OutboundPingStream> {
    // One protocol: propose it and send the first ping in the same flight (the listener's
    // multistream answer arrives before the echo), one round trip instead of two.
    const stream = await connection.newStream(this.protocol, { signal, runOnLimitedConnection: this.#runOnLimitedConnection, negotiateFully: false })
    const entry: OutboundPingStream = { stream, reader: new StreamReader(stream) }
    this.#outbound.set(connection.id, entry)
    return entry
  }

  #keep (key: string): void {
    const entry = this.#outbound.get(key)
    if (entry === undefined) return
    if (this.#reuseStreamFor <= 0) {
      this.#release(key, false)
      return
    }
    entry.idle = unrefTimeout(() => { this.#release(key, false) }, this.#reuseStreamFor)
    // Nobody reads an idle stream, so watch it: when the remote half-closes it (a graceful
    // connection close waits for every stream to finish both ways) it is released at once,
    // instead of stalling that close until the muxer's close timeout.
    const watch = new AbortController()
    entry.watch = watch
    entry.stream.read({ signal: watch.signal }).then((chunk) => {
      if (entry.watch !== watch) return
      entry.watch = undefined
      if (chunk === null) this.#release(key, false)
      else this.#release(key, true, new InvalidMessageError('unexpected data on an idle ping stream'))
    }, () => {
      if (entry.watch !== watch) return
      entry.watch = undefined
      this.#release(key, true)
    })
  }

  /** Forgets the stream for `key`: closed gracefully, or aborted after a failure. */
  #release (key: string, abort: boolean, err?: Error): void {
    const entry = this.#outbound.get(key)
    if (entry === undefined) return
    this.#outbound.delete(key)
    if (entry.idle !== undefined) clearTimeout(entry.idle)
    stopWatching(entry)
    if (abort) {
      entry.stream.abort(err ?? new StreamResetError('ping stream released'))
      return
    }
    void closeOrAbort(entry.stream, this.#timeout)
  }
}

function stopWatching (entry: OutboundPingStream): void {
  const watch = entry.watch
  entry.watch = undefined
  watch?.abort(STOP_WATCHING)
}

/**
 * Payloads are cut from a pool of random bytes filled for 128 pings at a time: a
 * getRandomValues call per payload cost ~10 us (a trip to the system's random source), on the
 * path of every first ping. Each payload is a copy, never reused.
 */
const PAYLOAD_POOL_SIZE = 128 * PING_PAYLOAD_LENGTH
let payloadPool = new Uint8Array(0)
let payloadPoolOffset = 0

function randomPayload (): Uint8Array {
  if (payloadPoolOffset + PING_PAYLOAD_LENGTH > payloadPool.length) {
    payloadPool = crypto.getRandomValues(new Uint8Array(PAYLOAD_POOL_SIZE))
    payloadPoolOffset = 0
  }
  const payload = payloadPool.slice(payloadPoolOffset, payloadPoolOffset + PING_PAYLOAD_LENGTH)
  payloadPoolOffset += PING_PAYLOAD_LENGTH
  return payload
}

/** One ping on an already negotiated stream; resolves with the RTT in ms. */
export async function pingOnce (stream: Stream, reader: StreamReader, signal?: AbortSignal): Promise<number> {
  const payload = randomPayload()
  const start = performance.now()
  if (!stream.send(payload)) await stream.drain({ signal })
  const echoed = await reader.readExactly(PING_PAYLOAD_LENGTH, { signal })
  const rtt = performance.now() - start
  if (!equalBytes(echoed, payload)) throw new InvalidMessageError('ping reply does not match the payload sent')
  return rtt
}

/** Service factory: `services: { ping: ping() }`. */
export function ping (options: PingOptions = {}): (components: PingComponents) => PingService {
  return (components) => new PingService(components, options)
}
