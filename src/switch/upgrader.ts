/**
 * The upgrader turns a raw transport connection into a Connection:
 * the connection protector (private networks), if any -> multistream-select the security protocol (optimistically when only one is configured) -> handshake (authenticates the remote peer) ->
 * connection gater -> multistream-select the muxer (skipped when the handshake already agreed
 * on one) -> muxer -> gater again on the finished connection.
 *
 * Each upgrade is bounded by a timeout and the caller's signal; when either fires, the raw
 * connection is aborted so no step can hang on a silent peer, and the upgrade rejects with the
 * signal's reason (a TimeoutError for the timeout). Any failure aborts the raw connection.
 *
 * A raw connection with `native` set (QUIC) is already secure and multiplexed: the protector,
 * security and muxer steps are skipped (a private network refuses it), the gater still runs.
 */
import type { Histogram, Metrics } from '../interface/metrics.ts'
import { transportName } from '../metrics/labels.ts'
import { streamBytesOf } from '../metrics/stream-bytes.ts'
import type { StreamBytes } from '../metrics/stream-bytes.ts'
import type { AbortOptions, Direction } from '../interface/common.ts'
import type { ConnectionLimits } from '../interface/connection.ts'
import type { ConnectionGater } from '../interface/connection-gater.ts'
import type { StreamMuxerFactory } from '../interface/muxer.ts'
import type { Registrar } from '../interface/registrar.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { ConnectionEncrypter, ConnectionProtector, SecuredConnection } from '../interface/security.ts'
import type { RawConnection } from '../interface/transport.ts'
import type { ByteStream } from '../interface/stream.ts'
import { handle, handleQueued, lazySelect, select } from '../mss/index.ts'
import { ConnectionDeniedError, InvalidParametersError, UnexpectedPeerError, UnsupportedProtocolError } from '../util/errors.ts'
import { logger } from '../util/logger.ts'
import { SwitchConnection } from './connection.ts'
import { Deadline } from '../util/deadline.ts'
import type { StreamResourceManager } from './connection.ts'

const log = logger('upgrader')

export const DEFAULT_UPGRADE_TIMEOUT = 10_000

export interface UpgraderInit {
  connectionEncrypters: ConnectionEncrypter[]
  streamMuxers: StreamMuxerFactory[]
  registrar: Registrar
  connectionGater?: ConnectionGater
  /** Runs below everything else on each raw connection (private networks). */
  connectionProtector?: ConnectionProtector
  /** Whole inbound upgrade, in ms (default 10 s). */
  inboundUpgradeTimeout?: number
  /** Whole outbound upgrade, in ms (default 10 s). */
  outboundUpgradeTimeout?: number
  /** Per-stream multistream-select bound on the resulting connections. */
  streamNegotiationTimeout?: number
  /** Graceful close bound on the resulting connections. */
  connectionCloseTimeout?: number
  /** Runs once for every upgraded connection when it closes. */
  onConnectionClose?(connection: SwitchConnection): void
  /** Streams of the resulting connections reserve from it (per peer, per protocol, ...). */
  resourceManager?: StreamResourceManager
  /** Failed inbound stream negotiations a connection tolerates (see connection.ts). */
  failedNegotiations?: { burst: number, perSecond: number }
  /** Upgrade outcomes and phase times, and the bytes of the connections' streams. */
  metrics?: Metrics
}

export interface UpgradeOptions extends AbortOptions {
  /** Outbound: the peer we meant to reach; the handshake must authenticate exactly this one. */
  remotePeer?: PeerId
  limits?: ConnectionLimits
}

export class Upgrader {
  readonly #init: UpgraderInit
  readonly #encrypters: Map<string, ConnectionEncrypter>
  readonly #muxers: Map<string, StreamMuxerFactory>
  readonly #metrics: UpgradeMetrics | undefined
  /** Made with the first connection (it registers a metric). */
  #streamBytes: StreamBytes | undefined

  constructor (init: UpgraderInit) {
    if (init.connectionEncrypters.length === 0) throw new InvalidParametersError('at least one connection encrypter is required')
    if (init.streamMuxers.length === 0) throw new InvalidParametersError('at least one stream muxer is required')
    this.#init = init
    this.#encrypters = new Map(init.connectionEncrypters.map(e => [e.protocol, e]))
    this.#muxers = new Map(init.streamMuxers.map(m => [m.protocol, m]))
    this.#metrics = init.metrics === undefined ? undefined : upgradeMetrics(init.metrics)
  }

  async upgradeInbound (raw: RawConnection, options: UpgradeOptions = {}): Promise<SwitchConnection> {
    return await this.#upgrade(raw, 'inbound', options, this.#init.inboundUpgradeTimeout ?? DEFAULT_UPGRADE_TIMEOUT)
  }

