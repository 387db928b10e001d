/**
 * HTTP/3 on one of our QUIC connections, as much as WebTransport needs (RFC 9114, RFC 9220,
 * draft-ietf-webtrans-http3): each side's control stream with its SETTINGS, the peer's QPACK
 * streams drained (we allow no dynamic table, so they carry nothing we act on), one extended
 * CONNECT request stream per session, and the sorting of incoming streams into request streams
 * and WebTransport streams (`0x41 | session id` bidirectional; `0x54 | session id`
 * unidirectional, which libp2p does not use and we refuse).
 *
 * Every read is bounded: frame payloads by `MAX_FRAME_PAYLOAD`, a stream's first bytes by
 * `STREAM_HEADER_TIMEOUT`, streams held for a session not yet accepted by `MAX_EARLY_STREAMS`.
 * A violation of HTTP/3 on a critical stream closes the connection with its H3 error code.
 */
import type { QuicConnection } from '../quic/connection.ts'
import type { QuicStream } from '../quic/stream.ts'
import { StreamReader } from '../../util/stream-reader.ts'
import { withDeadline } from '../../util/deadline.ts'
import { logger } from '../../util/logger.ts'
import { Http3Error, Http3ErrorCode, WebTransportSessionError } from './errors.ts'
import {
  decodeSettings, encodeFrame, encodeSettings, encodeVarints, Http3FrameType, Http3Setting, Http3StreamType,
  readFrame, readStreamVarint, WEBTRANSPORT_BIDI_SIGNAL
} from './http3-frames.ts'
import { decodeFieldSection, encodeFieldSection } from './qpack.ts'
import type { HeaderField } from './qpack.ts'

const log = logger('webtransport:h3')

/** Largest HTTP/3 frame payload we read (SETTINGS, HEADERS): field sections are small. */
const MAX_FRAME_PAYLOAD = 16 * 1024
/** Also announced as SETTINGS_MAX_FIELD_SECTION_SIZE. */
const MAX_FIELD_SECTION_SIZE = 16 * 1024
/** How long a new stream may take to say what it is (ms). */
const STREAM_HEADER_TIMEOUT = 10_000
/** WebTransport streams held while their session's CONNECT is still on its way. */
const MAX_EARLY_STREAMS = 32

/** The settings both of our roles send; see http3-frames.ts for why every draft's are there. */
export function localSettings (): Map<number, number> {
  return new Map([
    [Http3Setting.QPACK_MAX_TABLE_CAPACITY, 0],
    [Http3Setting.QPACK_BLOCKED_STREAMS, 0],
    [Http3Setting.MAX_FIELD_SECTION_SIZE, MAX_FIELD_SECTION_SIZE],
    [Http3Setting.ENABLE_CONNECT_PROTOCOL, 1],
    [Http3Setting.H3_DATAGRAM, 1],
    [Http3Setting.ENABLE_WEBTRANSPORT_DRAFT06, 1],
    [Http3Setting.WEBTRANSPORT_MAX_SESSIONS_DRAFT07, 1],
    [Http3Setting.WT_ENABLED, 1],
    [Http3Setting.WT_MAX_SESSIONS, 1]
  ])
}

export interface Http3Handlers {
  /** Server: a request arrived on `stream`; answer with `respond` (the stream stays open for a session). */
  onRequest?(stream: QuicStream, fields: HeaderField[]): void
  /** A WebTransport bidirectional stream of session `sessionId`, its header already read. */
  onWebTransportStream(sessionId: number, stream: QuicStream): void
}

export class Http3Connection {
  readonly quic: QuicConnection
  readonly #handlers: Http3Handlers
  #peerSettings: Map<number, number> | undefined
  #controlSeen = false
  readonly #settingsWaiters: Array<(settings: Map<number, number>) => void> = []

  constructor (quic: QuicConnection, handlers: Http3Handlers) {
    this.quic = quic
    this.#handlers = handlers
  }

