/**
 * A WebTransport session over our QUIC, as the switch takes it: a raw connection whose `native`
 * says it is already secure (Noise ran on the session's first stream) and multiplexed (each
 * libp2p stream is one WebTransport bidirectional stream: no muxer on top).
 *
 * Outbound streams start with `0x41 | session id` (written before any libp2p byte); inbound ones
 * arrive with that header already read. The byte-stream side carries no data: `abort(err)`
 * closes the QUIC connection, and the session ends when the QUIC connection or the CONNECT
 * stream does. Streams that arrive before the upgrader attached the muxer are held (bounded).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions, Direction } from '../../interface/common.ts'
import type { Stream } from '../../interface/stream.ts'
import type { StreamMuxer, StreamMuxerFactory, StreamMuxerInit } from '../../interface/muxer.ts'
import type { NativeUpgrade, RawConnection } from '../../interface/transport.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import { AbstractStream } from '../../util/abstract-stream.ts'
import { InvalidParametersError, LimitExceededError, StreamClosedError } from '../../util/errors.ts'
import { raceSignal } from '../../util/abort.ts'
import type { QuicConnection } from '../quic/connection.ts'
import { QuicConnectionClosedError } from '../quic/errors.ts'
import type { QuicStream } from '../quic/stream.ts'
import { encodeVarints, WEBTRANSPORT_BIDI_SIGNAL } from './http3-frames.ts'
import { Http3ErrorCode } from './errors.ts'

export const WEBTRANSPORT_MULTIPLEXER = '/webtransport'
export const WEBTRANSPORT_ENCRYPTION = '/noise'

export class WebTransportSessionConnection extends AbstractStream implements RawConnection, StreamMuxer, StreamMuxerFactory {
  readonly remoteAddr: Multiaddr
  readonly localAddr?: Multiaddr
  readonly direction: Direction
  readonly native: NativeUpgrade
  readonly protocol = WEBTRANSPORT_MULTIPLEXER
  readonly quic: QuicConnection
  readonly sessionId: number
  readonly #connectStream: QuicStream
  readonly #header: Uint8Array
  readonly #open = new Set<QuicStream>()
  #pending: QuicStream[] = []
  #init: StreamMuxerInit | undefined
  #closing = false

  constructor (quic: QuicConnection, connectStream: QuicStream, remotePeer: PeerId, remoteAddr: Multiaddr, localAddr: Multiaddr | undefined, direction: Direction) {
    super()
    this.quic = quic
    this.#connectStream = connectStream
    this.sessionId = connectStream.quicId
    this.#header = encodeVarints(WEBTRANSPORT_BIDI_SIGNAL, this.sessionId)
    this.remoteAddr = remoteAddr
    this.localAddr = localAddr
    this.direction = direction
    this.native = { remotePeer, encryption: WEBTRANSPORT_ENCRYPTION, streamMuxer: this }
    void quic.terminated.then(() => { this.#onTerminated() })
    // The session ends when the peer ends its CONNECT stream (draft-ietf-webtrans-http3 5).
    // What comes before (capsules such as CLOSE_WEBTRANSPORT_SESSION) is read and dropped.
    void (async () => {
      try {
        for await (const _ of connectStream) { /* capsules: dropped */ }
      } catch {}
      if (!quic.isClosed) quic.close(Http3ErrorCode.NO_ERROR, 'session closed')
    })()
  }

  /** A WebTransport stream of this session, its header read. */
  incomingStream (stream: QuicStream): void {
    this.#track(stream)
    if (this.#init !== undefined) {
      this.#init.onIncomingStream(stream)
      return
    }
    if (this.#pending.length >= this.quic.config.maxPendingIncomingStreams) {
      stream.abort(new LimitExceededError('too many streams opened before the connection was set up'))
      return
    }
    this.#pending.push(stream)
  }

  #track (stream: QuicStream): void {
    this.#open.add(stream)
    void stream.closed.then(() => { this.#open.delete(stream) })
  }

  createStreamMuxer (_conn: unknown, init: StreamMuxerInit): StreamMuxer {
    if (this.#init !== undefined) throw new InvalidParametersError('the WebTransport session already has its muxer')
    this.#init = init
    const pending = this.#pending
    this.#pending = []
    for (const s of pending) init.onIncomingStream(s)
    if (this.quic.state === 'closed') this.#onTerminated()
    return this
  }

  get streams (): readonly Stream[] { return [...this.#open] }

  async newStream (options?: AbortOptions): Promise<Stream> {
    if (this.#closing) throw new StreamClosedError('the WebTransport session is closing')
    const stream = await this.quic.streams.openStream(options?.signal)
    stream.send(this.#header)
    this.#track(stream)
    return stream
  }

  /** Graceful: every stream's write side ends, they finish (bounded by `signal`), then the session. */
  override async close (options?: AbortOptions): Promise<void> {
    if (this.#closing) return await this.quic.terminated
    this.#closing = true
    const open = [...this.#open]
    for (const s of open) void s.closeWrite(options).catch(() => {})
    try {
      await raceSignal(Promise.all(open.map(async s => { await s.closed })), options?.signal)
    } catch {
      // Streams that did not finish in time are cut by the close below.
    }
    void this.#connectStream.closeWrite().catch(() => {})
    this.quic.close(Http3ErrorCode.NO_ERROR, '')
  }

  protected sendChunk (_chunk: Uint8Array): boolean {
    throw new StreamClosedError('a WebTransport session carries data on its streams only')
  }

  protected sendCloseWrite (): void {}

  protected sendReset (err: Error): void {
    this.quic.close(Http3ErrorCode.NO_ERROR, err.message.slice(0, 100))
  }

  #terminatedSeen = false
  #onTerminated (): void {
    if (this.#terminatedSeen) return
    this.#terminatedSeen = true
    for (const s of this.#pending) s.abort(this.quic.error ?? new StreamClosedError('the WebTransport session closed'))
    this.#pending = []
    this.markWriteClosed()
    this.pushEnd()
    const err = this.quic.error
    const clean = err === undefined || (err instanceof QuicConnectionClosedError && err.application && (err.errorCode === 0 || err.errorCode === Http3ErrorCode.NO_ERROR))
    this.#init?.onClose?.(clean ? undefined : err)
  }
}
