/**
 * The server side of TLS 1.3 in QUIC (RFC 8446 2, RFC 9001 4): reads the ClientHello, asks once
 * for another key share group with a HelloRetryRequest when the client sent none we can use,
 * answers with ServerHello and, under handshake keys, EncryptedExtensions (ALPN, transport
 * parameters), a CertificateRequest (libp2p authenticates both ends), our certificate,
 * CertificateVerify and Finished; then requires the client's certificate flight and Finished
 * before it hands out 1-RTT keys.
 */
import { randomBytes } from 'node:crypto'
import { QuicTlsError, TlsAlert } from './errors.ts'
import { ACCEPTED_SIGNATURE_SCHEMES, certificateVerifyContent, signCertificateVerify } from './certificate-verify.node.ts'
import { HandshakeBase, aeadOfSuite, concat } from './handshake-base.node.ts'
import type { RemoteCertificate } from './handshake-base.node.ts'
import { generateKeyShare } from './key-exchange.node.ts'
import { deriveApplicationSecrets, deriveHandshakeSecrets, finishedVerifyData } from './key-schedule.node.ts'
import type { ApplicationSecrets, HandshakeSecrets } from './key-schedule.node.ts'
import {
  CipherSuite, ExtensionType, HELLO_RETRY_REQUEST_RANDOM, HandshakeType, SignatureScheme, TLS_1_3, decodeAlpn,
  decodeClientHello, decodeClientKeyShares, decodeUint16ListExtension, encodeAlpn, encodeCertificate,
  encodeCertificateRequest, encodeCertificateVerify, encodeEncryptedExtensions, encodeFinished, encodeKeyShareEntry,
  encodeServerHello, encodeUint16ListExtension
} from './tls-messages.ts'
import type { ClientHello, HandshakeMessage } from './tls-messages.ts'
import { TlsWriter } from './tls-reader.ts'
import type { EncryptionLevel } from './types.ts'

const SUPPORTED_SUITES: number[] = [CipherSuite.aes128GcmSha256, CipherSuite.chacha20Poly1305Sha256]
/** The server's supported_versions body: the selected version, TLS 1.3. */
const SELECTED_VERSION = Uint8Array.of(TLS_1_3 >>> 8, TLS_1_3 & 0xff)

type Expecting = 'ClientHello' | 'Certificate' | 'CertificateVerify' | 'Finished' | 'nothing'

export class ServerHandshake extends HandshakeBase {
  private expecting: Expecting = 'ClientHello'
  private helloRetryGroup?: number
  private helloRetrySuite?: number
  private suite = 0
  private secrets?: HandshakeSecrets
  private application?: ApplicationSecrets
  private alpn = ''
  private remoteTransportParameters?: Uint8Array
  private remote?: RemoteCertificate

  /** The server speaks second: nothing to send until the ClientHello arrives. */
  start (): void {}

  protected async handle (level: EncryptionLevel, message: HandshakeMessage): Promise<void> {
    if (this.state === 'complete') throw new QuicTlsError(`unexpected handshake message ${message.type} after the handshake`, TlsAlert.unexpectedMessage)
    switch (this.expecting) {
      case 'ClientHello':
        this.expectLevel(level, 'initial', message)
        this.expectType(message, HandshakeType.clientHello)
        await this.onClientHello(message)
        return
      case 'Certificate':
        this.expectLevel(level, 'handshake', message)
        this.expectType(message, HandshakeType.certificate)
        await this.onCertificate(message)
        return
      case 'CertificateVerify':
        this.expectLevel(level, 'handshake', message)
        this.expectType(message, HandshakeType.certificateVerify)
        this.onCertificateVerify(message)
        return
      case 'Finished':
        this.expectLevel(level, 'handshake', message)
        this.expectType(message, HandshakeType.finished)
        this.onFinished(message)
        return
      default:
        throw new QuicTlsError(`unexpected handshake message ${message.type}`, TlsAlert.unexpectedMessage)
    }
  }

  private expectType (message: HandshakeMessage, type: number): void {
    if (message.type !== type) throw new QuicTlsError(`expected ${this.expecting}, got handshake message ${message.type}`, TlsAlert.unexpectedMessage)
  }

