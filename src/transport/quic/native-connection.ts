/**
 * A QUIC connection as the switch takes it: a raw connection whose `native` says it is already
 * secure (libp2p TLS inside QUIC) and multiplexed (QUIC streams), and the stream muxer the
 * upgrader builds the libp2p Connection on.
 *
 * The byte-stream side carries no data: `abort(err)` closes the QUIC connection at once and
 * `closed` resolves when it is gone. Streams the remote opens before the upgrader has attached
 * the muxer are held (bounded; beyond that they are reset).
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
import type { QuicConnection } from './connection.ts'
import { QuicConnectionClosedError } from './errors.ts'
import type { QuicStream } from './stream.ts'

export const QUIC_MULTIPLEXER = '/quic-v1'
export const QUIC_ENCRYPTION = '/tls/1.0.0'

export class QuicNativeConnection extends AbstractStream implements RawConnection, StreamMuxer, StreamMuxerFactory {
  readonly remoteAddr: Multiaddr
  readonly localAddr?: Multiaddr
  readonly direction: Direction
  readonly native: NativeUpgrade
  readonly protocol = QUIC_MULTIPLEXER
  readonly quic: QuicConnection
  readonly #maxPending: number
  #pending: QuicStream[] = []
  #init: StreamMuxerInit | undefined
  #closing = false

  constructor (quic: QuicConnection, remotePeer: PeerId, remoteAddr: Multiaddr, localAddr: Multiaddr | undefined, direction: Direction) {
    super()
    this.quic = quic
    this.remoteAddr = remoteAddr
    this.localAddr = localAddr
    this.direction = direction
    this.#maxPending = quic.config.maxPendingIncomingStreams
    this.native = { remotePeer, encryption: QUIC_ENCRYPTION, streamMuxer: this }
    void quic.terminated.then(() => { this.#onTerminated() })
  }

  /** The QUIC connection delivers a stream the remote opened. */
  incomingStream (stream: QuicStream): void {
    if (this.#init !== undefined) {
      this.#init.onIncomingStream(stream)
      return
    }
    if (this.#pending.length >= this.#maxPending) {
      stream.abort(new LimitExceededError(`more than ${this.#maxPending} streams opened before the connection was set up`))
      return
    }
    this.#pending.push(stream)
  }

  // ---- StreamMuxerFactory: the upgrader asks for the muxer once --------------------------

  createStreamMuxer (_conn: unknown, init: StreamMuxerInit): StreamMuxer {
    if (this.#init !== undefined) throw new InvalidParametersError('the QUIC connection already has its muxer')
    this.#init = init
    // stream windows grown past their initial size are reserved there (the connection's scopes)
    this.quic.memory = init.memory
    const pending = this.#pending
    this.#pending = []
    for (const s of pending) init.onIncomingStream(s)
    if (this.quic.state === 'closed') this.#onTerminated()
    return this
  }

  // ---- StreamMuxer ------------------------------------------------------------------------

  get streams (): readonly Stream[] { return this.quic.streams.open }

  async newStream (options?: AbortOptions): Promise<Stream> {
    if (this.#closing) throw new StreamClosedError('the QUIC connection is closing')
    return await this.quic.streams.openStream(options?.signal)
  }

  /** Graceful: every stream's write side ends, both sides finish, then CONNECTION_CLOSE 0. */
  override async close (options?: AbortOptions): Promise<void> {
    if (this.#closing) return await this.quic.terminated
    this.#closing = true
    for (const s of this.quic.streams.open) void s.closeWrite(options).catch(() => {})
    try {
      await raceSignal(this.quic.streams.whenEmpty(), options?.signal)
    } catch {
      // Streams that did not finish in time are cut by the close below.
    }
    this.quic.close(0, '')
  }

  // `abort` is the byte stream's: it closes the QUIC connection (see sendReset).

  // ---- the data-less byte stream ---------------------------------------------------------

  protected sendChunk (_chunk: Uint8Array): boolean {
    throw new StreamClosedError('a QUIC connection carries data on its streams only')
  }

  protected sendCloseWrite (): void {}

  protected sendReset (err: Error): void {
    this.quic.close(0, err.message.slice(0, 100))
  }

  #terminatedSeen = false
  #onTerminated (): void {
    if (this.#terminatedSeen) return
    this.#terminatedSeen = true
    for (const s of this.#pending) s.abort(this.quic.error ?? new StreamClosedError('the QUIC connection closed'))
    this.#pending = []
    this.markWriteClosed()
    this.pushEnd()
    const err = this.quic.error
    const clean = err === undefined || (err instanceof QuicConnectionClosedError && err.application && err.errorCode === 0)
    this.#init?.onClose?.(clean ? undefined : err)
  }
}
