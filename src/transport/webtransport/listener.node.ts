/**
 * The WebTransport listener in Node, over our QUIC: one UDP socket with ALPN `h3`, our
 * rotating self-signed certificates (certificates.node.ts), HTTP/3 with the settings
 * WebTransport needs, the extended CONNECT on `/.well-known/libp2p-webtransport?type=noise`,
 * then Noise (responder) on the session's first stream with our certificate hashes in the
 * `webtransport_certhashes` extension. The authenticated session goes to the upgrader as a
 * native connection whose streams are WebTransport streams.
 *
 * One session per QUIC connection (libp2p needs no more). A connection that has no session
 * within SESSION_TIMEOUT is closed; a second CONNECT is answered 429.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '../../interface/keys.ts'
import type { Listener, ListenerInit } from '../../interface/transport.ts'
import { InvalidMultiaddrError } from '../../util/errors.ts'
import { isWildcardIp } from '../../util/multiaddr.ts'
import { withDeadline } from '../../util/deadline.ts'
import { unrefLongTimeout, unrefTimeout } from '../../util/timers.ts'
import type { LongTimeout } from '../../util/timers.ts'
import { logger } from '../../util/logger.ts'
import type { ConnectionEncrypter } from '../../interface/security.ts'
import { endHandshakeStream, secureWithCerthashes } from './noise.ts'
import { interfaceAddrs } from '../interface-addrs.node.ts'
import { QuicEndpoint } from '../quic/endpoint.ts'
import type { HandshakeSettings, RemoteAddress } from '../quic/endpoint.ts'
import type { QuicConnection } from '../quic/connection.ts'
import type { QuicStream } from '../quic/stream.ts'
import { QUIC_TLS_CRYPTO } from '../quic/index.ts'
import type { CertificateSet } from './certificates.node.ts'
import { EarlyStreams, Http3Connection, headersFrame } from './http3-connection.node.ts'
import { checkConnectRequest, connectResponseFields } from './session-headers.ts'
import type { HeaderField } from './qpack.ts'
import { WebTransportSessionConnection } from './session-connection.node.ts'
import { parseWebTransportAddress, toWebTransportMultiaddr } from './address.ts'
import { SHA2_256 } from '../certhash.ts'
import { Http3ErrorCode } from './errors.ts'
import type { WebTransportNodeOptions } from './options.ts'
import { h3QuicConfig } from './options.ts'

const log = logger('webtransport:listener')

/** A QUIC connection must have an authenticated session within this long (ms). */
const SESSION_TIMEOUT = 15_000

/** The multihash (sha2-256) of a certificate digest, as Noise's extension carries it. */
export function sha256Multihash (digest: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + digest.length)
  out[0] = SHA2_256
  out[1] = digest.length
  out.set(digest, 2)
  return out
}

interface ServerSession {
  h3: Http3Connection
  early: EarlyStreams
  connectStream?: QuicStream
  noiseStarted: boolean
  connection?: WebTransportSessionConnection
  timer: ReturnType<typeof unrefTimeout>
}

export class WebTransportListener implements Listener {
  readonly #privateKey: PrivateKey
  readonly #options: WebTransportNodeOptions
  readonly #init: ListenerInit
  readonly #certificates: CertificateSet
  readonly #handshake: HandshakeSettings = { alpn: ['h3'], plainCertificates: {} }
  readonly #sessions = new Map<QuicConnection, ServerSession>()
  #endpoint: QuicEndpoint | undefined
  #bound: { address: string, port: number } | undefined
  #rotation: LongTimeout | undefined
  /** Called with each new endpoint so the transport can dial from it too. */
  readonly #onEndpoint: (endpoint: QuicEndpoint | undefined) => void

  readonly #noise: () => ConnectionEncrypter

  /** `certificates` is the transport's one set: every listener serves (and advertises) the same pair. */
  constructor (privateKey: PrivateKey, noise: () => ConnectionEncrypter, certificates: CertificateSet, options: WebTransportNodeOptions, init: ListenerInit, onEndpoint: (endpoint: QuicEndpoint | undefined) => void) {
    this.#privateKey = privateKey
    this.#noise = noise
    this.#options = options
    this.#init = init
    this.#onEndpoint = onEndpoint
    this.#certificates = certificates
  }

  get endpoint (): QuicEndpoint | undefined { return this.#endpoint }

  async listen (addr: Multiaddr): Promise<void> {
    const target = parseWebTransportAddress(addr, 'listen')
    if (target === undefined) throw new InvalidMultiaddrError(`cannot listen on ${addr.toString()} with webtransport`)
    this.#noise() // fails now, not on the first session, when the node has no Noise
    await this.#certificates.load()
    this.#handshake.certificate = this.#certificates.current
    this.#scheduleRotation()
    const endpoint = new QuicEndpoint(target.family, {
      privateKey: this.#privateKey,
      crypto: QUIC_TLS_CRYPTO,
      config: h3QuicConfig(this.#options.quic),
      handshake: this.#handshake,
      retryThreshold: this.#options.retryThreshold,
      onInboundConnection: connection => { this.#onConnection(connection) },
      onIncomingStream: (connection, stream) => { this.#sessionOf(connection)?.h3.onIncomingStream(stream) }
    })
    await endpoint.bind(target.host, target.port)
    endpoint.setAccepting(true)
    this.#endpoint = endpoint
    this.#bound = endpoint.address()
    this.#onEndpoint(endpoint)
  }

  #scheduleRotation (): void {
    this.#rotation?.cancel()
    this.#rotation = unrefLongTimeout(() => {
      void this.#certificates.rotate().then(() => {
        this.#handshake.certificate = this.#certificates.current
        this.#scheduleRotation()
      }, err => { log('certificate rotation failed: %s', err) })
    }, this.#certificates.nextRotation - (this.#options.now ?? Date.now)())
  }

