/**
 * The yamux session: parses frames straight out of the connection's chunks (a header may be
 * split across chunks, a chunk may hold many frames, a Data payload is handed to its stream
 * piece by piece without reassembly), routes them to streams, answers pings, keeps the
 * connection alive, and enforces the limits: stream counts, the ACK backlog, receive windows.
 *
 * The outbound (dialing) side is the yamux client and uses odd stream ids; the inbound side
 * uses even ids. Any violation by the remote (bad version or type, a Data frame beyond the
 * window, a SYN for a live or wrongly numbered stream) ends the session with
 * GoAway(protocol error) and an InvalidMessageError.
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { StreamMuxerInit } from '../../interface/muxer.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { raceSignal } from '../../util/abort.ts'
import { ConnectionClosedError, InvalidMessageError, LimitExceededError, TimeoutError } from '../../util/errors.ts'
import { logger } from '../../util/logger.ts'
import { DEFAULT_INBOUND_RESETS, MuxerBase, isRemoteFault } from '../muxer-base.ts'
import { Flag, FrameType, GoAwayCode, HEADER_LENGTH, INITIAL_STREAM_WINDOW, YAMUX_PROTOCOL, YAMUX_VERSION, readU32, writeHeader } from './frame.ts'
import { YamuxStream } from './stream.ts'
import type { YamuxStreamHost } from './stream.ts'
import { Deadline } from '../../util/deadline.ts'
import { unrefTimeout } from '../../util/timers.ts'

export interface YamuxOptions {
  /** Receive window announced for every stream (default and minimum 256 KiB). */
  initialStreamWindowSize?: number
  /** Receive windows grow with throughput up to this size (default 16 MiB). */
  maxStreamWindowSize?: number
  /** Largest Data frame payload we send (default 256 KiB). */
  maxMessageSize?: number
  /** Streams the remote may have open at once; more are refused with RST (default 1024). */
  maxInboundStreams?: number
  /** Streams we may have open at once (default 1024). */
  maxOutboundStreams?: number
  /** Outbound streams the remote has not acknowledged yet before newStream waits (default 256). */
  maxAckBacklog?: number
  /** Interval of keep-alive pings in ms; 0 disables them (default 30 s). */
  keepAliveInterval?: number
  /** A ping unanswered for this long (ms) aborts the connection (default 15 s). */
  pingTimeout?: number
  /** Upper bound for a graceful close (ms, default 2 s). */
  closeTimeout?: number
  /** Streams the remote may open and reset in a burst before the connection is closed (default 512). */
  maxInboundResetBurst?: number
  /** ... and per second after the burst (default 64). */
  inboundResetsPerSecond?: number
  /** How long (ms) a stream may have bytes queued while the remote keeps its window at zero
   * before it is reset (default 60 s): a peer that never reads cannot pin our buffers forever. */
  sendStallTimeout?: number
}

const DEFAULTS = {
  initialStreamWindowSize: INITIAL_STREAM_WINDOW,
  maxStreamWindowSize: 16 * 1024 * 1024,
  maxMessageSize: 256 * 1024,
  maxInboundStreams: 1024,
  maxOutboundStreams: 1024,
  maxAckBacklog: 256,
  keepAliveInterval: 30_000,
  pingTimeout: 15_000,
  closeTimeout: 2_000,
  maxInboundResetBurst: DEFAULT_INBOUND_RESETS.burst,
  inboundResetsPerSecond: DEFAULT_INBOUND_RESETS.perSecond,
  sendStallTimeout: 60_000
}

/** One logger for every yamux session (creating one per connection costs a few microseconds). */
const log = logger('yamux')

const MAX_STREAM_ID = 0xffffffff

interface Waiter<T> {
  resolve(value: T): void
  reject(err: Error): void
}

interface ActivePing {
  id: number
  start: number
  waiters: Array<Waiter<number>>
}