  private async onClientHello (message: HandshakeMessage): Promise<void> {
    const hello = decodeClientHello(message.body)
    const { extensions } = hello
    const versions = extensions.get(ExtensionType.supportedVersions)
    if (versions === undefined || !decodeUint16ListExtension(versions, 1, 'supported_versions').includes(TLS_1_3)) {
      throw new QuicTlsError('the client does not offer TLS 1.3', TlsAlert.protocolVersion)
    }
    // RFC 9001 8.4: QUIC has no middlebox compatibility mode, so no session id either.
    if (hello.legacySessionId.length !== 0 && this.tuning.plainTls !== true) throw new QuicTlsError('ClientHello carries a legacy session id', TlsAlert.illegalParameter)
    const suite = hello.cipherSuites.find(s => SUPPORTED_SUITES.includes(s))
    if (suite === undefined) throw new QuicTlsError('no cipher suite in common', TlsAlert.handshakeFailure)
    const alpn = this.chooseAlpn(hello)
    const parameters = extensions.get(ExtensionType.quicTransportParameters) ?? (this.tuning.plainTls === true ? new Uint8Array(0) : undefined)
    if (parameters === undefined) throw new QuicTlsError('the client sent no quic_transport_parameters', TlsAlert.missingExtension)
    const schemes = extensions.get(ExtensionType.signatureAlgorithms)
    if (schemes === undefined) throw new QuicTlsError('ClientHello without signature_algorithms', TlsAlert.missingExtension)
    if (!decodeUint16ListExtension(schemes, 2, 'signature_algorithms').includes(SignatureScheme.ecdsaSecp256r1Sha256)) {
      throw new QuicTlsError('the client does not accept ECDSA P-256 signatures, the only kind our certificate makes', TlsAlert.handshakeFailure)
    }
    const groupsBody = extensions.get(ExtensionType.supportedGroups)
    const keySharesBody = extensions.get(ExtensionType.keyShare)
    if (groupsBody === undefined || keySharesBody === undefined) throw new QuicTlsError('ClientHello without supported_groups or key_share', TlsAlert.missingExtension)
    const groups = decodeUint16ListExtension(groupsBody, 2, 'supported_groups')
    const shares = decodeClientKeyShares(keySharesBody)
    for (const share of shares) {
      if (!groups.includes(share.group)) throw new QuicTlsError(`key share for group 0x${share.group.toString(16)} not in supported_groups`, TlsAlert.illegalParameter)
    }

    if (this.helloRetryGroup !== undefined) {
      // RFC 8446 4.1.4: the second ClientHello must answer the retry, with the same suite.
      if (suite !== this.helloRetrySuite) throw new QuicTlsError('the second ClientHello changed the cipher suite choice', TlsAlert.illegalParameter)
      if (shares.length !== 1 || shares[0].group !== this.helloRetryGroup) throw new QuicTlsError('the second ClientHello does not carry the one key share asked for', TlsAlert.illegalParameter)
    }
    const share = this.groups.map(group => shares.find(s => s.group === group)).find(s => s !== undefined)
    if (share === undefined) {
      const group = this.groups.find(g => groups.includes(g))
      if (group === undefined || this.helloRetryGroup !== undefined) throw new QuicTlsError('no key share group in common', TlsAlert.handshakeFailure)
      this.sendHelloRetryRequest(message, hello.legacySessionId, suite, group)
      return
    }

    this.suite = suite
    this.alpn = alpn
    this.remoteTransportParameters = parameters
    this.addToTranscript(message.raw)
    const ours = generateKeyShare(share.group)
    const sharedSecret = ours.deriveSharedSecret(share.keyExchange)
    this.send('initial', encodeServerHello(new Uint8Array(randomBytes(32)), hello.legacySessionId, suite, [
      [ExtensionType.supportedVersions, SELECTED_VERSION],
      [ExtensionType.keyShare, encodeKeyShareEntry({ group: ours.group, keyExchange: ours.publicKey })]
    ]))
    const secrets = deriveHandshakeSecrets(sharedSecret, this.transcriptHash())
    this.secrets = secrets
    this.installKeys('handshake', aeadOfSuite(suite), secrets.clientHandshakeTrafficSecret, secrets.serverHandshakeTrafficSecret)

    const { der, certificateKey } = await this.certificate
    if (!this.live) return
    const encryptedExtensions = encodeEncryptedExtensions([
      [ExtensionType.alpn, encodeAlpn([alpn])],
      ...this.tuning.plainTls === true ? [] : [[ExtensionType.quicTransportParameters, this.options.localTransportParameters] as [number, Uint8Array]]
    ])
    // Plain (HTTP/3) certificates: browsers have no client certificate to give.
    const requestCertificate = this.options.plainCertificates === undefined
    const certificateRequest = requestCertificate
      ? encodeCertificateRequest(new Uint8Array(0), [
        [ExtensionType.signatureAlgorithms, encodeUint16ListExtension(ACCEPTED_SIGNATURE_SCHEMES, 2)]
      ])
      : new Uint8Array(0)
    const certificateMessage = encodeCertificate(new Uint8Array(0), [der])
    this.addToTranscript(encryptedExtensions)
    if (requestCertificate) this.addToTranscript(certificateRequest)
    this.addToTranscript(certificateMessage)
    const { scheme, signature } = await signCertificateVerify(certificateKey, certificateVerifyContent('server', this.transcriptHash()))
    if (!this.live) return
    const certificateVerify = encodeCertificateVerify(scheme, signature)
    this.addToTranscript(certificateVerify)
    const finished = encodeFinished(finishedVerifyData(secrets.serverHandshakeTrafficSecret, this.transcriptHash()))
    this.addToTranscript(finished)
    this.application = deriveApplicationSecrets(secrets.handshakeSecret, this.transcriptHash())
    this.emit('handshake', concat([encryptedExtensions, certificateRequest, certificateMessage, certificateVerify, finished]))
    this.expecting = requestCertificate ? 'Certificate' : 'Finished'
  }