  /** sha2-256 digests of the current and next certificates. */
  get certhashes (): Uint8Array[] { return this.#certificates.all.map(c => c.sha256) }

  getAddrs (): Multiaddr[] {
    const endpoint = this.#endpoint
    const bound = this.#bound
    if (endpoint === undefined || bound === undefined || !endpoint.accepting) return []
    const hashes = this.certhashes
    if (isWildcardIp(bound.address)) {
      return interfaceAddrs(endpoint.family, bound.port).map(a => toWebTransportMultiaddr(a.getComponents()[0].value ?? '', bound.port, endpoint.family, hashes))
    }
    return [toWebTransportMultiaddr(bound.address, bound.port, endpoint.family, hashes)]
  }

  async close (): Promise<void> {
    this.#rotation?.cancel()
    const endpoint = this.#endpoint
    if (endpoint === undefined) return
    this.#endpoint = undefined
    this.#onEndpoint(undefined)
    endpoint.setAccepting(false)
    for (const session of this.#sessions.values()) {
      // Sessions not yet handed to the upgrader are ours to end; the others the node closes.
      if (session.connection === undefined) session.h3.quic.close(Http3ErrorCode.NO_ERROR, 'listener closed')
    }
    endpoint.closeIfIdle()
    if (endpoint.closed || endpoint.connectionCount === 0) await endpoint.close()
  }

  #sessionOf (connection: QuicConnection): ServerSession | undefined {
    let session = this.#sessions.get(connection)
    if (session !== undefined || connection.isClosed) return session
    const h3 = new Http3Connection(connection, {
      onRequest: (stream, fields) => { this.#onRequest(connection, stream, fields) },
      onWebTransportStream: (sessionId, stream) => { this.#onWebTransportStream(connection, sessionId, stream) }
    })
    session = {
      h3,
      early: new EarlyStreams(),
      noiseStarted: false,
      timer: unrefTimeout(() => {
        if (session?.connection === undefined) connection.close(Http3ErrorCode.REQUEST_REJECTED, 'no WebTransport session in time')
      }, SESSION_TIMEOUT)
    }
    this.#sessions.set(connection, session)
    void connection.terminated.then(() => {
      clearTimeout(session!.timer)
      session!.early.abortAll(connection.error ?? new Error('connection closed'))
      this.#sessions.delete(connection)
    })
    return session
  }

  #onConnection (connection: QuicConnection): void {
    const session = this.#sessionOf(connection)
    if (session === undefined) return
    try {
      session.h3.start()
    } catch (err) {
      log('cannot open the control stream: %s', err)
      connection.close(Http3ErrorCode.INTERNAL_ERROR, 'no control stream')
    }
  }

  #onRequest (connection: QuicConnection, stream: QuicStream, fields: HeaderField[]): void {
    const session = this.#sessionOf(connection)
    if (session === undefined) return
    const verdict = checkConnectRequest(fields)
    if (!verdict.ok || session.connectStream !== undefined) {
      const status = verdict.ok ? '429' : verdict.status
      log('refusing a request with %s: %s', status, verdict.ok ? 'a session exists' : verdict.reason)
      stream.send(headersFrame(connectResponseFields(status)))
      void stream.closeWrite().catch(() => {})
      stream.closeRead()
      return
    }
    session.connectStream = stream
    stream.send(headersFrame(connectResponseFields('200')))
    // (sent at the end of this batch of I/O events)
    for (const early of session.early.take(stream.quicId)) this.#onWebTransportStream(connection, stream.quicId, early)
  }

  #onWebTransportStream (connection: QuicConnection, sessionId: number, stream: QuicStream): void {
    const session = this.#sessionOf(connection)
    if (session === undefined) { stream.abort(new Error('connection closed')); return }
    if (session.connectStream === undefined || session.connectStream.quicId !== sessionId) {
      session.early.hold(sessionId, stream)
      return
    }
    if (session.connection !== undefined) {
      session.connection.incomingStream(stream)
      return
    }
    if (session.noiseStarted) {
      // Noise is still running on the first stream: these wait for the connection.
      session.early.hold(sessionId, stream)
      return
    }
    session.noiseStarted = true
    void this.#secure(connection, session, stream).catch(err => {
      log('WebTransport session from %o failed: %s', connection.localCid, err)
      stream.abort(err as Error)
      connection.close(Http3ErrorCode.CONNECT_ERROR, 'libp2p handshake failed')
    })
  }

  async #secure (connection: QuicConnection, session: ServerSession, stream: QuicStream): Promise<void> {
    const extensions = { webtransportCerthashes: this.certhashes.map(sha256Multihash), streamMuxers: [] }
    const secured = await withDeadline(SESSION_TIMEOUT, undefined, 'the Noise handshake on the WebTransport session timed out',
      async signal => await secureWithCerthashes(this.#noise(), stream, false, { signal, extensions }))
    // The first stream only carried the handshake: end it without STOP_SENDING (noise.ts).
    void endHandshakeStream(secured.conn)
    const endpoint = this.#endpoint
    const remote: RemoteAddress | undefined = endpoint?.remoteOf(connection)
    if (endpoint === undefined || remote === undefined || connection.isClosed) throw new Error('the connection went away during the handshake')
    const local = endpoint.address()
    const conn = new WebTransportSessionConnection(connection, session.connectStream!, secured.remotePeer,
      toWebTransportMultiaddr(remote.address, remote.port, remote.family),
      toWebTransportMultiaddr(local.address, local.port, endpoint.family), 'inbound')
    session.connection = conn
    clearTimeout(session.timer)
    for (const early of session.early.take(conn.sessionId)) conn.incomingStream(early)
    this.#init.onConnection(conn)
  }
}
