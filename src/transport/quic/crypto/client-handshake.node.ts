/**
 * The client side of TLS 1.3 in QUIC (RFC 8446 2, RFC 9001 4): ClientHello (both cipher suites,
 * an X25519 key share, P-256 also supported, our signature schemes, ALPN, the QUIC transport
 * parameters, no SNI: libp2p authenticates by certificate extension, not by name), an optional
 * HelloRetryRequest, then the server's flight, then our certificate flight and Finished.
 */
import { randomBytes } from 'node:crypto'
import { QuicTlsError, TlsAlert } from './errors.ts'
import { ACCEPTED_SIGNATURE_SCHEMES, certificateVerifyContent, signCertificateVerify } from './certificate-verify.node.ts'
import { HandshakeBase, aeadOfSuite, concat } from './handshake-base.node.ts'
import type { RemoteCertificate } from './handshake-base.node.ts'
import { SUPPORTED_GROUPS, generateKeyShare } from './key-exchange.node.ts'
import type { KeyShare } from './key-exchange.node.ts'
import { deriveApplicationSecrets, deriveHandshakeSecrets, finishedVerifyData } from './key-schedule.node.ts'
import type { HandshakeSecrets } from './key-schedule.node.ts'
import {
  CipherSuite, ExtensionType, HandshakeType, SignatureScheme, TLS_1_3, decodeAlpn, decodeCertificateRequest,
  decodeEncryptedExtensions, decodeHelloRetryKeyShare, decodeSelectedVersion, decodeServerHello,
  decodeServerKeyShare, decodeUint16ListExtension, encodeAlpn, encodeCertificate, encodeCertificateVerify, encodeClientHello,
  encodeFinished, encodeKeyShareEntry, encodeUint16ListExtension
} from './tls-messages.ts'
import type { HandshakeMessage } from './tls-messages.ts'
import { TlsWriter } from './tls-reader.ts'
import type { EncryptionLevel } from './types.ts'

/** Both suites hash with SHA-256; AES first, as hardware makes it the fast one. */
const OFFERED_SUITES = [CipherSuite.aes128GcmSha256, CipherSuite.chacha20Poly1305Sha256]

type Expecting = 'ServerHello' | 'EncryptedExtensions' | 'CertificateRequest or Certificate' | 'Certificate' | 'CertificateVerify' | 'Finished' | 'nothing'

export class ClientHandshake extends HandshakeBase {
  private expecting: Expecting = 'ServerHello'
  private keyShare?: KeyShare
  private random = new Uint8Array(randomBytes(32))
  private helloRetried = false
  private suite = 0
  private secrets?: HandshakeSecrets
  private alpn = ''
  private remoteTransportParameters?: Uint8Array
  private certificateRequested = false
  private remote?: RemoteCertificate

  start (): void {
    if (!this.live || this.keyShare !== undefined) return
    try {
      this.sendClientHello(this.groups[0])
    } catch (err) {
      this.fail(err)
    }
  }

  private sendClientHello (group: number, cookie?: Uint8Array): void {
    this.keyShare = generateKeyShare(group)
    const extensions: Array<[number, Uint8Array]> = [
      [ExtensionType.supportedVersions, encodeUint16ListExtension([TLS_1_3], 1)],
      [ExtensionType.supportedGroups, encodeUint16ListExtension(SUPPORTED_GROUPS, 2)],
      [ExtensionType.signatureAlgorithms, encodeUint16ListExtension(ACCEPTED_SIGNATURE_SCHEMES, 2)],
      [ExtensionType.keyShare, new TlsWriter().vector(2, encodeKeyShareEntry({ group, keyExchange: this.keyShare.publicKey })).finish()],
      [ExtensionType.alpn, encodeAlpn(this.options.alpn)]
    ]
    if (this.tuning.plainTls !== true) extensions.push([ExtensionType.quicTransportParameters, this.options.localTransportParameters])
    if (cookie !== undefined) extensions.push([ExtensionType.cookie, cookie])
    this.send('initial', encodeClientHello(this.random, this.tuning.suites ?? OFFERED_SUITES, extensions))
  }

