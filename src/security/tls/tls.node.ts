/**
 * The Node runtime of libp2p TLS: `node:tls` runs TLS 1.3 over a ByteStreamDuplex of the raw
 * connection, with our certificate (peer/tls-certificate.ts) and our own verification of the remote's.
 * OpenSSL checks nothing about the peer (`rejectUnauthorized: false`) except what TLS itself
 * proves: the peer holds the key of the certificate it sent. We then require exactly one
 * certificate, verify it by the libp2p rules and compare the peer id with the dialed one.
 *
 * Muxers ride in ALPN (`[...muxers, "libp2p"]`, connections/inlined-muxer-negotiation.md);
 * the server picks its most preferred muxer the client offers, else "libp2p" (the upgrader
 * then negotiates a muxer with multistream-select). No SNI is sent.
 *
 * Inbound, TLS 1.3 lets the client send application data right after its Finished, before we
 * have looked at its certificate: the TLS socket stays paused until the check passes, and on
 * failure it is destroyed with whatever it buffered, unread.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { TLSSocket, connect, createSecureContext, type SecureContext } from 'node:tls'
import type { PrivateKey } from '../../interface/keys.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import type { SecureOptions, SecuredConnection } from '../../interface/security.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { AbortError, HandshakeError, UnexpectedPeerError } from '../../util/errors.ts'
import { ByteStreamDuplex } from './byte-stream-duplex.node.ts'
import { generateCertificate, verifyCertificate } from '../../peer/tls-certificate.ts'
import { InvalidCertificateError } from './errors.ts'
import { TlsConnection } from './tls-connection.node.ts'
import { TLS_ALPN_LIBP2P, type TlsInit } from './types.ts'

export interface TlsSecuredConnection extends SecuredConnection {
  conn: TlsConnection
}

export class TlsRuntime {
  readonly #hostKey: PrivateKey
  readonly #init: TlsInit
  #context: Promise<SecureContext> | undefined

  constructor (hostKey: PrivateKey, init: TlsInit) {
    this.#hostKey = hostKey
    this.#init = init
  }

  /** One certificate per node (per encrypter), made on first use. */
  async #secureContext (): Promise<SecureContext> {
    if (this.#context === undefined) {
      this.#context = generateCertificate(this.#hostKey).then(({ der, certificateKey }) => createSecureContext({
        key: createPrivateKey({ key: Buffer.from(certificateKey.raw), format: 'der', type: 'sec1' }).export({ format: 'pem', type: 'pkcs8' }),
        cert: new X509Certificate(der).toString(),
        minVersion: 'TLSv1.3',
        maxVersion: 'TLSv1.3'
      }))
      this.#context.catch(() => { this.#context = undefined })
    }
    return await this.#context
  }

  async secure (raw: ByteStream, isServer: boolean, options: SecureOptions = {}): Promise<TlsSecuredConnection> {
    const signal = options.signal
    if (signal?.aborted === true) throw signal.reason ?? new AbortError()
    const secureContext = await this.#secureContext()
    try {
      // The certificate may have been made while we waited; an abort meanwhile still counts.
      signal?.throwIfAborted()
    } catch (err) {
      raw.abort(err as Error)
      throw err
    }
    const muxers = options.streamMuxers ?? []
    const duplex = new ByteStreamDuplex(raw)
    const socket = isServer
      ? new TLSSocket(duplex, {
        isServer: true,
        secureContext,
        requestCert: true,
        rejectUnauthorized: false,
        // The server picks: its most preferred muxer that the client offers, else "libp2p".
        ALPNCallback: ({ protocols }) => muxers.find(m => protocols.includes(m)) ?? (protocols.includes(TLS_ALPN_LIBP2P) ? TLS_ALPN_LIBP2P : undefined)
      })
      : connect({
        socket: duplex,
        secureContext,
        rejectUnauthorized: false,
        // No SNI (tls.md "Future Extensibility"): an empty servername sends none.
        servername: '',
        checkServerIdentity: () => undefined,
        ALPNProtocols: [...muxers, TLS_ALPN_LIBP2P]
      })
    try {
      await handshakeDone(socket, isServer, signal)
      // Hold back application data until the certificate is checked (see the module comment).
      socket.pause()
      const remote = await this.#verifyRemote(socket)
      if (options.remotePeer !== undefined && !remote.peerId.equals(options.remotePeer)) {
        throw new UnexpectedPeerError(`dialed ${options.remotePeer.toString()} but the TLS certificate authenticates ${remote.peerId.toString()}`)
      }
      const alpn = socket.alpnProtocol
      const secured: TlsSecuredConnection = {
        conn: new TlsConnection(socket, raw, { highWaterMark: this.#init.highWaterMark }),
        remotePeer: remote.peerId,
        remotePublicKey: remote.publicKey
      }
      if (typeof alpn === 'string' && alpn !== TLS_ALPN_LIBP2P) {
        if (!muxers.includes(alpn)) throw new HandshakeError(`the TLS peer chose muxer ${alpn}, which we did not offer`)
        secured.streamMuxer = alpn
      }
      return secured
    } catch (err) {
      socket.destroy()
      raw.abort(err as Error)
      throw err
    }
  }

  async #verifyRemote (socket: TLSSocket): Promise<Awaited<ReturnType<typeof verifyCertificate>>> {
    const certificate = socket.getPeerCertificate(true)
    if (certificate === null || certificate.raw === undefined) throw new InvalidCertificateError('the peer sent no certificate')
    // Node links the chain the peer sent through issuerCertificate; a self-signed certificate
    // points at itself. Anything else means a second certificate was sent.
    const issuer = certificate.issuerCertificate
    if (issuer !== undefined && issuer !== null && issuer.raw !== undefined && !issuer.raw.equals(certificate.raw)) {
      throw new InvalidCertificateError('the peer sent more than one certificate')
    }
    const der = certificate.raw
    return await verifyCertificate(new Uint8Array(der.buffer, der.byteOffset, der.byteLength))
  }
}

/** Resolves when the TLS handshake completed; rejects on error, close or abort. */
async function handshakeDone (socket: TLSSocket, isServer: boolean, signal: AbortSignal | undefined): Promise<void> {
  const doneEvent = isServer ? 'secure' : 'secureConnect'
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      socket.off(doneEvent, onDone)
      socket.off('error', onError)
      socket.off('close', onClose)
      signal?.removeEventListener('abort', onAbort)
    }
    const onDone = (): void => { cleanup(); resolve() }
    const onError = (err: Error): void => { cleanup(); reject(new HandshakeError(`TLS handshake failed: ${err.message}`, { cause: err })) }
    const onClose = (): void => { cleanup(); reject(new HandshakeError('the connection closed during the TLS handshake')) }
    const onAbort = (): void => { cleanup(); reject(signal?.reason ?? new AbortError()) }
    socket.once(doneEvent, onDone)
    socket.once('error', onError)
    socket.once('close', onClose)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export type { PeerId }