  async upgradeOutbound (raw: RawConnection, options: UpgradeOptions = {}): Promise<SwitchConnection> {
    return await this.#upgrade(raw, 'outbound', options, this.#init.outboundUpgradeTimeout ?? DEFAULT_UPGRADE_TIMEOUT)
  }

  async #upgrade (raw: RawConnection, direction: Direction, options: UpgradeOptions, timeoutMs: number): Promise<SwitchConnection> {
    if (raw.native !== undefined && this.#init.connectionProtector === undefined && !this.#gaterWatches(direction)) return this.#upgradeNative(raw, direction, options)
    const openedAt = Date.now()
    const deadline = new Deadline(timeoutMs, options.signal, () => `${direction} upgrade of ${raw.remoteAddr.toString()} timed out after ${timeoutMs} ms`)
    const signal = deadline.signal
    // Aborting the raw connection fails whatever read or write a step is blocked in.
    const onAbort = (): void => { raw.abort(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    const gater = this.#init.connectionGater
    try {
      if (signal.aborted) throw signal.reason
      if (direction === 'inbound') {
        if (await gater?.denyInboundConnection?.(raw) === true) throw new ConnectionDeniedError('the connection gater denied the inbound connection')
      } else if (await gater?.denyOutboundConnection?.(options.remotePeer, raw) === true) {
        throw new ConnectionDeniedError('the connection gater denied the outbound connection')
      }

      const protector = this.#init.connectionProtector
      const native = raw.native
      // A QUIC connection arrives secured and multiplexed: only the gater checks remain.
      if (native !== undefined && protector !== undefined) throw new UnsupportedProtocolError(`a private network cannot protect a ${native.encryption} connection of ${raw.remoteAddr.toString()}`)
      const securingAt = this.#metrics === undefined ? 0 : performance.now()
      const secured = native !== undefined
        ? { conn: raw, remotePeer: native.remotePeer, protocol: native.encryption }
        : await this.#secure(protector === undefined ? raw : await protector.protect(raw, { signal }), direction, options.remotePeer, signal)
      const securedAt = this.#metrics === undefined ? 0 : performance.now()
      const remotePeer = secured.remotePeer
      if (options.remotePeer !== undefined && !remotePeer.equals(options.remotePeer)) {
        throw new UnexpectedPeerError(`dialed ${options.remotePeer.toString()} but authenticated ${remotePeer.toString()}`)
      }
      const denied = direction === 'inbound'
        ? await gater?.denyInboundEncryptedConnection?.(remotePeer, raw)
        : await gater?.denyOutboundEncryptedConnection?.(remotePeer, raw)
      if (denied === true) throw new ConnectionDeniedError(`the connection gater denied the ${direction} encrypted connection from ${remotePeer.toString()}`)

      const muxerFactory = native !== undefined ? native.streamMuxer : await this.#negotiateMuxer(secured as SecuredConnection, direction, signal)
      if (signal.aborted) throw signal.reason
      if (this.#metrics !== undefined && native === undefined) {
        const transport = transportName(raw.remoteAddr)
        this.#metrics.phase.observe((securedAt - securingAt) / 1000, { phase: 'security', transport, direction })
        this.#metrics.phase.observe((performance.now() - securedAt) / 1000, { phase: 'muxer', transport, direction })
      }
      const connection = this.#connection(raw, remotePeer, direction, secured.protocol, secured.conn, muxerFactory, options, openedAt)
      const deniedUpgraded = direction === 'inbound'
        ? await gater?.denyInboundUpgradedConnection?.(remotePeer, connection)
        : await gater?.denyOutboundUpgradedConnection?.(remotePeer, connection)
      if (deniedUpgraded === true) {
        const err = new ConnectionDeniedError(`the connection gater denied the ${direction} upgraded connection from ${remotePeer.toString()}`)
        connection.abort(err)
        throw err
      }
      if (signal.aborted) {
        connection.abort(signal.reason)
        throw signal.reason
      }
      log('%s connection to %s upgraded (%s, %s)', direction, remotePeer, secured.protocol, muxerFactory.protocol)
      return connection
    } catch (err) {
      // A step failing because we aborted it reports why we aborted, not the symptom.
      const reason = signal.aborted ? signal.reason as Error : err as Error
      log('%s upgrade of %s failed: %s', direction, raw.remoteAddr, reason)
      raw.abort(reason)
      throw reason
    } finally {
      signal.removeEventListener('abort', onAbort)
      deadline.clear()
    }
  }

  /** True when the gater has a say on an upgraded connection of this direction (it may answer asynchronously). */
  #gaterWatches (direction: Direction): boolean {
    const gater = this.#init.connectionGater
    if (gater === undefined) return false
    return direction === 'inbound'
      ? gater.denyInboundConnection !== undefined || gater.denyInboundEncryptedConnection !== undefined || gater.denyInboundUpgradedConnection !== undefined
      : gater.denyOutboundConnection !== undefined || gater.denyOutboundEncryptedConnection !== undefined || gater.denyOutboundUpgradedConnection !== undefined
  }

  /**
   * A QUIC connection with no gater check to run: it arrived secure and multiplexed, so nothing
   * is left to wait for and the Connection is built at once, without a deadline (its timer and
   * signal) or a promise hop per step. On the server this runs when the client's Finished
   * arrives, right in front of the first stream it serves.
   */
  #upgradeNative (raw: RawConnection, direction: Direction, options: UpgradeOptions): SwitchConnection {
    const native = raw.native!
    try {
      if (options.signal?.aborted === true) throw options.signal.reason
      const remotePeer = native.remotePeer
      if (options.remotePeer !== undefined && !remotePeer.equals(options.remotePeer)) {
        throw new UnexpectedPeerError(`dialed ${options.remotePeer.toString()} but authenticated ${remotePeer.toString()}`)
      }
      const connection = this.#connection(raw, remotePeer, direction, native.encryption, raw, native.streamMuxer, options, Date.now())
      log('%s connection to %s upgraded (%s, %s)', direction, remotePeer, native.encryption, native.streamMuxer.protocol)
      return connection
    } catch (err) {
      log('%s upgrade of %s failed: %s', direction, raw.remoteAddr, err)
      raw.abort(err as Error)
      throw err
    }
  }