  /** Our first protocol the client also offers (ours are in preference order). */
  private chooseAlpn (hello: ClientHello): string {
    const body = hello.extensions.get(ExtensionType.alpn)
    if (body === undefined) throw new QuicTlsError('the client offers no application protocol (QUIC requires ALPN)', TlsAlert.noApplicationProtocol)
    const offered = decodeAlpn(body)
    const chosen = this.options.alpn.find(p => offered.includes(p))
    if (chosen === undefined) throw new QuicTlsError(`no application protocol in common: the client offers ${JSON.stringify(offered)}`, TlsAlert.noApplicationProtocol)
    return chosen
  }

  private sendHelloRetryRequest (firstHello: HandshakeMessage, firstHelloSessionId: Uint8Array, suite: number, group: number): void {
    this.helloRetryGroup = group
    this.helloRetrySuite = suite
    this.addToTranscript(firstHello.raw)
    this.restartTranscriptAfterHelloRetry()
    this.send('initial', encodeServerHello(HELLO_RETRY_REQUEST_RANDOM, firstHelloSessionId, suite, [
      [ExtensionType.supportedVersions, SELECTED_VERSION],
      [ExtensionType.keyShare, new TlsWriter().uint16(group).finish()]
    ]))
    this.expecting = 'ClientHello'
  }

  private async onCertificate (message: HandshakeMessage): Promise<void> {
    this.remote = await this.readRemoteCertificate(message, 'client', TlsAlert.certificateRequired)
    this.expecting = 'CertificateVerify'
  }

  private onCertificateVerify (message: HandshakeMessage): void {
    this.readRemoteCertificateVerify(message, 'client', this.remote!)
    this.expecting = 'Finished'
  }

  private onFinished (message: HandshakeMessage): void {
    this.checkPeerFinished(message, this.secrets!.clientHandshakeTrafficSecret, 'client')
    this.expecting = 'nothing'
    const application = this.application!
    this.installKeys('application', aeadOfSuite(this.suite), application.clientApplicationTrafficSecret, application.serverApplicationTrafficSecret)
    this.complete(this.remote, this.remoteTransportParameters!, this.alpn)
  }
}