export class YamuxMuxer extends MuxerBase<YamuxStream> implements YamuxStreamHost {
  readonly protocol = YAMUX_PROTOCOL
  readonly maxFrameSize: number
  readonly maxWindow: number
  readonly #options: typeof DEFAULTS
  readonly #streams = new Map<number, YamuxStream>()
  readonly #remoteUsesOddIds: boolean
  #nextStreamId: number
  #inboundCount = 0
  #outboundCount = 0
  #unacknowledged = 0
  #backlogWaiters: Array<Waiter<void>> = []
  #remoteGoAway: number | undefined

  // parser state
  readonly #header = new Uint8Array(HEADER_LENGTH)
  #headerLength = 0
  #payloadRemaining = 0
  #payloadStream: YamuxStream | undefined
  #payloadFlags = 0

  // pings
  #rtt = 0
  #nextPingId = 0
  #activePing: ActivePing | undefined
  #pendingPong: number | undefined
  #keepAliveTimer: ReturnType<typeof setTimeout> | undefined

  // streams with bytes queued on a zero window, since when (one sweep timer for all of them)
  readonly #stalled = new Map<YamuxStream, number>()
  #stallTimer: ReturnType<typeof setTimeout> | undefined

  constructor (conn: ByteStream, init: StreamMuxerInit, options: YamuxOptions = {}) {
    const opts = { ...DEFAULTS, ...stripUndefined(options) }
    super(conn, init, { closeTimeout: opts.closeTimeout, inboundResets: { burst: opts.maxInboundResetBurst, perSecond: opts.inboundResetsPerSecond } }, log)
    if (opts.initialStreamWindowSize < INITIAL_STREAM_WINDOW) opts.initialStreamWindowSize = INITIAL_STREAM_WINDOW
    if (opts.maxStreamWindowSize < opts.initialStreamWindowSize) opts.maxStreamWindowSize = opts.initialStreamWindowSize
    this.#options = opts
    this.maxFrameSize = Math.max(1, opts.maxMessageSize)
    this.maxWindow = Math.min(opts.maxStreamWindowSize, MAX_STREAM_ID)
    const isClient = init.direction === 'outbound'
    this.#nextStreamId = isClient ? 1 : 2
    this.#remoteUsesOddIds = !isClient
    this.start()
    // One ping right away measures the round-trip time that window auto-tuning relies on.
    this.ping().catch(() => {})
    this.#scheduleKeepAlive()
  }