  protected async handle (level: EncryptionLevel, message: HandshakeMessage): Promise<void> {
    if (this.state === 'complete') {
      // RFC 8446 4.6.1: servers may send NewSessionTicket after the handshake; we keep no sessions.
      if (level === 'application' && message.type === HandshakeType.newSessionTicket) return
      throw new QuicTlsError(`unexpected handshake message ${message.type} after the handshake`, TlsAlert.unexpectedMessage)
    }
    switch (this.expecting) {
      case 'ServerHello':
        this.expectLevel(level, 'initial', message)
        this.expectType(message, HandshakeType.serverHello)
        this.onServerHello(message)
        return
      case 'EncryptedExtensions':
        this.expectLevel(level, 'handshake', message)
        this.expectType(message, HandshakeType.encryptedExtensions)
        this.onEncryptedExtensions(message)
        return
      case 'CertificateRequest or Certificate':
        this.expectLevel(level, 'handshake', message)
        if (message.type === HandshakeType.certificateRequest) {
          this.onCertificateRequest(message)
          return
        }
        this.expectType(message, HandshakeType.certificate)
        await this.onCertificate(message)
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
        await this.onFinished(message)
        return
      default:
        throw new QuicTlsError(`unexpected handshake message ${message.type}`, TlsAlert.unexpectedMessage)
    }
  }

  private expectType (message: HandshakeMessage, type: number): void {
    if (message.type !== type) throw new QuicTlsError(`expected ${this.expecting}, got handshake message ${message.type}`, TlsAlert.unexpectedMessage)
  }

  private onServerHello (message: HandshakeMessage): void {
    const hello = decodeServerHello(message.body)
    if (hello.legacySessionIdEcho.length !== 0) throw new QuicTlsError('the server echoed a session id we did not send', TlsAlert.illegalParameter)
    if (!(OFFERED_SUITES as number[]).includes(hello.cipherSuite)) throw new QuicTlsError(`the server chose cipher suite 0x${hello.cipherSuite.toString(16)}, which we did not offer`, TlsAlert.illegalParameter)
    const versions = hello.extensions.get(ExtensionType.supportedVersions)
    if (versions === undefined || decodeSelectedVersion(versions) !== TLS_1_3) throw new QuicTlsError('the server did not select TLS 1.3', TlsAlert.protocolVersion)
    for (const type of hello.extensions.keys()) {
      const allowed = hello.isHelloRetryRequest
        ? type === ExtensionType.supportedVersions || type === ExtensionType.keyShare || type === ExtensionType.cookie
        : type === ExtensionType.supportedVersions || type === ExtensionType.keyShare
      if (!allowed) throw new QuicTlsError(`extension ${type} is not allowed in ${hello.isHelloRetryRequest ? 'HelloRetryRequest' : 'ServerHello'}`, TlsAlert.unsupportedExtension)
    }
    const keyShareBody = hello.extensions.get(ExtensionType.keyShare)
    if (keyShareBody === undefined) throw new QuicTlsError('the server sent no key_share', TlsAlert.missingExtension)

    if (hello.isHelloRetryRequest) {
      // RFC 8446 4.1.4: one retry, for a group we support but have not sent a share for.
      if (this.helloRetried) throw new QuicTlsError('a second HelloRetryRequest', TlsAlert.unexpectedMessage)
      const group = decodeHelloRetryKeyShare(keyShareBody)
      if (!SUPPORTED_GROUPS.includes(group) || group === this.keyShare?.group) {
        throw new QuicTlsError(`HelloRetryRequest for group 0x${group.toString(16)}, which changes nothing`, TlsAlert.illegalParameter)
      }
      this.helloRetried = true
      this.suite = hello.cipherSuite
      this.restartTranscriptAfterHelloRetry()
      this.addToTranscript(message.raw)
      this.sendClientHello(group, hello.extensions.get(ExtensionType.cookie))
      return
    }
    if (this.helloRetried && hello.cipherSuite !== this.suite) throw new QuicTlsError('the ServerHello cipher suite differs from the HelloRetryRequest', TlsAlert.illegalParameter)
    const share = decodeServerKeyShare(keyShareBody)
    if (share.group !== this.keyShare?.group) throw new QuicTlsError(`the server's key share is for group 0x${share.group.toString(16)}, not ours`, TlsAlert.illegalParameter)
    const sharedSecret = this.keyShare.deriveSharedSecret(share.keyExchange)
    this.suite = hello.cipherSuite
    this.addToTranscript(message.raw)
    this.secrets = deriveHandshakeSecrets(sharedSecret, this.transcriptHash())
    this.installKeys('handshake', aeadOfSuite(this.suite), this.secrets.serverHandshakeTrafficSecret, this.secrets.clientHandshakeTrafficSecret)
    this.expecting = 'EncryptedExtensions'
  }

