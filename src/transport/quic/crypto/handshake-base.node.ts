/**
 * What the client and the server handshake share: the transcript hash, one message framer per
 * encryption level, the serial processing of received messages (a step may wait on a
 * certificate check, and the next message must not overtake it), the one-way fail/complete
 * states with their callbacks, the libp2p certificate checks and the 1-RTT key generations.
 */
import { createHash } from 'node:crypto'
import type { Hash } from 'node:crypto'
import type { PrivateKey, PublicKey } from '../../../interface/keys.ts'
import type { PeerId } from '../../../interface/peer-id.ts'
import { generateCertificate, verifyCertificate } from '../../../peer/tls-certificate.ts'
import { Libp2pError } from '../../../util/errors.ts'
import { QuicTlsError, TlsAlert } from './errors.ts'
import { SUPPORTED_GROUPS } from './key-exchange.node.ts'
import { TrafficKeys } from './packet-protection.node.ts'
import { HandshakeFramer, HandshakeType, decodeCertificate, decodeCertificateVerify, equalBytes } from './tls-messages.ts'
import { HASH_LENGTH, finishedVerifyData } from './key-schedule.node.ts'
import { certificateVerifyContent, verifyCertificateVerify } from './certificate-verify.node.ts'
import type { HandshakeMessage } from './tls-messages.ts'
import type { EncryptionLevel, PacketProtectorPair, QuicAeadName, QuicCertificate, QuicHandshake, QuicHandshakeOptions } from './types.ts'

/** The peer a certificate authenticated, and the key that must have signed CertificateVerify. */
export interface RemoteCertificate {
  /** Undefined for plain (non-libp2p) certificates. */
  peerId?: PeerId
  publicKey?: PublicKey
  /** The certificate key's SubjectPublicKeyInfo, DER. */
  spki: Uint8Array
}

/** Knobs tests turn to reach the rarer paths; QUIC never sets them. */
export interface HandshakeTuning {
  /** Key share groups we accept or send shares for, in order (default SUPPORTED_GROUPS). */
  groups?: number[]
  /** Cipher suites the client offers, in order (default both). */
  suites?: number[]
  /**
   * Plain TLS 1.3 peers (the OpenSSL cross-check) carry no quic_transport_parameters and use
   * a legacy session id (middlebox compatibility mode); QUIC requires the one and forbids the other.
   */
  plainTls?: boolean
  /** Sees each level's traffic secrets as they are derived (a TLS record layer in tests; key logging). */
  onSecrets?: (level: EncryptionLevel, aead: QuicAeadName, read: Uint8Array, write: Uint8Array) => void
}

export abstract class HandshakeBase implements QuicHandshake {
  state: QuicHandshake['state'] = 'handshaking'
  protected readonly options: QuicHandshakeOptions
  protected readonly certificate: Promise<QuicCertificate>
  protected readonly groups: number[]
  protected readonly tuning: HandshakeTuning
  private transcript: Hash = createHash('sha256')
  private readonly framers: Record<EncryptionLevel, HandshakeFramer> = {
    initial: new HandshakeFramer(),
    handshake: new HandshakeFramer(),
    application: new HandshakeFramer()
  }

  /** Received messages wait here while an earlier one is still being processed. */
  private readonly inbox: Array<{ level: EncryptionLevel, message: HandshakeMessage }> = []
  private processing = false
  private destroyed = false
  private applicationKeys?: { read: TrafficKeys, write: TrafficKeys }
  private nextApplication?: { read: TrafficKeys, write: TrafficKeys }

  constructor (options: QuicHandshakeOptions, tuning: HandshakeTuning = {}) {
    this.options = options
    this.groups = tuning.groups ?? SUPPORTED_GROUPS
    this.tuning = tuning
    this.certificate = options.certificate !== undefined ? Promise.resolve(options.certificate) : certificateFor(options.privateKey)
    // A handshake destroyed before it needs the certificate must not leave a rejection unhandled.
    this.certificate.catch(() => {})
  }

  abstract start (): void

  /** Handles one message; throws QuicTlsError to fail the handshake. */
  protected abstract handle (level: EncryptionLevel, message: HandshakeMessage): void | Promise<void>

  receiveCryptoData (level: EncryptionLevel, bytes: Uint8Array): void {
    if (this.state === 'failed' || this.destroyed) return
    let messages: HandshakeMessage[]
    try {
      messages = this.framers[level].push(bytes)
    } catch (err) {
      this.fail(err)
      return
    }
    for (const message of messages) this.inbox.push({ level, message })
    void this.drain()
  }

