/**
 * The WebTransport dialer in Node, over our QUIC (go interop and tests; browsers use their own
 * WebTransport, see runtime.browser.ts): a QUIC connection with ALPN `h3` whose certificate must
 * hash to one of the address's certhashes, HTTP/3 SETTINGS, the extended CONNECT, then Noise
 * (initiator) on the first WebTransport stream. The server's Noise extension must list the
 * hash of the certificate it actually used (webtransport/README.md), which we know here.
 */
import type { PrivateKey } from '../../interface/keys.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import { raceSignal } from '../../util/abort.ts'
import type { ConnectionEncrypter } from '../../interface/security.ts'
import { endHandshakeStream, secureWithCerthashes } from './noise.ts'
import type { QuicEndpoint } from '../quic/endpoint.ts'
import type { QuicConnection } from '../quic/connection.ts'
import { encodeVarints, WEBTRANSPORT_BIDI_SIGNAL } from './http3-frames.ts'
import { EarlyStreams, Http3Connection, headersFrame, readResponseHeaders } from './http3-connection.node.ts'
import { connectRequestFields, responseStatus } from './session-headers.ts'
import { WebTransportSessionConnection } from './session-connection.node.ts'
import { authorityOf, toWebTransportMultiaddr } from './address.ts'
import type { WebTransportTarget } from './address.ts'
import { bytesEqual } from '../certhash.ts'
import { readCertificate, sha256 } from './certificates.node.ts'
import { sha256Multihash } from './listener.node.ts'
import { CertificateHashMismatchError, Http3ErrorCode, WebTransportSessionError } from './errors.ts'

export interface DialContext {
  endpoint: QuicEndpoint
  privateKey: PrivateKey
  noise: ConnectionEncrypter
  /** Registers the HTTP/3 state of a new QUIC connection (the endpoint routes its streams there). */
  register(connection: QuicConnection, h3: Http3Connection): void
  now(): number
}

export async function dialWebTransport (context: DialContext, target: WebTransportTarget, expectedPeer: PeerId | undefined, signal: AbortSignal): Promise<WebTransportSessionConnection> {
  let usedHash: Uint8Array | undefined
  const verifyServer = async (certificates: Uint8Array[]): Promise<Uint8Array> => {
    if (certificates.length === 0) throw new CertificateHashMismatchError('the server sent no certificate')
    const hash = sha256(certificates[0])
    if (!target.certhashes.some(h => bytesEqual(h, hash))) throw new CertificateHashMismatchError('the server certificate matches none of the address\'s certhashes')
    const { spki, notBefore, notAfter } = readCertificate(certificates[0])
    const now = context.now()
    if (now < notBefore.getTime() || now > notAfter.getTime()) throw new CertificateHashMismatchError('the server certificate is not valid now')
    usedHash = hash
    return spki
  }
  let session: WebTransportSessionConnection | undefined
  const early = new EarlyStreams()
  const connection = context.endpoint.dial({ address: target.host, port: target.port, family: target.family }, undefined, undefined, { alpn: ['h3'], plainCertificates: { verifyServer } })
  const h3 = new Http3Connection(connection, {
    onWebTransportStream: (sessionId, stream) => {
      if (session !== undefined && sessionId === session.sessionId) session.incomingStream(stream)
      else early.hold(sessionId, stream)
    }
  })
  context.register(connection, h3)
  try {
    await raceSignal(connection.established, signal)
    h3.start()
    const settings = await h3.settings(signal)
    if (settings.get(0x08) !== 1) throw new WebTransportSessionError('the server does not allow extended CONNECT')
    const connectStream = await connection.streams.openStream(signal)
    connectStream.send(headersFrame(connectRequestFields(authorityOf(target))))
    // (sent at the end of this batch of I/O events)
    // Noise starts right after the CONNECT, without waiting for its answer (webtransport/README.md
    // says the client SHOULD: it saves a round trip; servers hold the stream until the session).
    const noiseStream = await connection.streams.openStream(signal)
    noiseStream.send(encodeVarints(WEBTRANSPORT_BIDI_SIGNAL, connectStream.quicId))
    const handshake = secureWithCerthashes(context.noise, noiseStream, true, { remotePeer: expectedPeer, signal })
    handshake.catch(() => {})
    const status = responseStatus(await readResponseHeaders(connectStream, signal))
    if (status !== '200') {
      noiseStream.abort(new WebTransportSessionError('the CONNECT was refused'))
      throw new WebTransportSessionError(`the server answered the CONNECT with ${status ?? 'no status'}`)
    }
    const secured = await handshake
    const listed = secured.remoteExtensions?.webtransportCerthashes ?? []
    const used = sha256Multihash(usedHash!)
    if (!listed.some(h => bytesEqual(h, used))) throw new CertificateHashMismatchError('the server\'s Noise handshake does not list the certificate it used')
    void endHandshakeStream(secured.conn)
    const local = context.endpoint.address()
    session = new WebTransportSessionConnection(connection, connectStream, secured.remotePeer,
      toWebTransportMultiaddr(target.host, target.port, target.family, target.certhashes),
      toWebTransportMultiaddr(local.address, local.port, context.endpoint.family), 'outbound')
    for (const s of early.take(session.sessionId)) session.incomingStream(s)
    return session
  } catch (err) {
    early.abortAll(err as Error)
    connection.close(Http3ErrorCode.CONNECT_ERROR, 'dial failed')
    throw err
  }
}