  #connection (raw: RawConnection, remotePeer: PeerId, direction: Direction, encryption: string, secured: ByteStream, muxerFactory: StreamMuxerFactory, options: UpgradeOptions, openedAt: number): SwitchConnection {
    return new SwitchConnection({
      remotePeer,
      remoteAddr: raw.remoteAddr,
      direction,
      encryption,
      rawConnection: raw,
      securedConnection: secured,
      muxerFactory,
      registrar: this.#init.registrar,
      limits: options.limits ?? raw.limits,
      openedAt,
      negotiationTimeout: this.#init.streamNegotiationTimeout,
      closeTimeout: this.#init.connectionCloseTimeout,
      resourceManager: this.#init.resourceManager,
      failedNegotiations: this.#init.failedNegotiations,
      streamBytes: this.#init.metrics === undefined ? undefined : (this.#streamBytes ??= streamBytesOf(this.#init.metrics)),
      onClose: this.#init.onConnectionClose
    })
  }

  async #secure (raw: ByteStream, direction: Direction, remotePeer: PeerId | undefined, signal: AbortSignal): Promise<SecuredConnection & { protocol: string }> {
    const protocols = [...this.#encrypters.keys()]
    let protocol: string
    if (direction === 'inbound') {
      // (a proposal already queued whole, sent with the handshake's first message, is answered at once)
      protocol = handleQueued(raw, protocols) ?? await handle(raw, protocols, { signal })
    } else if (protocols.length === 1) {
      // With nothing to choose from, propose optimistically (as go-libp2p does): the proposal
      // rides with the handshake's first message and the listener's answer with its reply,
      // which saves a round trip. A refusal fails the handshake's first read with
      // UnsupportedProtocolError; a silent peer is cut off by the upgrade deadline.
      protocol = protocols[0]
      lazySelect(raw, protocol)
    } else {
      protocol = await select(raw, protocols, { signal })
    }
    const encrypter = this.#encrypters.get(protocol)
    if (encrypter === undefined) throw new UnsupportedProtocolError(`no encrypter for ${protocol}`)
    const secureOptions = { signal, remotePeer, streamMuxers: [...this.#muxers.keys()] }
    const secured = direction === 'outbound'
      ? await encrypter.secureOutbound(raw, secureOptions)
      : await encrypter.secureInbound(raw, secureOptions)
    return { ...secured, protocol }
  }

  async #negotiateMuxer (secured: SecuredConnection, direction: Direction, signal: AbortSignal): Promise<StreamMuxerFactory> {
    if (secured.streamMuxer !== undefined) {
      const early = this.#muxers.get(secured.streamMuxer)
      if (early === undefined) throw new UnsupportedProtocolError(`the handshake agreed on ${secured.streamMuxer}, which is not configured`)
      return early
    }
    const protocols = [...this.#muxers.keys()]
    const protocol = direction === 'outbound'
      ? await select(secured.conn, protocols, { signal })
      : await handle(secured.conn, protocols, { signal })
    const factory = this.#muxers.get(protocol)
    if (factory === undefined) throw new UnsupportedProtocolError(`no muxer for ${protocol}`)
    return factory
  }
}

interface UpgradeMetrics { phase: Histogram }

function upgradeMetrics (metrics: Metrics): UpgradeMetrics {
  return {
    phase: metrics.histogram({ name: 'libp2p_upgrade_phase_seconds', help: 'Time of each connection upgrade phase (security handshake, muxer negotiation)', labelNames: ['phase', 'transport', 'direction'] })
  }
}