  get rtt (): number { return this.#rtt }
  get stopped (): boolean { return this.status === 'closed' }


  protected streamList (): Iterable<YamuxStream> { return this.#streams.values() }

  protected override remoteSaidGoodbye (): boolean { return this.#remoteGoAway !== undefined }

  // ---- opening streams --------------------------------------------------------------------

  protected createOutboundStream (options?: AbortOptions): YamuxStream | Promise<YamuxStream> {
    if (this.#remoteGoAway !== undefined) throw new ConnectionClosedError('the remote sent GoAway')
    if (this.#outboundCount >= this.#options.maxOutboundStreams) {
      throw new LimitExceededError(`yamux: outbound stream limit of ${this.#options.maxOutboundStreams} reached`)
    }
    if (this.#unacknowledged < this.#options.maxAckBacklog) return this.#openStream()
    return this.#openAfterBacklog(options)
  }

  async #openAfterBacklog (options?: AbortOptions): Promise<YamuxStream> {
    while (this.#unacknowledged >= this.#options.maxAckBacklog) {
      let waiter: Waiter<void> | undefined
      const wait = new Promise<void>((resolve, reject) => { waiter = { resolve, reject } })
      this.#backlogWaiters.push(waiter!)
      try {
        await raceSignal(wait, options?.signal)
      } finally {
        this.#backlogWaiters = this.#backlogWaiters.filter(w => w !== waiter)
      }
    }
    if (this.status !== 'open') throw new ConnectionClosedError('the muxer is closed')
    if (this.#remoteGoAway !== undefined) throw new ConnectionClosedError('the remote sent GoAway')
    if (this.#outboundCount >= this.#options.maxOutboundStreams) {
      throw new LimitExceededError(`yamux: outbound stream limit of ${this.#options.maxOutboundStreams} reached`)
    }
    return this.#openStream()
  }

  #openStream (): YamuxStream {
    const id = this.#nextStreamId
    if (id > MAX_STREAM_ID) throw new ConnectionClosedError('yamux: stream ids exhausted')
    this.#nextStreamId += 2
    const stream = new YamuxStream({ streamId: id, direction: 'outbound', host: this, recvWindow: this.#options.initialStreamWindowSize })
    this.#streams.set(id, stream)
    this.#outboundCount++
    this.#unacknowledged++
    writeHeader(this.batch, FrameType.WindowUpdate, Flag.SYN, id, stream.openingWindowDelta())
    this.batch.commit()
    return stream
  }

  streamAcknowledged (_stream: YamuxStream): void {
    this.#unacknowledged--
    const waiter = this.#backlogWaiters.shift()
    waiter?.resolve()
  }

  releaseStream (stream: YamuxStream): void {
    if (this.#streams.get(stream.streamId) !== stream) return
    this.#streams.delete(stream.streamId)
    if (stream.direction === 'inbound') {
      this.#inboundCount--
    } else {
      this.#outboundCount--
      if (stream.awaitingAck) this.streamAcknowledged(stream)
    }
    this.streamReleased()
  }

  reserveWindow (bytes: number): boolean {
    return this.init.memory?.reserve(bytes) ?? true
  }

  releaseWindow (bytes: number): void {
    this.init.memory?.release(bytes)
  }

  sendStalled (stream: YamuxStream): void {
    this.#stalled.set(stream, performance.now())
    if (this.#stallTimer === undefined) this.#armStallSweep(this.#options.sendStallTimeout)
  }

  sendResumed (stream: YamuxStream): void {
    this.#stalled.delete(stream)
  }

  #armStallSweep (ms: number): void {
    this.#stallTimer = unrefTimeout(() => { this.#sweepStalled() }, ms)
  }

  /** Resets the streams whose remote kept the window shut past sendStallTimeout. */
  #sweepStalled (): void {
    this.#stallTimer = undefined
    const timeout = this.#options.sendStallTimeout
    const now = performance.now()
    let next = Infinity
    for (const [stream, since] of [...this.#stalled]) {
      if (now - since >= timeout) {
        this.#stalled.delete(stream)
        this.log('resetting stream %d: window shut for %d ms with data queued', stream.streamId, Math.round(now - since))
        stream.abort(new TimeoutError(`yamux: the remote kept stream ${stream.streamId}'s window shut for ${timeout} ms with data queued`))
      } else {
        next = Math.min(next, since + timeout - now)
      }
    }
    if (next !== Infinity && this.status !== 'closed') this.#armStallSweep(Math.max(1, next))
  }

  /** A SYN arrived: accept the stream, or refuse it with RST (returns undefined). */
  #acceptStream (id: number): YamuxStream | undefined {
    if (id === 0 || (id % 2 === 1) !== this.#remoteUsesOddIds) {
      throw new InvalidMessageError(`yamux: the remote opened stream ${id} with our id parity`)
    }
    if (this.#streams.has(id)) throw new InvalidMessageError(`yamux: the remote reopened live stream ${id}`)
    if (this.status !== 'open' || this.#inboundCount >= this.#options.maxInboundStreams) {
      this.log('refusing inbound stream %d (%s)', id, this.status === 'open' ? 'limit reached' : 'closing')
      writeHeader(this.batch, FrameType.WindowUpdate, Flag.RST, id, 0)
      this.batch.commit()
      return undefined
    }
    const stream = new YamuxStream({ streamId: id, direction: 'inbound', host: this, recvWindow: this.#options.initialStreamWindowSize })
    this.#streams.set(id, stream)
    this.#inboundCount++
    writeHeader(this.batch, FrameType.WindowUpdate, Flag.ACK, id, stream.openingWindowDelta())
    this.batch.commit()
    return stream
  }

  // ---- parsing ----------------------------------------------------------------------------

  protected onChunk (chunk: Uint8Array): void {
    const length = chunk.length
    let offset = 0
    while (offset < length) {
      if (this.#payloadRemaining > 0) {
        const n = Math.min(this.#payloadRemaining, length - offset)
        const stream = this.#payloadStream
        if (stream !== undefined) stream.receiveData(n === length ? chunk : chunk.subarray(offset, offset + n))
        offset += n
        this.#payloadRemaining -= n
        if (this.#payloadRemaining === 0 && stream !== undefined) {
          this.#payloadStream = undefined
          stream.receiveClosingFlags(this.#payloadFlags)
        }
      } else if (this.#headerLength === 0 && length - offset >= HEADER_LENGTH) {
        this.#onHeader(chunk, offset)
        offset += HEADER_LENGTH
      } else {
        const header = this.#header
        while (this.#headerLength < HEADER_LENGTH && offset < length) header[this.#headerLength++] = chunk[offset++]
        if (this.#headerLength === HEADER_LENGTH) {
          this.#headerLength = 0
          this.#onHeader(header, 0)
        }
      }
      if (this.status === 'closed') return
    }
  }

  #onHeader (b: Uint8Array, o: number): void {
    if (b[o] !== YAMUX_VERSION) throw new InvalidMessageError(`yamux: unsupported version ${b[o]}`)
    const type = b[o + 1]
    const flags = (b[o + 2] << 8) | b[o + 3]
    const streamId = readU32(b, o + 4)
    const length = readU32(b, o + 8)
    switch (type) {
      case FrameType.Data:
      case FrameType.WindowUpdate:
        this.#onStreamFrame(type, flags, streamId, length)
        return
      case FrameType.Ping:
        this.#onPing(flags, length)
        return
      case FrameType.GoAway:
        this.#onGoAway(length)
        return
      default:
        throw new InvalidMessageError(`yamux: unknown frame type ${type}`)
    }
  }

  #onStreamFrame (type: number, flags: number, streamId: number, length: number): void {
    let stream = this.#streams.get(streamId)
    if ((flags & Flag.SYN) !== 0) {
      stream = this.#acceptStream(streamId)
      if (stream !== undefined) this.deliverInbound(stream)
      if (this.status === 'closed') return
    }
    if ((flags & Flag.RST) !== 0 && stream?.direction === 'inbound') this.countInboundReset()
    if (type === FrameType.WindowUpdate) {
      stream?.receiveWindowUpdate(length, flags)
      return
    }
    if (stream === undefined) {
      // A late frame for a stream that is gone (or that we refused): skip its payload, but
      // never more than any window we could have granted.
      if (length > this.maxWindow) throw new InvalidMessageError(`yamux: ${length}-byte frame for unknown stream ${streamId}`)
      this.#payloadRemaining = length
      this.#payloadStream = undefined
      return
    }
    stream.receiveDataHeader(length, flags)
    if (length === 0) {
      stream.receiveClosingFlags(flags)
    } else {
      this.#payloadRemaining = length
      this.#payloadStream = stream
      this.#payloadFlags = flags
    }
  }

  #onGoAway (code: number): void {
    this.#remoteGoAway = code
    this.log('remote sent GoAway(%d)', code)
    if (this.#backlogWaiters.length > 0) this.#rejectBacklog(new ConnectionClosedError('the remote sent GoAway'))
    if (code !== GoAwayCode.Normal) {
      this.abort(new ConnectionClosedError(`yamux: the remote went away with error code ${code}`))
    }
  }

  // ---- ping / keep-alive ------------------------------------------------------------------

  #onPing (flags: number, opaque: number): void {
    if ((flags & Flag.SYN) !== 0) {
      // While the connection is backed up only the newest ping is answered, so a peer that
      // floods pings without reading cannot make us queue replies without bound.
      if (this.batch.blocked) {
        this.#pendingPong = opaque
      } else {
        writeHeader(this.batch, FrameType.Ping, Flag.ACK, 0, opaque)
        this.batch.commit()
      }
    } else if ((flags & Flag.ACK) !== 0) {
      const active = this.#activePing
      if (active === undefined || active.id !== opaque) return
      this.#activePing = undefined
      this.#rtt = Math.max(performance.now() - active.start, 0.001)
      for (const w of active.waiters) w.resolve(this.#rtt)
    }
  }

  protected override onDrain (): void {
    const pong = this.#pendingPong
    if (pong === undefined) return
    this.#pendingPong = undefined
    writeHeader(this.batch, FrameType.Ping, Flag.ACK, 0, pong)
    this.batch.commit()
  }

  /** Sends a ping (or joins the one in flight); resolves with the round-trip time in ms. */
  ping (options?: AbortOptions): Promise<number> {
    if (this.status === 'closed') return Promise.reject(new ConnectionClosedError('the muxer is closed'))
    let active = this.#activePing
    if (active === undefined) {
      this.#nextPingId = (this.#nextPingId + 1) >>> 0
      active = { id: this.#nextPingId, start: performance.now(), waiters: [] }
      this.#activePing = active
      writeHeader(this.batch, FrameType.Ping, Flag.SYN, 0, active.id)
      this.batch.commit()
    }
    const ping = active
    let waiter: Waiter<number> | undefined
    const result = new Promise<number>((resolve, reject) => { waiter = { resolve, reject } })
    ping.waiters.push(waiter!)
    if (options?.signal === undefined) return result
    return raceSignal(result, options.signal).finally(() => {
      ping.waiters = ping.waiters.filter(w => w !== waiter)
    })
  }

  #scheduleKeepAlive (): void {
    const interval = this.#options.keepAliveInterval
    if (!(interval > 0) || this.status === 'closed') return
    this.#keepAliveTimer = unrefTimeout(() => {
      this.#keepAliveTimer = undefined
      const deadline = new Deadline(this.#options.pingTimeout, undefined, 'yamux: keep-alive ping timed out')
      this.ping({ signal: deadline.signal }).then(() => {
        deadline.clear()
        this.#scheduleKeepAlive()
      }, (err: Error) => {
        deadline.clear()
        if (err instanceof TimeoutError) this.abort(err)
      })
    }, interval)
  }

  // ---- teardown ---------------------------------------------------------------------------

  protected override onClosed (): void {
    writeHeader(this.batch, FrameType.GoAway, 0, 0, GoAwayCode.Normal)
    this.batch.commit()
  }

  protected override onProtocolError (err: Error): void {
    const code = isRemoteFault(err) ? GoAwayCode.ProtocolError : GoAwayCode.InternalError
    writeHeader(this.batch, FrameType.GoAway, 0, 0, code)
  }

  protected override onTerminated (): void {
    if (this.#keepAliveTimer !== undefined) clearTimeout(this.#keepAliveTimer)
    this.#keepAliveTimer = undefined
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer)
    this.#stallTimer = undefined
    this.#stalled.clear()
    const active = this.#activePing
    this.#activePing = undefined
    if ((active !== undefined && active.waiters.length > 0) || this.#backlogWaiters.length > 0) {
      const closed = new ConnectionClosedError('the muxer is closed')
      if (active !== undefined) for (const w of active.waiters) w.reject(closed)
      this.#rejectBacklog(closed)
    }
    this.#streams.clear()
    this.#payloadStream = undefined
  }

  #rejectBacklog (err: Error): void {
    const waiters = this.#backlogWaiters
    this.#backlogWaiters = []
    for (const w of waiters) w.reject(err)
  }
}

function stripUndefined<T extends object> (o: T): Partial<T> {
  const out: Partial<T> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v
  return out
}
