/**
 * The mplex session: parses `uvarint(id << 3 | flag) uvarint(length) data` frames straight out
 * of the connection's chunks (headers may be split across chunks; payloads are handed to their
 * stream piece by piece), keeps one stream table per opener (the same id may name one stream we
 * opened and one the remote opened) and enforces the limits: message size, stream counts and
 * each stream's unread bytes. A message over the size limit or an unknown flag ends the
 * connection with MessageTooLargeError / InvalidMessageError.
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { StreamMuxerInit } from '../../interface/muxer.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { ConnectionClosedError, InvalidMessageError, LimitExceededError, MessageTooLargeError } from '../../util/errors.ts'
import { logger } from '../../util/logger.ts'
import { decodeVarint } from '../../util/varint.ts'
import { DEFAULT_INBOUND_RESETS, MuxerBase } from '../muxer-base.ts'
import { MAX_MPLEX_STREAM_ID, MPLEX_PROTOCOL, MplexFlag, writeMplexHeader } from './frame.ts'
import { MplexStream } from './stream.ts'
import type { MplexStreamHost } from './stream.ts'

/** One logger for every mplex session (creating one per connection costs a few microseconds). */
const log = logger('mplex')

export interface MplexOptions {
  /** Largest message we send or accept (default 1 MiB, as go and js use). */
  maxMessageSize?: number
  /** Unread bytes a stream may hold before it is reset (default 4 MiB). */
  maxStreamBufferSize?: number
  /** How long (ms) the connection stops reading for a stream whose reader is behind before
   * that stream is reset (default 5 s). */
  slowReaderTimeout?: number
  /** Streams the remote may have open at once; more are reset (default 1024). */
  maxInboundStreams?: number
  /** Streams we may have open at once (default 1024). */
  maxOutboundStreams?: number
  /** Upper bound for a graceful close (ms, default 2 s). */
  closeTimeout?: number
  /** Streams the remote may open and reset in a burst before the connection is closed (default 512). */
  maxInboundResetBurst?: number
  /** ... and per second after the burst (default 64). */
  inboundResetsPerSecond?: number
}

const DEFAULTS = {
  maxMessageSize: 1024 * 1024,
  maxStreamBufferSize: 4 * 1024 * 1024,
  slowReaderTimeout: 5_000,
  maxInboundStreams: 1024,
  maxOutboundStreams: 1024,
  closeTimeout: 2_000,
  maxInboundResetBurst: DEFAULT_INBOUND_RESETS.burst,
  inboundResetsPerSecond: DEFAULT_INBOUND_RESETS.perSecond
}

/** Two varints of at most 9 bytes each. */
const MAX_HEADER_LENGTH = 18

export class MplexMuxer extends MuxerBase<MplexStream> implements MplexStreamHost {
  readonly protocol = MPLEX_PROTOCOL
  readonly maxMessageSize: number
  readonly maxBufferSize: number
  readonly #options: typeof DEFAULTS
  /** Streams we opened (the remote sends *Receiver flags for them). */
  readonly #outbound = new Map<number, MplexStream>()
  /** Streams the remote opened (it sends NewStream and *Initiator flags). */
  readonly #inbound = new Map<number, MplexStream>()
  #nextStreamId: number

  // parser state
  readonly #header = new Uint8Array(MAX_HEADER_LENGTH)
  #headerLength = 0
  #payloadRemaining = 0
  #payloadStream: MplexStream | undefined

  // streams whose reader is behind, and the wait the read loop is in for them
  readonly #behind = new Set<MplexStream>()
  #resumeReading: (() => void) | undefined

  constructor (conn: ByteStream, init: StreamMuxerInit, options: MplexOptions = {}) {
    const opts = { ...DEFAULTS }
    for (const [k, v] of Object.entries(options)) if (v !== undefined) (opts as Record<string, unknown>)[k] = v
    super(conn, init, { closeTimeout: opts.closeTimeout, inboundResets: { burst: opts.maxInboundResetBurst, perSecond: opts.inboundResetsPerSecond } }, log)
    this.#options = opts
    this.maxMessageSize = Math.max(1, opts.maxMessageSize)
    this.maxBufferSize = opts.maxStreamBufferSize
    // The spec gives the session initiator odd ids and the receiver even ones; the flags keep
    // the two sides apart anyway.
    this.#nextStreamId = init.direction === 'outbound' ? 1 : 0
    this.start()
  }

  get stopped (): boolean { return this.status === 'closed' }

  protected * streamList (): Iterable<MplexStream> {
    yield * this.#outbound.values()
    yield * this.#inbound.values()
  }

  // ---- streams ----------------------------------------------------------------------------

  protected createOutboundStream (_options?: AbortOptions): MplexStream {
    if (this.#outbound.size >= this.#options.maxOutboundStreams) {
      throw new LimitExceededError(`mplex: outbound stream limit of ${this.#options.maxOutboundStreams} reached`)
    }
    const id = this.#nextStreamId
    if (id > MAX_MPLEX_STREAM_ID) throw new ConnectionClosedError('mplex: stream ids exhausted')
    this.#nextStreamId += 2
    const stream = new MplexStream(id, 'outbound', this)
    this.#outbound.set(id, stream)
    // The stream name is informational only; go and js send the id in decimal.
    const name = new TextEncoder().encode(String(id))
    writeMplexHeader(this.batch, id, MplexFlag.NewStream, name.length)
    this.batch.payload(name)
    this.batch.commit()
    return stream
  }

