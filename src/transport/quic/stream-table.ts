/**
 * The streams of one connection: id allocation and validation (RFC 9000 2.1, 4.6), stream count
 * limits both ways, connection-level flow control both ways (4.1, with the receive window
 * auto-tuned like the streams' own), and the round-robin queue of streams with data to send.
 *
 * libp2p only uses bidirectional streams: by default we allow the remote no unidirectional
 * ones, and a frame for one is a STREAM_LIMIT_ERROR. HTTP/3 (WebTransport) sets
 * `maxIncomingUniStreams`: the remote may then open that many in all (not renewed: HTTP/3 needs
 * three, and WebTransport's own unidirectional streams are refused above it), and we may open
 * as many as its initial_max_streams_uni allows.
 */
import type { Frame } from './frames.ts'
import type { QuicConfig } from './config.ts'
import type { QuicRole } from './crypto/types.ts'
import type { TransportParameters } from './transport-parameters.ts'
import { QuicStream } from './stream.ts'
import type { StreamHost } from './stream.ts'
import { QuicProtocolError, QuicTransportErrorCode } from './errors.ts'
import { AbortError, ConnectionClosedError } from '../../util/errors.ts'

interface OpenWaiter {
  resolve(): void
  reject(err: Error): void
  signal?: AbortSignal
  onAbort?: () => void
}

export class StreamTable {
  readonly #host: StreamHost
  readonly #config: QuicConfig
  readonly #role: QuicRole
  readonly #onIncoming: (stream: QuicStream) => void
  readonly #streams = new Map<number, QuicStream>()
  #ready: QuicStream[] = []
  readonly #readySet = new Set<QuicStream>()
  #closedError: Error | undefined
  #remote: TransportParameters | undefined

  // streams we open
  #nextLocal: number
  #peerMaxStreams = 0
  #openWaiters: OpenWaiter[] = []
  // streams the remote opens
  #nextRemote: number
  #remoteReleased = 0
  #maxRemote: number
  #maxStreamsPending = false
  // unidirectional streams (HTTP/3 only)
  #nextLocalUni: number
  #nextRemoteUni: number
  #peerMaxStreamsUni = 0

  // connection flow control, sending
  #peerMaxData = 0
  #sentData = 0
  // connection flow control, receiving
  #advertised: number
  #window: number
  #received = 0
  #consumed = 0
  #lastUpdate = 0
  #maxDataPending = false

  constructor (host: StreamHost, config: QuicConfig, role: QuicRole, onIncoming: (stream: QuicStream) => void) {
    this.#host = host
    this.#config = config
    this.#role = role
    this.#onIncoming = onIncoming
    this.#nextLocal = role === 'client' ? 0 : 1
    this.#nextRemote = role === 'client' ? 1 : 0
    this.#nextLocalUni = role === 'client' ? 2 : 3
    this.#nextRemoteUni = role === 'client' ? 3 : 2
    this.#maxRemote = config.maxIncomingStreams
    this.#window = config.connectionWindow
    this.#advertised = config.connectionWindow
  }