  private async drain (): Promise<void> {
    if (this.processing) return
    this.processing = true
    try {
      while (this.inbox.length > 0 && this.state !== 'failed' && !this.destroyed) {
        const { level, message } = this.inbox.shift()!
        try {
          await this.handle(level, message)
        } catch (err) {
          this.fail(err)
        }
      }
    } finally {
      this.processing = false
    }
  }

  nextApplicationKeys (): PacketProtectorPair {
    const next = this.nextGeneration()
    return { read: next.read.protector, write: next.write.protector }
  }

  updateApplicationKeys (): PacketProtectorPair {
    this.applicationKeys = this.nextGeneration()
    this.nextApplication = undefined
    return { read: this.applicationKeys.read.protector, write: this.applicationKeys.write.protector }
  }

  /** The generation after the current one, derived once (RFC 9001 6.3 suggests ahead of need). */
  private nextGeneration (): { read: TrafficKeys, write: TrafficKeys } {
    if (this.applicationKeys === undefined || this.state !== 'complete') {
      throw new QuicTlsError('no 1-RTT keys to update before the handshake completes', TlsAlert.internalError)
    }
    this.nextApplication ??= { read: this.applicationKeys.read.next(), write: this.applicationKeys.write.next() }
    return this.nextApplication
  }

  destroy (): void {
    this.destroyed = true
    this.inbox.length = 0
  }

  protected get live (): boolean {
    return !this.destroyed && this.state === 'handshaking'
  }

  // ---- transcript ----

  protected addToTranscript (raw: Uint8Array): void {
    this.transcript.update(raw)
  }

  protected transcriptHash (): Uint8Array {
    return new Uint8Array(this.transcript.copy().digest())
  }

  /**
   * RFC 8446 4.4.1: after a HelloRetryRequest the first ClientHello is replaced in the
   * transcript by a synthetic message_hash message carrying its hash.
   */
  protected restartTranscriptAfterHelloRetry (): void {
    const firstHelloHash = this.transcriptHash()
    this.transcript = createHash('sha256')
    this.transcript.update(Uint8Array.of(254, 0, 0, firstHelloHash.length))
    this.transcript.update(firstHelloHash)
  }

  // ---- output ----

  /** Adds the messages to the transcript and hands them to QUIC as one piece. */
  protected send (level: EncryptionLevel, ...messages: Uint8Array[]): void {
    for (const message of messages) this.addToTranscript(message)
    this.emit(level, messages.length === 1 ? messages[0] : concat(messages))
  }

  /** Hands bytes to QUIC without touching the transcript (the caller already added them). */
  protected emit (level: EncryptionLevel, bytes: Uint8Array): void {
    if (!this.destroyed) this.options.onCryptoData(level, bytes)
  }

  protected installKeys (level: EncryptionLevel, aead: QuicAeadName, readSecret: Uint8Array, writeSecret: Uint8Array): void {
    this.tuning.onSecrets?.(level, aead, readSecret, writeSecret)
    const read = new TrafficKeys(aead, readSecret)
    const write = new TrafficKeys(aead, writeSecret)
    if (level === 'application') this.applicationKeys = { read, write }
    if (!this.destroyed) this.options.onKeys(level, { read: read.protector, write: write.protector })
  }

  protected complete (remote: RemoteCertificate | undefined, remoteTransportParameters: Uint8Array, alpn: string): void {
    this.state = 'complete'
    if (this.destroyed) return
    this.options.onComplete({ remotePeer: remote?.peerId, remotePublicKey: remote?.publicKey, remoteTransportParameters, alpn })
  }

  protected fail (err: unknown): void {
    if (this.state === 'failed') return
    this.state = 'failed'
    this.inbox.length = 0
    if (this.destroyed) return
    const error = err instanceof QuicTlsError
      ? err
      : new QuicTlsError(`handshake failed: ${err instanceof Error ? err.message : String(err)}`, TlsAlert.internalError, { cause: err })
    this.options.onError(error)
  }

  // ---- checks shared by both roles ----

  /** Messages of the handshake proper arrive only at the level the protocol puts them on. */
  /**
   * The peer's Finished (RFC 8446 4.4.4): its verify data must match the HMAC of the transcript
   * so far under the peer's handshake traffic secret; then it joins the transcript.
   */
  protected checkPeerFinished (message: HandshakeMessage, peerTrafficSecret: Uint8Array, peer: 'client' | 'server'): void {
    const expected = finishedVerifyData(peerTrafficSecret, this.transcriptHash())
    if (message.body.length !== HASH_LENGTH || !equalBytes(message.body, expected)) throw new QuicTlsError(`the ${peer} Finished does not verify`, TlsAlert.decryptError)
    this.addToTranscript(message.raw)
  }