  releaseStream (stream: MplexStream): void {
    const table = stream.direction === 'outbound' ? this.#outbound : this.#inbound
    if (table.get(stream.streamId) !== stream) return
    table.delete(stream.streamId)
    this.streamReleased()
  }

  reserveMemory (bytes: number): boolean {
    return this.init.memory?.reserve(bytes) ?? true
  }

  releaseMemory (bytes: number): void {
    this.init.memory?.release(bytes)
  }

  #acceptStream (id: number): MplexStream | undefined {
    if (this.#inbound.has(id)) throw new InvalidMessageError(`mplex: the remote reopened live stream ${id}`)
    if (this.status !== 'open' || this.#inbound.size >= this.#options.maxInboundStreams) {
      this.log('refusing inbound stream %d', id)
      writeMplexHeader(this.batch, id, MplexFlag.ResetReceiver, 0)
      this.batch.commit()
      return undefined
    }
    const stream = new MplexStream(id, 'inbound', this)
    this.#inbound.set(id, stream)
    return stream
  }

  // ---- slow readers -----------------------------------------------------------------------

  streamBehind (stream: MplexStream): void {
    this.#behind.add(stream)
  }

  streamCaughtUp (stream: MplexStream): void {
    if (!this.#behind.delete(stream) || this.#behind.size > 0) return
    const resume = this.#resumeReading
    this.#resumeReading = undefined
    resume?.()
  }

  protected override readPause (): Promise<void> | undefined {
    if (this.#behind.size === 0 || this.status === 'closed') return undefined
    return new Promise<void>(resolve => {
      const timer = setTimeout(() => {
        this.#resumeReading = undefined
        for (const s of [...this.#behind]) s.resetSlowReader()
        this.#behind.clear()
        resolve()
      }, this.#options.slowReaderTimeout)
      this.#resumeReading = () => {
        clearTimeout(timer)
        resolve()
      }
    })
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
        if (this.#payloadRemaining === 0) this.#payloadStream = undefined
      } else if (this.#headerLength === 0) {
        const used = this.#parseHeader(chunk, offset, length)
        if (used === 0) {
          // The header continues in the next chunk.
          while (offset < length) this.#header[this.#headerLength++] = chunk[offset++]
        } else {
          offset += used
        }
      } else {
        // Slow path: complete a header split across chunks, one byte at a time.
        this.#header[this.#headerLength++] = chunk[offset++]
        const used = this.#parseHeader(this.#header, 0, this.#headerLength)
        if (used !== 0) {
          this.#headerLength = 0
        } else if (this.#headerLength === MAX_HEADER_LENGTH) {
          throw new InvalidMessageError('mplex: header too long')
        }
      }
      if (this.status === 'closed') return
    }
  }

  /** Parses a header at `offset` (bytes up to `end`); returns the bytes used, 0 if incomplete. */
  #parseHeader (buf: Uint8Array, offset: number, end: number): number {
    const view = end === buf.length ? buf : buf.subarray(0, end)
    const first = decodeVarint(view, offset)
    if (first === undefined) return 0
    const second = decodeVarint(view, offset + first[1])
    if (second === undefined) return 0
    const [header] = first
    const messageLength = second[0]
    if (messageLength > this.maxMessageSize) {
      throw new MessageTooLargeError(`mplex: ${messageLength}-byte message exceeds the ${this.maxMessageSize}-byte limit`)
    }
    const flag = header % 8
    const id = (header - flag) / 8
    this.#onFrame(id, flag, messageLength)
    return first[1] + second[1]
  }

  #onFrame (id: number, flag: number, length: number): void {
    let stream: MplexStream | undefined
    switch (flag) {
      case MplexFlag.NewStream: {
        // The payload is the stream name, which nothing uses: skip it.
        const accepted = this.#acceptStream(id)
        if (accepted !== undefined) this.deliverInbound(accepted)
        break
      }
      case MplexFlag.MessageInitiator:
        stream = this.#inbound.get(id)
        break
      case MplexFlag.MessageReceiver:
        stream = this.#outbound.get(id)
        break
      case MplexFlag.CloseInitiator:
        this.#inbound.get(id)?.receiveClose()
        break
      case MplexFlag.CloseReceiver:
        this.#outbound.get(id)?.receiveClose()
        break
      case MplexFlag.ResetInitiator: {
        const reset = this.#inbound.get(id)
        if (reset !== undefined) {
          this.countInboundReset()
          reset.receiveReset()
        }
        break
      }
      case MplexFlag.ResetReceiver:
        this.#outbound.get(id)?.receiveReset()
        break
      default:
        throw new InvalidMessageError(`mplex: unknown flag ${flag}`)
    }
    this.#payloadRemaining = length
    this.#payloadStream = length > 0 ? stream : undefined
  }

  protected override onTerminated (): void {
    this.#behind.clear()
    const resume = this.#resumeReading
    this.#resumeReading = undefined
    resume?.()
    this.#outbound.clear()
    this.#inbound.clear()
    this.#payloadStream = undefined
  }
}