  /** Streams the application still holds (not yet finished both ways). */
  get open (): QuicStream[] {
    const out: QuicStream[] = []
    for (const s of this.#streams.values()) if (s.status === 'open' || s.status === 'closing') out.push(s)
    return out
  }

  get size (): number { return this.#streams.size }
  get connectionCredit (): number { return this.#peerMaxData - this.#sentData }

  applyRemoteParameters (params: TransportParameters): void {
    this.#remote = params
    this.#peerMaxData = params.initialMaxData
    this.#peerMaxStreams = params.initialMaxStreamsBidi
    this.#peerMaxStreamsUni = params.initialMaxStreamsUni
    this.#wakeOpeners()
  }

  /**
   * Opens a send-only stream (HTTP/3 control and QPACK streams). Fails at once when the
   * remote's unidirectional stream limit is reached: the few HTTP/3 needs fit any sane limit.
   */
  openUniStream (): QuicStream {
    if (this.#closedError !== undefined) throw this.#closedError
    if (this.#remote === undefined || (this.#nextLocalUni >> 2) >= this.#peerMaxStreamsUni) {
      throw new QuicProtocolError('the remote allows no more unidirectional streams', QuicTransportErrorCode.STREAM_LIMIT_ERROR)
    }
    const id = this.#nextLocalUni
    this.#nextLocalUni += 4
    const stream = new QuicStream(id, 'outbound', this.#host, this.#windows(), this.#remote.initialMaxStreamDataUni, 'send-only')
    this.#streams.set(id, stream)
    return stream
  }

  // ---- opening ---------------------------------------------------------------------------

  /** Opens a stream, waiting (bounded by `signal`) while the remote's stream limit is reached. */
  async openStream (signal?: AbortSignal): Promise<QuicStream> {
    while (true) {
      if (this.#closedError !== undefined) throw this.#closedError
      if (this.#remote !== undefined && (this.#nextLocal >> 2) < this.#peerMaxStreams) break
      await this.#waitForCredit(signal)
    }
    const id = this.#nextLocal
    this.#nextLocal += 4
    // Data we send on a stream we opened is limited by the remote's bidi_remote window.
    const stream = new QuicStream(id, 'outbound', this.#host, this.#windows(), this.#remote!.initialMaxStreamDataBidiRemote)
    this.#streams.set(id, stream)
    return stream
  }

  #windows (): { initial: number, max: number } {
    return { initial: this.#config.streamWindow, max: this.#config.maxStreamWindow }
  }

  async #waitForCredit (signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) throw signal.reason ?? new AbortError()
    await new Promise<void>((resolve, reject) => {
      const waiter: OpenWaiter = { resolve, reject, signal }
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#openWaiters = this.#openWaiters.filter(w => w !== waiter)
          reject(signal.reason ?? new AbortError())
        }
        signal.addEventListener('abort', waiter.onAbort, { once: true })
      }
      this.#openWaiters.push(waiter)
    })
  }

  #wakeOpeners (err?: Error): void {
    const waiters = this.#openWaiters
    this.#openWaiters = []
    for (const w of waiters) {
      if (w.onAbort !== undefined) w.signal?.removeEventListener('abort', w.onAbort)
      if (err !== undefined) w.reject(err)
      else w.resolve()
    }
  }

  onMaxStreams (bidi: boolean, maximum: number): void {
    if (!bidi) {
      this.#peerMaxStreamsUni = Math.max(this.#peerMaxStreamsUni, maximum)
      return
    }
    if (maximum <= this.#peerMaxStreams) return
    this.#peerMaxStreams = maximum
    this.#wakeOpeners()
  }

  onMaxData (maximum: number): void {
    if (maximum <= this.#peerMaxData) return
    const wasBlocked = this.connectionCredit <= 0
    this.#peerMaxData = maximum
    if (wasBlocked) for (const s of this.#streams.values()) if (s.wantsToSend(this.connectionCredit)) this.wake(s)
  }

  // ---- incoming frames ------------------------------------------------------------------

  /** A STREAM, RESET_STREAM, STOP_SENDING or MAX_STREAM_DATA frame. */
  onStreamFrame (frame: Frame): void {
    if (frame.type !== 'stream' && frame.type !== 'reset_stream' && frame.type !== 'stop_sending' && frame.type !== 'max_stream_data') return
    const stream = this.#streamFor(frame.streamId, frame.type)
    if (stream === undefined) return
    switch (frame.type) {
      case 'stream': {
        this.#chargeReceive(stream, frame.offset + frame.data.length)
        stream.receiveData(frame.offset, frame.data, frame.fin)
        return
      }
      case 'reset_stream': {
        this.#chargeReceive(stream, frame.finalSize)
        stream.receiveReset(frame.errorCode, frame.finalSize)
        return
      }
      case 'stop_sending': stream.receiveStopSending(frame.errorCode); return
      case 'max_stream_data': stream.receiveMaxStreamData(frame.maximum)
    }
  }

  #chargeReceive (stream: QuicStream, end: number): void {
    const extra = end - stream.highestReceived
    if (extra <= 0) return
    if (this.#received + extra > this.#advertised) throw new QuicProtocolError(`connection data ${this.#received + extra} exceeds the window ${this.#advertised}`, QuicTransportErrorCode.FLOW_CONTROL_ERROR)
    this.#received += extra
  }

  #streamFor (id: number, frameType: string): QuicStream | undefined {
    if ((id & 0x02) !== 0) return this.#uniStreamFor(id, frameType)
    const existing = this.#streams.get(id)
    if (existing !== undefined) return existing
    const localInitiated = (id & 0x01) === (this.#role === 'client' ? 0 : 1)
    if (localInitiated) {
      if (id >= this.#nextLocal) throw new QuicProtocolError(`${frameType} on stream ${id}, which we never opened`, QuicTransportErrorCode.STREAM_STATE_ERROR)
      return undefined // finished and forgotten
    }
    if (id < this.#nextRemote) return undefined // finished and forgotten
    if ((id >> 2) >= this.#maxRemote) throw new QuicProtocolError(`stream ${id} is beyond the ${this.#maxRemote} streams allowed`, QuicTransportErrorCode.STREAM_LIMIT_ERROR)
    if (this.#closedError !== undefined) return undefined
    // Opening stream n implicitly opens every lower one of its kind (RFC 9000 3.2).
    let stream: QuicStream | undefined
    const maxSend = this.#remote?.initialMaxStreamDataBidiLocal ?? 0
    while (this.#nextRemote <= id) {
      stream = new QuicStream(this.#nextRemote, 'inbound', this.#host, this.#windows(), maxSend)
      this.#streams.set(this.#nextRemote, stream)
      this.#nextRemote += 4
      this.#onIncoming(stream)
    }
    return stream
  }

  #uniStreamFor (id: number, frameType: string): QuicStream | undefined {
    const local = (id & 0x01) === (this.#role === 'client' ? 0 : 1)
    // RFC 9000 19.4-19.10: data and resets travel only from the sender, STOP_SENDING and
    // MAX_STREAM_DATA only from the receiver.
    const fromSender = frameType === 'stream' || frameType === 'reset_stream'
    if (local === fromSender) throw new QuicProtocolError(`${frameType} on ${local ? 'our' : 'the remote\'s'} unidirectional stream ${id}`, QuicTransportErrorCode.STREAM_STATE_ERROR)
    const existing = this.#streams.get(id)
    if (existing !== undefined) return existing
    if (local) {
      if (id >= this.#nextLocalUni) throw new QuicProtocolError(`${frameType} on stream ${id}, which we never opened`, QuicTransportErrorCode.STREAM_STATE_ERROR)
      return undefined
    }
    if (id < this.#nextRemoteUni) return undefined
    if ((id >> 2) >= this.#config.maxIncomingUniStreams) throw new QuicProtocolError(`unidirectional stream ${id} is beyond the ${this.#config.maxIncomingUniStreams} allowed`, QuicTransportErrorCode.STREAM_LIMIT_ERROR)
    if (this.#closedError !== undefined) return undefined
    let stream: QuicStream | undefined
    while (this.#nextRemoteUni <= id) {
      stream = new QuicStream(this.#nextRemoteUni, 'inbound', this.#host, this.#windows(), 0, 'receive-only')
      this.#streams.set(this.#nextRemoteUni, stream)
      this.#nextRemoteUni += 4
      this.#onIncoming(stream)
    }
    return stream
  }

  // ---- receive-side flow control ---------------------------------------------------------

  /** The reader consumed bytes; true when a MAX_DATA should go out. */
  onConsumed (bytes: number): boolean {
    this.#consumed += bytes
    if (this.#advertised - this.#consumed >= this.#window / 2) return false
    const now = performance.now()
    if (now - this.#lastUpdate < 2 * this.#host.smoothedRtt && this.#window < this.#config.maxConnectionWindow) {
      this.#window = Math.min(this.#window * 2, this.#config.maxConnectionWindow)
    }
    this.#lastUpdate = now
    this.#advertised = this.#consumed + this.#window
    this.#maxDataPending = true
    return true
  }

  maxDataLost (): void { this.#maxDataPending = true }
  maxStreamsLost (): void { this.#maxStreamsPending = true }

  /** MAX_DATA value to send, if one is due. */
  takeMaxData (): number | undefined {
    if (!this.#maxDataPending) return undefined
    this.#maxDataPending = false
    return this.#advertised
  }

  /** MAX_STREAMS value to send, if one is due. */
  takeMaxStreams (): number | undefined {
    if (!this.#maxStreamsPending) return undefined
    this.#maxStreamsPending = false
    return this.#maxRemote
  }

  // ---- sending ---------------------------------------------------------------------------

  /** Some stream may have something to send (the writer finds out which). */
  hasReady (): boolean { return this.#ready.length > 0 }

  /** MAX_DATA or MAX_STREAMS is due. */
  get controlPending (): boolean { return this.#maxDataPending || this.#maxStreamsPending }

  wake (stream: QuicStream): void {
    if (this.#readySet.has(stream)) return
    this.#readySet.add(stream)
    this.#ready.push(stream)
  }

  /** The next stream with something to send, round robin; undefined when none. */
  nextReady (): QuicStream | undefined {
    while (this.#ready.length > 0) {
      const s = this.#ready.shift()!
      this.#readySet.delete(s)
      if (s.wantsToSend(this.connectionCredit)) return s
    }
    return undefined
  }

  /** Puts a stream that still has data back at the end of the queue. */
  requeue (stream: QuicStream): void {
    if (stream.wantsToSend(this.connectionCredit)) this.wake(stream)
  }

  /** New bytes went out on some stream (connection credit). */
  chargeSend (bytes: number): void { this.#sentData += bytes }

  /** Resolves once no stream is left (a graceful close waits for it; bounded by its caller). */
  whenEmpty (): Promise<void> {
    if (this.#streams.size === 0 || this.#closedError !== undefined) return Promise.resolve()
    return new Promise(resolve => { this.#emptyWaiters.push(resolve) })
  }

  #emptyWaiters: Array<() => void> = []

  #notifyEmpty (): void {
    if (this.#streams.size !== 0 && this.#closedError === undefined) return
    const waiters = this.#emptyWaiters
    this.#emptyWaiters = []
    for (const w of waiters) w()
  }

  release (stream: QuicStream): void {
    if (this.#streams.get(stream.quicId) !== stream) return
    this.#streams.delete(stream.quicId)
    this.#notifyEmpty()
    const remoteInitiated = (stream.quicId & 0x01) !== (this.#role === 'client' ? 0 : 1)
    if (remoteInitiated && (stream.quicId & 0x02) === 0) {
      this.#remoteReleased++
      this.#maxRemote = this.#remoteReleased + this.#config.maxIncomingStreams
      this.#maxStreamsPending = true
    }
  }

  connectionClosed (err: Error): void {
    if (this.#closedError !== undefined) return
    this.#closedError = err instanceof Error ? err : new ConnectionClosedError()
    this.#wakeOpeners(this.#closedError)
    for (const s of this.#streams.values()) s.connectionClosed(this.#closedError)
    this.#streams.clear()
    this.#ready = []
    this.#readySet.clear()
    this.#notifyEmpty()
  }
}