  /** Opens our control stream with our SETTINGS (RFC 9114 6.2.1: first thing on it). */
  start (): void {
    const control = this.quic.openUniStream()
    control.send(encodeVarints(Http3StreamType.CONTROL))
    control.send(encodeSettings(localSettings()))
    // (sent at the end of this batch of I/O events)
  }

  get peerSettings (): Map<number, number> | undefined { return this.#peerSettings }

  /** The peer's SETTINGS, once they arrived. */
  async settings (signal?: AbortSignal): Promise<Map<number, number>> {
    if (this.#peerSettings !== undefined) return this.#peerSettings
    return await new Promise((resolve, reject) => {
      const onAbort = (): void => { reject(signal?.reason ?? new WebTransportSessionError('aborted waiting for HTTP/3 SETTINGS')) }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#settingsWaiters.push(s => { signal?.removeEventListener('abort', onAbort); resolve(s) })
    })
  }

  /** Closes the QUIC connection with an HTTP/3 error. */
  fail (err: Http3Error): void {
    log('closing with 0x%s: %s', err.h3Code.toString(16), err.message)
    this.quic.close(err.h3Code, err.message.slice(0, 100))
  }

  /** A stream the peer opened. */
  onIncomingStream (stream: QuicStream): void {
    const work = stream.kind === 'receive-only' ? this.#onUniStream(stream) : this.#onBidiStream(stream)
    work.catch(err => {
      if (err instanceof Http3Error && err.h3Code !== Http3ErrorCode.REQUEST_REJECTED) {
        this.fail(err)
      } else {
        log('stream %s dropped: %s', stream.id, err)
      }
      stream.abort(err as Error)
    })
  }

  async #onUniStream (stream: QuicStream): Promise<void> {
    const reader = new StreamReader(stream)
    const type = await withDeadline(STREAM_HEADER_TIMEOUT, undefined, 'unidirectional stream without a type', async signal => await readStreamVarint(reader, { signal }))
    if (type === null) return
    switch (type) {
      case Http3StreamType.CONTROL:
        if (this.#controlSeen) throw new Http3Error('a second control stream', Http3ErrorCode.STREAM_CREATION_ERROR)
        this.#controlSeen = true
        await this.#readControl(reader)
        return
      case Http3StreamType.QPACK_ENCODER:
      case Http3StreamType.QPACK_DECODER:
        // With a table capacity of 0 nothing on these streams needs an answer: read and drop.
        reader.release()
        for await (const _ of stream) { /* drained */ }
        return
      case Http3StreamType.PUSH:
        throw new Http3Error('push stream: we never allowed a push', Http3ErrorCode.ID_ERROR)
      default:
        // WebTransport unidirectional streams (0x54) and unknown types: refused (RFC 9114 6.2).
        stream.closeRead()
    }
  }

  async #readControl (reader: StreamReader): Promise<void> {
    const first = await readFrame(reader, { maxPayload: MAX_FRAME_PAYLOAD })
    if (first === null) throw new Http3Error('the control stream closed', Http3ErrorCode.CLOSED_CRITICAL_STREAM)
    if (first.type !== Http3FrameType.SETTINGS) throw new Http3Error('the control stream does not start with SETTINGS', Http3ErrorCode.MISSING_SETTINGS)
    const settings = decodeSettings(first.payload)
    this.#peerSettings = settings
    for (const waiter of this.#settingsWaiters.splice(0)) waiter(settings)
    for (;;) {
      const frame = await readFrame(reader, { maxPayload: MAX_FRAME_PAYLOAD })
      if (frame === null) {
        if (this.quic.isClosed) return
        throw new Http3Error('the control stream closed', Http3ErrorCode.CLOSED_CRITICAL_STREAM)
      }
      if (frame.type === Http3FrameType.SETTINGS) throw new Http3Error('a second SETTINGS frame', Http3ErrorCode.FRAME_UNEXPECTED)
      if (frame.type === Http3FrameType.DATA || frame.type === Http3FrameType.HEADERS || frame.type === Http3FrameType.PUSH_PROMISE) {
        throw new Http3Error(`frame 0x${frame.type.toString(16)} on the control stream`, Http3ErrorCode.FRAME_UNEXPECTED)
      }
      // GOAWAY, MAX_PUSH_ID, CANCEL_PUSH: nothing to do for one WebTransport session.
    }
  }

  async #onBidiStream (stream: QuicStream): Promise<void> {
    const reader = new StreamReader(stream)
    await withDeadline(STREAM_HEADER_TIMEOUT, undefined, 'stream without a header', async signal => {
      const type = await readStreamVarint(reader, { signal })
      if (type === null) return
      if (type === WEBTRANSPORT_BIDI_SIGNAL) {
        const sessionId = await readStreamVarint(reader, { signal })
        if (sessionId === null) throw new Http3Error('WebTransport stream without a session id', Http3ErrorCode.FRAME_ERROR)
        reader.release()
        this.#handlers.onWebTransportStream(sessionId, stream)
        return
      }
      if (type !== Http3FrameType.HEADERS || this.#handlers.onRequest === undefined) {
        throw new Http3Error(`request stream starts with frame 0x${type.toString(16)}`, Http3ErrorCode.FRAME_UNEXPECTED)
      }
      const length = await readStreamVarint(reader, { signal })
      if (length === null) throw new Http3Error('HEADERS without a length', Http3ErrorCode.FRAME_ERROR)
      if (length > MAX_FRAME_PAYLOAD) throw new Http3Error(`HEADERS of ${length} bytes`, Http3ErrorCode.EXCESSIVE_LOAD)
      const fields = decodeFieldSection(await reader.readExactly(length, { signal }), MAX_FIELD_SECTION_SIZE)
      reader.release()
      this.#handlers.onRequest(stream, fields)
    })
  }
}

/** A HEADERS frame carrying `fields`. */
export function headersFrame (fields: readonly HeaderField[]): Uint8Array {
  return encodeFrame(Http3FrameType.HEADERS, encodeFieldSection(fields))
}

/** Reads the response HEADERS of a request stream (skipping unknown frames); bounded. */
export async function readResponseHeaders (stream: QuicStream, signal?: AbortSignal): Promise<HeaderField[]> {
  const reader = new StreamReader(stream)
  try {
    const frame = await readFrame(reader, { maxPayload: MAX_FRAME_PAYLOAD, signal })
    if (frame === null) throw new WebTransportSessionError('the server closed the CONNECT stream without an answer')
    if (frame.type !== Http3FrameType.HEADERS) throw new Http3Error(`response starts with frame 0x${frame.type.toString(16)}`, Http3ErrorCode.FRAME_UNEXPECTED)
    return decodeFieldSection(frame.payload, MAX_FIELD_SECTION_SIZE)
  } finally {
    reader.release()
  }
}

/**
 * WebTransport streams that arrive before their session is accepted (a client may open its
 * first stream right after the CONNECT, webtransport/README.md): held, at most MAX_EARLY_STREAMS.
 */
export class EarlyStreams {
  readonly #held: Array<{ sessionId: number, stream: QuicStream }> = []

  hold (sessionId: number, stream: QuicStream): void {
    if (this.#held.length >= MAX_EARLY_STREAMS) {
      stream.abort(new Http3Error('too many WebTransport streams before the session', Http3ErrorCode.REQUEST_REJECTED))
      return
    }
    this.#held.push({ sessionId, stream })
  }

  /** The held streams of `sessionId`, in arrival order; the others are refused. */
  take (sessionId: number): QuicStream[] {
    const out: QuicStream[] = []
    for (const h of this.#held.splice(0)) {
      if (h.sessionId === sessionId) out.push(h.stream)
      else h.stream.abort(new Http3Error(`no WebTransport session ${h.sessionId}`, Http3ErrorCode.ID_ERROR))
    }
    return out
  }

  abortAll (err: Error): void {
    for (const h of this.#held.splice(0)) h.stream.abort(err)
  }
}