  private onEncryptedExtensions (message: HandshakeMessage): void {
    const extensions = decodeEncryptedExtensions(message.body)
    const alpn = extensions.get(ExtensionType.alpn)
    if (alpn === undefined) throw new QuicTlsError('the server negotiated no application protocol', TlsAlert.noApplicationProtocol)
    const selected = decodeAlpn(alpn)
    if (selected.length !== 1 || !this.options.alpn.includes(selected[0])) throw new QuicTlsError(`the server selected ALPN ${JSON.stringify(selected)}, not one we offered`, TlsAlert.noApplicationProtocol)
    const parameters = extensions.get(ExtensionType.quicTransportParameters) ?? (this.tuning.plainTls === true ? new Uint8Array(0) : undefined)
    if (parameters === undefined) throw new QuicTlsError('the server sent no quic_transport_parameters', TlsAlert.missingExtension)
    for (const forbidden of [ExtensionType.supportedVersions, ExtensionType.keyShare, ExtensionType.signatureAlgorithms, ExtensionType.preSharedKey, ExtensionType.earlyData]) {
      if (extensions.has(forbidden)) throw new QuicTlsError(`extension ${forbidden} is not allowed in EncryptedExtensions`, TlsAlert.illegalParameter)
    }
    this.alpn = selected[0]
    this.remoteTransportParameters = parameters
    this.addToTranscript(message.raw)
    this.expecting = 'CertificateRequest or Certificate'
  }

  private onCertificateRequest (message: HandshakeMessage): void {
    const request = decodeCertificateRequest(message.body)
    if (request.context.length !== 0) throw new QuicTlsError('CertificateRequest context must be empty in the handshake', TlsAlert.illegalParameter)
    const schemes = request.extensions.get(ExtensionType.signatureAlgorithms)
    if (schemes === undefined) throw new QuicTlsError('CertificateRequest without signature_algorithms', TlsAlert.missingExtension)
    if (!decodeUint16ListExtension(schemes, 2, 'signature_algorithms').includes(SignatureScheme.ecdsaSecp256r1Sha256)) {
      throw new QuicTlsError('the server does not accept ECDSA P-256 signatures, the only kind our certificate makes', TlsAlert.handshakeFailure)
    }
    this.certificateRequested = true
    this.addToTranscript(message.raw)
    this.expecting = 'Certificate'
  }

  private async onCertificate (message: HandshakeMessage): Promise<void> {
    this.remote = await this.readRemoteCertificate(message, 'server', TlsAlert.decodeError)
    this.expecting = 'CertificateVerify'
  }

  private onCertificateVerify (message: HandshakeMessage): void {
    this.readRemoteCertificateVerify(message, 'server', this.remote!)
    this.expecting = 'Finished'
  }

  private async onFinished (message: HandshakeMessage): Promise<void> {
    const secrets = this.secrets!
    this.checkPeerFinished(message, secrets.serverHandshakeTrafficSecret, 'server')
    const application = deriveApplicationSecrets(secrets.handshakeSecret, this.transcriptHash())
    this.expecting = 'nothing'

    const flight: Uint8Array[] = []
    if (this.certificateRequested) {
      const { der, certificateKey } = await this.certificate
      if (!this.live) return
      const certificateMessage = encodeCertificate(new Uint8Array(0), [der])
      this.addToTranscript(certificateMessage)
      const { scheme, signature } = await signCertificateVerify(certificateKey, certificateVerifyContent('client', this.transcriptHash()))
      if (!this.live) return
      const verifyMessage = encodeCertificateVerify(scheme, signature)
      this.addToTranscript(verifyMessage)
      flight.push(certificateMessage, verifyMessage)
    }
    const finished = encodeFinished(finishedVerifyData(secrets.clientHandshakeTrafficSecret, this.transcriptHash()))
    this.addToTranscript(finished)
    flight.push(finished)
    this.emit('handshake', concat(flight))
    this.installKeys('application', aeadOfSuite(this.suite), application.serverApplicationTrafficSecret, application.clientApplicationTrafficSecret)
    this.complete(this.remote!, this.remoteTransportParameters!, this.alpn)
  }
}
