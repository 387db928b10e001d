/**
 * A WebRTC peer connection as the switch takes it: a raw connection whose `native` says it is
 * already secure (WebRTC Direct: DTLS plus the Noise handshake that bound it to the peer ids;
 * /webrtc: the SDP exchange over an authenticated relayed connection) and multiplexed (one data
 * channel per stream), and the stream muxer the upgrader builds the Connection on.
 *
 * The byte-stream side carries no data: `abort(err)` closes the peer connection and `closed`
 * resolves when it is gone. Channels the remote opens before the upgrader attached the muxer
 * are held (bounded; beyond that they are closed), as are their first messages.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions, Direction } from '../../interface/common.ts'
import type { Stream } from '../../interface/stream.ts'
import type { MemoryAccount, StreamMuxer, StreamMuxerFactory, StreamMuxerInit } from '../../interface/muxer.ts'
import type { NativeUpgrade, RawConnection } from '../../interface/transport.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import { AbstractStream } from '../../util/abstract-stream.ts'
import { InvalidParametersError, LimitExceededError, StreamClosedError } from '../../util/errors.ts'
import { raceSignal } from '../../util/abort.ts'
import { unrefTimeout } from '../../util/timers.ts'
import type { DataChannelLike, PeerConnectionLike } from './data-channel.ts'
import { WebRTCConnectionError } from './errors.ts'
import { WebRTCStream } from './stream.ts'
import type { WebRTCStreamOptions } from './stream.ts'

export const WEBRTC_MULTIPLEXER = '/webrtc'

export interface WebRTCConnectionOptions extends WebRTCStreamOptions {
  /** Streams open at once (both directions); more inbound channels are closed (default 1024). */
  maxStreams?: number
  /** How long `newStream` waits for a channel to open (default 10 s). */
  openTimeout?: number
}

export interface WebRTCConnectionInit {
  pc: PeerConnectionLike
  remotePeer: PeerId
  remoteAddr: Multiaddr
  localAddr?: Multiaddr
  direction: Direction
  /** '/noise' for WebRTC Direct; '/webrtc' when the SDP exchange authenticated the peer. */
  encryption: string
  options?: WebRTCConnectionOptions
}

export class WebRTCConnection extends AbstractStream implements RawConnection, StreamMuxer, StreamMuxerFactory {
  /** Set once by /webrtc after ICE chose a path (the connection exists before that). */
  remoteAddr: Multiaddr
  readonly localAddr?: Multiaddr
  readonly direction: Direction
  readonly native: NativeUpgrade
  readonly protocol = WEBRTC_MULTIPLEXER
  readonly #pc: PeerConnectionLike
  readonly #options: WebRTCConnectionOptions
  readonly #maxStreams: number
  readonly #streams = new Set<WebRTCStream>()
  /** Inbound streams that arrived before the upgrader attached the muxer. */
  #pending: WebRTCStream[] = []
  #init: StreamMuxerInit | undefined
  #closing = false
  #pcClosed = false
  #pcError: Error | undefined

  constructor (init: WebRTCConnectionInit) {
    super()
    this.#pc = init.pc
    this.remoteAddr = init.remoteAddr
    this.localAddr = init.localAddr
    this.direction = init.direction
    this.#options = init.options ?? {}
    this.#maxStreams = this.#options.maxStreams ?? 1024
    this.native = { remotePeer: init.remotePeer, encryption: init.encryption, streamMuxer: this }
    this.#pc.onDataChannel((channel) => { this.#incomingChannel(channel) })
    this.#pc.onClosed((err) => { this.#onPeerConnectionClosed(err) })
  }

  /** The connection's resource scopes, for what streams hold unread (see stream.ts). */
  readonly #memoryAccount = (): MemoryAccount | undefined => this.#init?.memory