  protected expectLevel (level: EncryptionLevel, expected: EncryptionLevel, message: HandshakeMessage): void {
    if (message.type === HandshakeType.keyUpdate) throw new QuicTlsError('TLS KeyUpdate is forbidden in QUIC', TlsAlert.unexpectedMessage)
    if (level !== expected) throw new QuicTlsError(`handshake message ${message.type} at the ${level} level, expected ${expected}`, TlsAlert.unexpectedMessage)
  }

  /**
   * The libp2p rules (tls/tls.md): exactly one certificate, valid now, self-signed, carrying a
   * SignedKey that verifies; and, when we know whom we dialed, that peer.
   */
  /**
   * The peer's Certificate message, the same for both roles: an empty context, at least one
   * certificate (`noCertificateAlert` says what its absence is for the role: libp2p requires a
   * client certificate too), checked by the libp2p rules, then added to the transcript.
   */
  protected async readRemoteCertificate (message: HandshakeMessage, peer: 'client' | 'server', noCertificateAlert: number): Promise<RemoteCertificate> {
    const certificate = decodeCertificate(message.body)
    if (certificate.context.length !== 0) throw new QuicTlsError(`${peer} Certificate context must be empty`, TlsAlert.illegalParameter)
    if (certificate.certificates.length === 0) throw new QuicTlsError(`the ${peer} sent no certificate; libp2p requires one`, noCertificateAlert)
    const remote = await this.checkRemoteCertificate(certificate.certificates)
    this.addToTranscript(message.raw)
    return remote
  }

  /** The peer's CertificateVerify, checked with its certificate's key over the transcript so far, then added to it. */
  protected readRemoteCertificateVerify (message: HandshakeMessage, peer: 'client' | 'server', remote: RemoteCertificate): void {
    const { scheme, signature } = decodeCertificateVerify(message.body)
    verifyCertificateVerify(remote.spki, scheme, signature, certificateVerifyContent(peer, this.transcriptHash()))
    this.addToTranscript(message.raw)
  }

  protected async checkRemoteCertificate (certificates: Uint8Array[]): Promise<RemoteCertificate> {
    const plain = this.options.plainCertificates
    if (plain !== undefined) {
      if (plain.verifyServer === undefined) throw new QuicTlsError('no check for a plain certificate', TlsAlert.badCertificate)
      try {
        return { spki: await plain.verifyServer(certificates) }
      } catch (err) {
        throw new QuicTlsError(`the server certificate was refused: ${(err as Error).message}`, TlsAlert.badCertificate, { cause: err })
      }
    }
    if (certificates.length !== 1) throw new QuicTlsError(`expected exactly one certificate, got ${certificates.length}`, TlsAlert.badCertificate)
    let verified
    try {
      verified = await verifyCertificate(certificates[0])
    } catch (err) {
      if (!(err instanceof Libp2pError)) throw err
      const alert = /expired|not valid before/.test(err.message) ? TlsAlert.certificateExpired : TlsAlert.badCertificate
      throw new QuicTlsError(`invalid libp2p certificate: ${err.message}`, alert, { cause: err })
    }
    const expected = this.options.expectedRemotePeer
    if (expected !== undefined && !expected.equals(verified.peerId)) {
      throw new QuicTlsError(`the certificate authenticates ${verified.peerId.toString()}, not the expected ${expected.toString()}`, TlsAlert.badCertificate)
    }
    return { peerId: verified.peerId, publicKey: verified.publicKey, spki: verified.certificateSpki }
  }
}

/**
 * One certificate per identity key, made on first use and shared by its connections: tls/tls.md
 * allows reuse, go-libp2p does the same, and a fresh ECDSA key and two signatures per handshake
 * would cost every dial and every accepted Initial several milliseconds of CPU.
 */
const certificates = new WeakMap<PrivateKey, Promise<QuicCertificate>>()

function certificateFor (privateKey: PrivateKey): Promise<QuicCertificate> {
  let certificate = certificates.get(privateKey)
  if (certificate === undefined) {
    certificate = generateCertificate(privateKey)
    certificates.set(privateKey, certificate)
    certificate.catch(() => { certificates.delete(privateKey) })
  }
  return certificate
}

export function concat (parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** The AEAD of a negotiated cipher suite. */
export function aeadOfSuite (suite: number): QuicAeadName {
  return suite === 0x1303 ? 'ChaCha20-Poly1305' : 'AES-128-GCM'
}
