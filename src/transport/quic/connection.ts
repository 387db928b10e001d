/**
 * One QUIC v1 connection (RFC 9000, 9001, 9002): packet protection through the crypto seam,
 * the three packet-number spaces, the handshake driven by CRYPTO frames, acknowledgements,
 * loss recovery and congestion control (recovery.ts), flow control, streams (stream.ts), idle
 * timeout and CONNECTION_CLOSE. It knows nothing of sockets: the endpoint feeds it datagrams
 * (`receiveDatagram`) and gives it a `send` function. Opening packets is packet-receiver.ts's
 * job, building them packet-writer.ts's, its timers connection-clock.ts's; this file holds the
 * state they share and decides what each frame means.
 *
 * The send path runs once per batch of I/O events (`runAtBatchEnd`), so many writes and many
 * received packets share one round of packet building and one ACK. Packets are built into a
 * reused plaintext buffer, sealed (the AEAD's output is the only allocation per packet) and
 * handed to the socket as [header, ciphertext] without another copy.
 */
import { QuicConnectionClosedError, QuicDecodeError, QuicIdleTimeoutError, QuicProtocolError, QuicStatelessResetError, QuicTransportErrorCode, QuicVersionNegotiationError } from './errors.ts'
import type { EncryptionLevel, PacketProtectorPair, QuicHandshake, QuicHandshakeResult, QuicRole } from './crypto/types.ts'
import { PacketSpace } from './packet-space.ts'
import { Recovery, SPACE_APPLICATION, SPACE_HANDSHAKE, SPACE_INITIAL } from './recovery.ts'
import type { SentFrame } from './sent-frame.ts'
import type { Frame } from './frames.ts'
import { AEAD_TAG_LENGTH, QUIC_V1 } from './packet.ts'
import type { PacketHeader } from './packet.ts'
import { checkConnectionIdParameters, decodeTransportParameters, encodeLocalParameters } from './transport-parameters.ts'
import type { TransportParameters } from './transport-parameters.ts'
import { DEFAULT_QUIC_CONFIG, INITIAL_DATAGRAM_SIZE } from './config.ts'
import type { QuicConfig } from './config.ts'
import { QuicStream } from './stream.ts'
import type { StreamHost } from './stream.ts'
import type { MemoryAccount } from '../../interface/muxer.ts'
import { ConnectionClock } from './connection-clock.ts'
import { deferred, flushAtBatchEnd } from './send-batch.ts'
import type { Deferred } from './send-batch.ts'
import type { ConnectionInit, ConnectionState as State } from './connection-init.ts'
import { logger } from '../../util/logger.ts'
import { PacketWriter } from './packet-writer.ts'
import { PacketReceiver } from './packet-receiver.ts'
import type { ReceiveHost } from './packet-receiver.ts'
import { KeyPhase } from './key-phase.ts'
import { StreamTable } from './stream-table.ts'
import { bytesEqual, RemoteConnectionIds } from './remote-cids.ts'

export type { ConnectionInit, QuicCrypto } from './connection-init.ts'

const log = logger('quic:connection')

const LEVELS: readonly EncryptionLevel[] = ['initial', 'handshake', 'application']
const SPACE_OF: Record<EncryptionLevel, number> = { initial: SPACE_INITIAL, handshake: SPACE_HANDSHAKE, application: SPACE_APPLICATION }

export class QuicConnection implements StreamHost {
  readonly role: QuicRole
  readonly localCid: Uint8Array
  readonly config: QuicConfig
  readonly spaces = [new PacketSpace(), new PacketSpace(), new PacketSpace()]
  readonly recovery: Recovery<SentFrame>
  readonly streams: StreamTable
  readonly #init: ConnectionInit
  #state: State = 'handshaking'
  #handshake: QuicHandshake
  #remoteParams: TransportParameters | undefined
  #result: QuicHandshakeResult | undefined
  #error: Error | undefined
  readonly #writer: PacketWriter
  readonly #receiver: PacketReceiver
  #handshakeConfirmed = false
  readonly #keys = new KeyPhase()
  #originalDcid: Uint8Array
  #retried = false
  #receivedAny = false
  #token: Uint8Array = new Uint8Array(0)
  #addressValidated: boolean
  bytesReceived = 0
  bytesSent = 0
  readonly #clock: ConnectionClock
  readonly #remoteIds: RemoteConnectionIds
  #pathResponses: Uint8Array[] = []
  /** CONNECTION_CLOSE to send: [application, code, reason]. */
  pendingClose: { application: boolean, code: number, reason: string } | undefined
  #closeSends = 0
  readonly #established: Deferred<QuicHandshakeResult>
  readonly #terminated: Deferred<void>