  #wrap (channel: DataChannelLike, direction: Direction, onOpen?: () => void): WebRTCStream {
    const stream = new WebRTCStream(channel, direction, (s) => { this.#streams.delete(s) }, this.#options, this.#memoryAccount)
    channel.setEvents({
      onOpen: () => { onOpen?.() },
      onMessage: (data) => { stream.receive(data) },
      onBufferedAmountLow: () => { stream.bufferedAmountLow() },
      onClose: () => { stream.channelClosed() }
    })
    this.#streams.add(stream)
    return stream
  }

  #incomingChannel (channel: DataChannelLike): void {
    if (this.#closing || this.#pcClosed || this.#streams.size >= this.#maxStreams) {
      try { channel.close() } catch {}
      return
    }
    const stream = this.#wrap(channel, 'inbound')
    if (this.#init !== undefined) {
      this.#init.onIncomingStream(stream)
      return
    }
    if (this.#pending.length >= 32) {
      stream.abort(new LimitExceededError('too many streams opened before the connection was set up'))
      return
    }
    this.#pending.push(stream)
  }

  // ---- StreamMuxerFactory -----------------------------------------------------------------

  createStreamMuxer (_conn: unknown, init: StreamMuxerInit): StreamMuxer {
    if (this.#init !== undefined) throw new InvalidParametersError('the WebRTC connection already has its muxer')
    this.#init = init
    const pending = this.#pending
    this.#pending = []
    for (const s of pending) init.onIncomingStream(s)
    if (this.#pcClosed) this.#notifyClosed()
    return this
  }

  // ---- StreamMuxer ------------------------------------------------------------------------

  get streams (): readonly Stream[] { return [...this.#streams] }

  async newStream (options?: AbortOptions): Promise<Stream> {
    if (this.#closing || this.#pcClosed) throw new StreamClosedError('the WebRTC connection is closing')
    if (this.#streams.size >= this.#maxStreams) throw new LimitExceededError(`more than ${this.#maxStreams} streams on a WebRTC connection`)
    const channel = this.#pc.createDataChannel()
    let opened: (() => void) | undefined
    const stream = this.#wrap(channel, 'outbound', () => { opened?.() })
    if (channel.isOpen) return stream
    const open = new Promise<void>((resolve, reject) => {
      const timer = unrefTimeout(() => { reject(new WebRTCConnectionError('the data channel did not open in time')) }, this.#options.openTimeout ?? 10_000)
      opened = () => { clearTimeout(timer); resolve() }
      void stream.closed.then(() => { clearTimeout(timer); reject(stream.error ?? new WebRTCConnectionError('the data channel closed before it opened')) })
    })
    try {
      await raceSignal(open, options?.signal)
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
    return stream
  }

  /** Graceful: every stream's write side ends (FIN, FIN_ACK), then the peer connection closes. */
  override async close (options?: AbortOptions): Promise<void> {
    if (this.#closing) return await this.closed
    this.#closing = true
    const streams = [...this.#streams]
    try {
      await raceSignal(Promise.allSettled(streams.map(async s => { await s.closeWrite() })), options?.signal)
    } catch {
      // Streams that did not finish in time are cut by the close below.
    }
    this.#closePeerConnection()
    await this.closed
  }

  // `abort` is the byte stream's: it closes the peer connection (see sendReset).

  // ---- the data-less byte stream ----------------------------------------------------------

  protected sendChunk (_chunk: Uint8Array): boolean {
    throw new StreamClosedError('a WebRTC connection carries data on its streams only')
  }

  protected sendCloseWrite (): void {}

  protected sendReset (err: Error): void {
    this.#pcError ??= err
    this.#closePeerConnection()
  }

  #closePeerConnection (): void {
    try { this.#pc.close() } catch {}
    this.#onPeerConnectionClosed()
  }

  #onPeerConnectionClosed (err?: Error): void {
    if (this.#pcClosed) return
    this.#pcClosed = true
    if (err !== undefined) this.#pcError ??= err
    const reason = this.#pcError ?? new StreamClosedError('the WebRTC connection closed')
    for (const s of [...this.#streams]) {
      if (this.#pcError !== undefined) s.abort(reason)
      else s.channelClosed()
    }
    this.#streams.clear()
    this.#pending = []
    this.#notifyClosed()
  }

  #closeReported = false
  #notifyClosed (): void {
    this.markWriteClosed()
    this.pushEnd()
    if (this.#init === undefined || this.#closeReported) return
    this.#closeReported = true
    this.#init.onClose?.(this.#pcError)
  }
}