  constructor (init: ConnectionInit) {
    this.#init = init
    this.role = init.role
    this.localCid = init.localCid
    this.#remoteIds = new RemoteConnectionIds(init.remoteCid)
    this.#originalDcid = init.originalDcid
    this.#addressValidated = init.addressValidated
    this.config = { ...DEFAULT_QUIC_CONFIG, ...init.config }
    this.#clock = new ConnectionClock(this.config, () => { this.#onTimer() })
    this.#established = deferred()
    this.#established.promise.catch(() => {})
    this.#terminated = deferred()
    this.recovery = new Recovery<SentFrame>(INITIAL_DATAGRAM_SIZE, {
      onAcked: (frames) => { this.#onFramesAcked(frames) },
      onLost: (frames, space) => { this.#onFramesLost(frames, space) }
    }, this.config.congestionControl)
    this.streams = new StreamTable(this, this.config, init.role, (stream) => { init.onIncomingStream(stream) })
    this.#writer = new PacketWriter(this)
    this.#receiver = new PacketReceiver(this.#receiveHost())
    // The client's Initial keys come from its random destination id; the server's from the
    // destination id of the client's Initial (RFC 9001 5.2).
    const keyCid = init.role === 'client' ? init.remoteCid : init.initialKeyCid ?? init.originalDcid
    this.#installKeys(SPACE_INITIAL, init.crypto.initialProtectors(QUIC_V1, keyCid, init.role))
    this.#handshake = init.crypto.createHandshake({
      role: init.role,
      privateKey: init.privateKey,
      expectedRemotePeer: init.expectedRemotePeer,
      localTransportParameters: encodeLocalParameters(this.config, init.role, {
        initialSource: init.localCid,
        originalDestination: init.originalDcid,
        retrySource: init.retrySourceCid,
        statelessResetToken: init.statelessResetToken
      }),
      alpn: init.alpn ?? ['libp2p'],
      certificate: init.certificate,
      plainCertificates: init.plainCertificates,
      onCryptoData: (level, bytes) => { this.spaces[SPACE_OF[level]].queueCrypto(bytes); this.scheduleSend() },
      onKeys: (level, keys) => { this.#installKeys(SPACE_OF[level], keys) },
      onComplete: (result) => { this.#onHandshakeComplete(result) },
      onError: (err) => { this.closeWithError(err, 0x0100 + err.tlsAlert, false) }
    })
    if (init.role === 'client') this.#handshake.start()
    this.#armTimer()
  }

  get state (): State { return this.#state }
  /** The id our packets carry (the remote may change it). */
  get remoteCid (): Uint8Array { return this.#remoteIds.current }
  set remoteCid (cid: Uint8Array) { this.#remoteIds.current = cid }
  /** Whether any packet of the remote's decrypted and parsed. */
  get receivedValidPacket (): boolean { return this.#receivedAny }
  get isClosed (): boolean { return this.#state === 'closing' || this.#state === 'draining' || this.#state === 'closed' }
  get handshakeConfirmed (): boolean { return this.#handshakeConfirmed }
  get keyPhase (): boolean { return this.#keys.bit }
  /** Key updates so far: started by us, and by the remote. */
  get keyUpdates (): { byUs: number, byRemote: number } { return { byUs: this.#keys.startedByUs, byRemote: this.#keys.startedByRemote } }
  get token (): Uint8Array { return this.#token }
  get smoothedRtt (): number { return this.recovery.smoothedRtt }
  get remoteParams (): TransportParameters | undefined { return this.#remoteParams }
  get loopback (): boolean { return this.#init.loopback }
  get error (): Error | undefined { return this.#error }
  /** Resolves once the peer is authenticated; rejects if the connection fails first. */
  get established (): Promise<QuicHandshakeResult> { return this.#established.promise }
  /** Resolves once the connection is gone, whatever the cause. */
  get terminated (): Promise<void> { return this.#terminated.promise }

  /** Server: the 3x anti-amplification budget before the address is validated (RFC 9000 8.1). */
  get sendBudget (): number {
    return this.#addressValidated ? Infinity : 3 * this.bytesReceived - this.bytesSent
  }

  #installKeys (space: number, keys: PacketProtectorPair): void {
    const s = this.spaces[space]
    if (s.discarded) return
    s.read = keys.read
    s.write = keys.write
    // 1-RTT keys come just before the handshake completes: their buffered packets wait for
    // it, so no stream opens before the connection has its peer (#onHandshakeComplete).
    if (space !== SPACE_APPLICATION) this.#replayPending(space)
    this.scheduleSend()
  }

  /** Packets that arrived before the keys of `space` can be read now. */
  #replayPending (space: number): void {
    const s = this.spaces[space]
    const pending = s.pending
    s.pending = []
    for (const p of pending) this.receiveDatagram(p.datagram, true)
  }

  // ---- receiving (packet-receiver.ts) -----------------------------------------------------

  /** One UDP datagram from the remote. `replay`: a buffered packet coming back. */
  receiveDatagram (datagram: Uint8Array, replay = false): void {
    this.#receiver.receiveDatagram(datagram, replay)
  }

  /** The receive path's view of this connection: its state and the reactions it triggers. */
  #receiveHost (): ReceiveHost {
    const conn = this
    return {
      role: this.role,
      localCid: this.localCid,
      spaces: this.spaces,
      keys: this.#keys,
      get state () { return conn.#state },
      get isClosed () { return conn.isClosed },
      get receivedAny () { return conn.#receivedAny },
      get closeSends () { return conn.#closeSends },
      countReceived: bytes => { this.bytesReceived += bytes },
      scheduleSend: () => { this.scheduleSend() },
      onActivity: now => { this.#clock.lastActivity = now },
      closeWithError: err => { this.closeWithError(err, err.transportCode, false) },
      onVersionNegotiation: header => { this.#onVersionNegotiation(header) },
      onRetry: (datagram, header) => { this.#onRetry(datagram, header) },
      checkStatelessReset: datagram => { this.#checkStatelessReset(datagram) },
      openOtherPhase: (pn, header, ciphertext) => {
        const previous = this.#keys.previousReadFor(pn)
        return previous !== undefined ? previous.open(pn, header, ciphertext) : this.#openWithNextKeys(pn, header, ciphertext)
      },
      onFirstPacket: header => {
        if (this.role === 'client' && header.type === 'initial') {
          // The server's first Initial tells us the id it chose.
          this.remoteCid = header.scid.slice()
          this.#serverInitialScid = this.remoteCid
          this.#init.onRemoteCidChange?.(this)
        }
        this.#receivedAny = true
      },
      onHandshakePacket: () => {
        // A Handshake packet proves the client owns its address; Initial keys go (RFC 9001 4.9.1).
        this.#addressValidated = true
        this.#discardSpace(SPACE_INITIAL)
      },
      onFrame: (frame, space) => { this.#onFrame(frame, space) }
    }
  }

  #serverInitialScid: Uint8Array | undefined

  #openWithNextKeys (pn: number, header: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    // RFC 9001 6.3: the remote updated its keys; try the next generation, switch if it opens.
    if (!this.#handshakeConfirmed) throw new QuicProtocolError('key update before the handshake was confirmed', QuicTransportErrorCode.KEY_UPDATE_ERROR)
    // Peek first where the handshake can (crypto/types.ts): a forged or corrupted packet with the
    // bit flipped must not move the key schedule, only one that opens.
    const handshake = this.#handshake
    const next = handshake.nextApplicationKeys !== undefined ? handshake.nextApplicationKeys() : handshake.updateApplicationKeys()
    const plaintext = next.read.open(pn, header, ciphertext)
    if (handshake.nextApplicationKeys !== undefined) handshake.updateApplicationKeys()
    const space = this.spaces[SPACE_APPLICATION]
    this.#keys.switched(space.read!, false, space.nextPn, pn)
    space.read = next.read
    space.write = next.write
    return plaintext
  }

  /**
   * Starts a key update (RFC 9001 6.1): our next packets go out with the next generation's keys
   * and the other Key Phase bit. False while not allowed: before the handshake is confirmed, or
   * before a packet of the current phase was acknowledged.
   */
  updateKeys (): boolean {
    if (this.#state !== 'established' || !this.#handshakeConfirmed || !this.#keys.canStart) return false
    const next = this.#handshake.updateApplicationKeys()
    const space = this.spaces[SPACE_APPLICATION]
    this.#keys.switched(space.read!, true, space.nextPn, -1)
    space.read = next.read
    space.write = next.write
    return true
  }

  #checkStatelessReset (datagram: Uint8Array): void {
    if (this.#remoteIds.isStatelessReset(datagram)) this.#terminate(new QuicStatelessResetError())
  }

  #onVersionNegotiation (header: PacketHeader): void {
    if (this.role !== 'client' || this.#receivedAny) return
    const versions = header.versions ?? []
    // A list that contains our version is a forgery or a confused server (RFC 9000 6.2).
    if (versions.includes(QUIC_V1)) return
    this.#terminate(new QuicVersionNegotiationError(versions))
  }

  #onRetry (datagram: Uint8Array, header: PacketHeader): void {
    if (this.role !== 'client' || this.#receivedAny || this.#retried || header.token.length === 0) return
    const tag = datagram.subarray(header.end - AEAD_TAG_LENGTH, header.end)
    const expected = this.#init.crypto.retryIntegrityTag(QUIC_V1, this.#originalDcid, datagram.subarray(header.start, header.end - AEAD_TAG_LENGTH))
    if (!bytesEqual(tag, expected)) return
    this.#retried = true
    this.#token = header.token.slice()
    this.remoteCid = header.scid.slice()
    this.#retrySourceCid = this.remoteCid
    this.#init.onRemoteCidChange?.(this)
    // New Initial keys from the new destination id; everything sent at Initial goes again.
    this.recovery.resetSpace(SPACE_INITIAL)
    this.#installKeys(SPACE_INITIAL, this.#init.crypto.initialProtectors(QUIC_V1, this.remoteCid, 'client'))
    this.spaces[SPACE_INITIAL].resendAllCrypto()
    this.scheduleSend()
  }

  #retrySourceCid: Uint8Array | undefined

  #onFrame (frame: Frame, space: number): void {
    switch (frame.type) {
      case 'padding': case 'ping': return
      case 'ack': {
        if (frame.largest >= this.spaces[space].nextPn) throw new QuicProtocolError(`ACK of packet ${frame.largest}, never sent`)
        const exponent = this.#remoteParams?.ackDelayExponent ?? 3
        const delayMs = frame.delay * 2 ** exponent / 1000
        this.recovery.onAck(space, frame.ranges, delayMs, performance.now(), this.#handshakeConfirmed)
        if (space === SPACE_APPLICATION) this.#keys.onAck(frame.largest)
        return
      }
      case 'crypto': {
        const level = LEVELS[space]
        this.spaces[space].receiveCrypto(frame.offset, frame.data, bytes => { this.#handshake.receiveCryptoData(level, bytes) })
        return
      }
      case 'handshake_done': {
        if (this.role === 'server') throw new QuicProtocolError('HANDSHAKE_DONE from a client')
        this.#confirmHandshake()
        return
      }
      case 'connection_close': {
        const reason = new TextDecoder().decode(frame.reason)
        const err = new QuicConnectionClosedError(`the remote closed the connection: ${frame.application ? 'application' : 'transport'} code 0x${frame.errorCode.toString(16)}${reason === '' ? '' : ` (${reason})`}`, frame.errorCode, frame.application, true)
        this.#enterDraining(err)
        return
      }
      case 'new_token': if (this.role === 'server') throw new QuicProtocolError('NEW_TOKEN from a client'); return
      case 'path_challenge': if (this.#pathResponses.length < 4) this.#pathResponses.push(frame.data.slice()); return
      case 'path_response': return
      case 'new_connection_id': { this.#remoteIds.onNewConnectionId(frame); return }
      case 'retire_connection_id': return
      case 'max_data': this.streams.onMaxData(frame.maximum); return
      case 'max_streams': this.streams.onMaxStreams(frame.bidi, frame.maximum); return
      case 'data_blocked': case 'stream_data_blocked': case 'streams_blocked': return
      case 'datagram':
        // RFC 9221 3: a DATAGRAM we never offered to take is a protocol violation. Taken ones
        // are dropped: no libp2p protocol sends datagrams (HTTP/3 only needs the offer).
        if (this.config.maxDatagramFrameSize === 0 || frame.data.length > this.config.maxDatagramFrameSize) throw new QuicProtocolError('DATAGRAM frame not allowed')
        return
      default:
        if (frame.type === 'reset_stream' && frame.reliableSize !== undefined && !this.config.announceResetStreamAt) throw new QuicProtocolError('RESET_STREAM_AT without reset_stream_at')
        this.streams.onStreamFrame(frame)
    }
  }

  /** RETIRE_CONNECTION_ID sequence numbers and PATH_RESPONSE data waiting to go out. */
  takeRetire (): number | undefined { return this.#remoteIds.takeRetire() }
  get hasPathOrRetire (): boolean { return this.#remoteIds.retirePending || this.#pathResponses.length > 0 }
  takePathResponse (): Uint8Array | undefined { return this.#pathResponses.shift() }

  #onHandshakeComplete (result: QuicHandshakeResult): void {
    if (this.isClosed) return
    let params: TransportParameters
    try {
      params = decodeTransportParameters(result.remoteTransportParameters, this.role === 'client')
      checkConnectionIdParameters(params, this.role === 'client'
        ? { original: this.#originalDcid, initialSource: this.#serverInitialScid, retrySource: this.#retried ? this.#retrySourceCid : undefined }
        : { initialSource: this.remoteCid })
    } catch (err) {
      const e = err as QuicDecodeError
      this.closeWithError(e, e.transportCode ?? QuicTransportErrorCode.TRANSPORT_PARAMETER_ERROR, false)
      return
    }
    this.#remoteParams = params
    this.#result = result
    if (params.statelessResetToken !== undefined) this.#remoteIds.addResetToken(params.statelessResetToken)
    this.recovery.maxAckDelay = params.maxAckDelay
    if (params.maxIdleTimeout > 0) this.#clock.idleTimeout = Math.min(this.#clock.idleTimeout, params.maxIdleTimeout)
    this.streams.applyRemoteParameters(params)
    this.#state = 'established'
    if (this.role === 'server') {
      // The server's handshake is confirmed when it completes (RFC 9001 4.1.2).
      this.#writer.queueHandshakeDone()
      this.#confirmHandshake()
    }
    this.#writer.startPmtuDiscovery(params.maxUdpPayloadSize)
    // Client: the Finished leaves now, before the dial's continuations run (the switch's
    // bookkeeping, the first stream's write): the server's check of our certificate, on the
    // path of every first request, then overlaps them instead of waiting for the batch end.
    if (this.role === 'client') this.flush()
    this.#established.resolve(result)
    this.#init.onEstablished?.(this)
    this.#replayPending(SPACE_APPLICATION)
    this.scheduleSend()
  }

  #confirmHandshake (): void {
    if (this.#handshakeConfirmed) return
    this.#handshakeConfirmed = true
    this.#discardSpace(SPACE_INITIAL)
    this.#discardSpace(SPACE_HANDSHAKE)
  }

  /** Client: its first Handshake packet went out, Initial keys go (RFC 9001 4.9.1). */
  onHandshakePacketSent (): void {
    if (this.role === 'client') this.#discardSpace(SPACE_INITIAL)
  }

  #discardSpace (space: number): void {
    if (this.spaces[space].discarded) return
    this.spaces[space].discard()
    this.recovery.discardSpace(space)
  }

  #onFramesAcked (frames: SentFrame[]): void {
    for (const f of frames) {
      switch (f.kind) {
        case 'stream': case 'reset_stream': f.stream.onFrameAcked(f); break
        case 'pmtu_probe': this.#writer.onProbeAcked(f.size); break
        default: break
      }
    }
  }

  #onFramesLost (frames: SentFrame[], space: number): void {
    for (const f of frames) {
      switch (f.kind) {
        case 'stream': case 'reset_stream': case 'stop_sending': case 'max_stream_data': f.stream.onFrameLost(f); break
        case 'crypto': this.spaces[space].cryptoLost(f.offset, f.length); break
        case 'max_data': this.streams.maxDataLost(); break
        case 'max_streams': this.streams.maxStreamsLost(); break
        case 'handshake_done': this.#writer.queueHandshakeDone(); break
        case 'pmtu_probe': this.#writer.onProbeLost(f.size); break
        default: break
      }
    }
    this.scheduleSend()
  }

  // ---- sending and timers ----------------------------------------------------------------

  #sendScheduled = false

  /** Builds and sends packets at the end of the current batch of I/O events. */
  scheduleSend (): void {
    if (this.#sendScheduled || this.#state === 'closed') return
    this.#sendScheduled = true
    flushAtBatchEnd(this)
  }

  /** Runs the send path now (the endpoint calls it at batch end). */
  flush (): void {
    this.#sendScheduled = false
    if (this.#state === 'closed' || this.#state === 'draining') return
    const now = performance.now()
    if (this.#keys.due(this.spaces[SPACE_APPLICATION].nextPn, this.config.keyUpdateInterval)) this.updateKeys()
    const sent = this.#writer.write(now)
    if (sent > 0) this.#clock.lastSend = now
    if (this.#state === 'closing' && this.pendingClose === undefined && this.#clock.closeDeadline === 0) this.#startClosingPeriod()
    this.#armTimer()
  }

  /** Called by the writer for every datagram. */
  sendDatagram (parts: Uint8Array[], size: number): void {
    this.bytesSent += size
    this.#init.send(parts)
  }

  /** The CONNECTION_CLOSE went out (the writer sends it alone). */
  onCloseSent (): void {
    this.#closeSends++
    this.pendingClose = undefined
  }

  #armTimer (): void {
    if (this.#state === 'closed') return
    this.#clock.arm(this.#nextDeadline())
  }

  #nextDeadline (): number {
    const clock = this.#clock
    if (clock.closeDeadline !== 0) return clock.closeDeadline
    let next = this.#state === 'handshaking' ? clock.handshakeDeadline : Infinity
    next = Math.min(next, clock.idleDeadline)
    if (this.#state === 'established') next = Math.min(next, clock.keepAliveDeadline)
    for (const s of this.spaces) if (s.ackDeadline !== 0) next = Math.min(next, s.ackDeadline)
    const loss = this.recovery.timer(this.#handshakeConfirmed, this.#antiDeadlockSpace(), performance.now())
    if (loss !== undefined) next = Math.min(next, loss.time)
    const pacing = this.#writer.pacingAt
    if (pacing !== 0) next = Math.min(next, pacing)
    return next
  }

  /** RFC 9002 6.2.2.1: a client with nothing in flight before confirmation still probes. */
  #antiDeadlockSpace (): number | undefined {
    if (this.role !== 'client' || this.#handshakeConfirmed || this.recovery.sentCount !== 0 || this.#state !== 'handshaking') return undefined
    return this.spaces[SPACE_HANDSHAKE].write !== undefined ? SPACE_HANDSHAKE : SPACE_INITIAL
  }

  #onTimer (): void {
    const clock = this.#clock
    const now = performance.now()
    if (clock.closeDeadline !== 0) {
      if (now >= clock.closeDeadline) { this.#terminate(this.#error); return }
      this.#armTimer()
      return
    }
    if (this.#state === 'handshaking' && now >= clock.handshakeDeadline) {
      this.closeWithError(new QuicIdleTimeoutError('the QUIC handshake did not finish in time'), QuicTransportErrorCode.CONNECTION_REFUSED, false)
      return
    }
    if (now >= clock.idleDeadline) {
      // Idle timeout: silently gone (RFC 9000 10.1).
      this.#terminate(new QuicIdleTimeoutError())
      return
    }
    const loss = this.recovery.timer(this.#handshakeConfirmed, this.#antiDeadlockSpace(), now)
    if (loss !== undefined && now >= loss.time) {
      this.recovery.onTimer(loss, now)
      if (!loss.loss) this.#writer.queueProbe(loss.space)
    }
    if (this.#state === 'established' && now >= clock.keepAliveDeadline) {
      this.#writer.queueProbe(SPACE_APPLICATION)
    }
    this.flush()
  }

  // ---- closing -----------------------------------------------------------------------------

  /** Closes with CONNECTION_CLOSE: `application` code (graceful: 0) or a transport error. */
  close (code = 0, reason = '', application = true): void {
    if (this.isClosed) return
    const err = new QuicConnectionClosedError(`closed locally: ${application ? 'application' : 'transport'} code 0x${code.toString(16)}${reason === '' ? '' : ` (${reason})`}`, code, application, false)
    this.#startClosing(err, application, code, reason)
  }

  closeWithError (err: Error, transportCode: number, application: boolean): void {
    if (this.isClosed) return
    log('closing with 0x%s: %s', transportCode.toString(16), err.message)
    this.#startClosing(err, application, transportCode, err.message.slice(0, 200))
  }

  #startClosing (err: Error, application: boolean, code: number, reason: string): void {
    this.#error = err
    // Before the handshake completes an application close must travel as a transport one
    // (RFC 9000 10.2.3): APPLICATION_ERROR.
    if (application && this.#state === 'handshaking') {
      application = false
      code = QuicTransportErrorCode.APPLICATION_ERROR
      reason = ''
    }
    this.#state = 'closing'
    this.pendingClose = { application, code, reason }
    this.#failEverything(err)
    this.flush()
    this.#init.onClosing?.(this)
  }

  #startClosingPeriod (): void {
    this.#clock.startClosingPeriod(this.recovery.smoothedRtt, this.recovery.rttVar)
  }

  #enterDraining (err: Error): void {
    this.#error = err
    this.#state = 'draining'
    this.#failEverything(err)
    this.#startClosingPeriod()
    this.#armTimer()
    this.#init.onClosing?.(this)
  }

  /** Ends at once, sending nothing (idle timeout, stateless reset, endpoint shutdown). */
  terminate (err?: Error): void { this.#terminate(err) }

  #terminate (err: Error | undefined): void {
    if (this.#state === 'closed') return
    if (this.#error === undefined) this.#error = err
    const wasOpen = !this.isClosed
    this.#state = 'closed'
    if (wasOpen) this.#failEverything(err ?? new QuicConnectionClosedError('the connection closed', 0, true, false))
    this.#clock.cancel()
    this.#handshake.destroy()
    this.#init.onTerminated(this)
    this.#terminated.resolve()
  }

  #failEverything (err: Error): void {
    this.#handshake.destroy()
    this.#established.reject(err)
    this.streams.connectionClosed(err)
  }

  /** The authenticated remote, once established. */
  get result (): QuicHandshakeResult | undefined { return this.#result }

  /** Opens a send-only stream (HTTP/3 control and QPACK streams). */
  openUniStream (): QuicStream { return this.streams.openUniStream() }

  /** Where stream windows grown past their initial size are reserved (set with the muxer). */
  memory: MemoryAccount | undefined

  // StreamHost
  reserveWindow (bytes: number): boolean { return this.memory?.reserve(bytes) ?? true }
  releaseWindow (bytes: number): void { this.memory?.release(bytes) }
  wakeStream (stream: QuicStream): void { this.streams.wake(stream); this.scheduleSend() }
  releaseStream (stream: QuicStream): void { this.streams.release(stream); this.scheduleSend() }
  onConsumed (bytes: number): void { if (this.streams.onConsumed(bytes)) this.scheduleSend() }
}

export { DEFAULT_MAX_ACK_DELAY } from './packet-receiver.ts'
