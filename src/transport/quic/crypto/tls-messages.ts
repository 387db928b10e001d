/**
 * The TLS 1.3 handshake messages QUIC carries in CRYPTO frames (RFC 8446 4; RFC 9001 4: no
 * record layer, no ChangeCipherSpec, no EndOfEarlyData), their extensions, and the framer that
 * cuts a level's in-order CRYPTO bytes into messages. Pure byte work, any runtime.
 *
 * Decoders are strict and bounded: every vector is checked against the bounds RFC 8446 gives it,
 * a message may not exceed MAX_HANDSHAKE_MESSAGE_LENGTH, an extension may appear once, and
 * trailing bytes are an error. Failures are QuicTlsError with the alert RFC 8446 6.2 names.
 */
import { QuicTlsError, TlsAlert } from './errors.ts'
import { TlsReader, TlsWriter } from './tls-reader.ts'

export const HandshakeType = {
  clientHello: 1,
  serverHello: 2,
  newSessionTicket: 4,
  encryptedExtensions: 8,
  certificate: 11,
  certificateRequest: 13,
  certificateVerify: 15,
  finished: 20,
  keyUpdate: 24
} as const

export const ExtensionType = {
  serverName: 0,
  supportedGroups: 10,
  signatureAlgorithms: 13,
  alpn: 16,
  preSharedKey: 41,
  earlyData: 42,
  supportedVersions: 43,
  cookie: 44,
  pskKeyExchangeModes: 45,
  keyShare: 51,
  quicTransportParameters: 0x39
} as const

export const CipherSuite = {
  aes128GcmSha256: 0x1301,
  chacha20Poly1305Sha256: 0x1303
} as const

export const NamedGroup = {
  secp256r1: 0x0017,
  x25519: 0x001d
} as const

export const SignatureScheme = {
  ecdsaSecp256r1Sha256: 0x0403,
  rsaPssRsaeSha256: 0x0804,
  ed25519: 0x0807
} as const

export const TLS_1_3 = 0x0304
const LEGACY_VERSION = 0x0303

/**
 * The largest handshake message we accept. The biggest we expect is a Certificate with one
 * libp2p certificate (security/tls caps those at 16 KiB); the rest are a few hundred bytes.
 */
export const MAX_HANDSHAKE_MESSAGE_LENGTH = 20 * 1024

/** RFC 8446 4.1.3: the ServerHello.random that marks a HelloRetryRequest. */
export const HELLO_RETRY_REQUEST_RANDOM = Uint8Array.from([
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
  0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c
])

/** Extensions by type, in the order received. */
export type Extensions = Map<number, Uint8Array>

export interface HandshakeMessage {
  type: number
  body: Uint8Array
  /** The whole message, header included: what the transcript hashes. */
  raw: Uint8Array
}

/** The 4-byte header (type, uint24 length) plus body. */
export function encodeHandshakeMessage (type: number, body: Uint8Array): Uint8Array {
  return new TlsWriter().uint8(type).vector(3, body).finish()
}

/**
 * Cuts one encryption level's in-order CRYPTO bytes into handshake messages. Holds at most one
 * partial message, itself bounded by MAX_HANDSHAKE_MESSAGE_LENGTH.
 */
export class HandshakeFramer {
  /** Received bytes not yet part of a whole message, as they came (joined once a message is complete). */
  private chunks: Uint8Array[] = []
  private buffered = 0

  /** Bytes held waiting for the rest of a message. */
  get pendingLength (): number {
    return this.buffered
  }

  push (bytes: Uint8Array): HandshakeMessage[] {
    if (bytes.length > 0) {
      // A copy: the caller may reuse its buffer (a datagram) once this returns.
      this.chunks.push(bytes.slice())
      this.buffered += bytes.length
    }
    const messages: HandshakeMessage[] = []
    while (this.buffered >= 4) {
      const header = this.peek(4)
      const length = (header[1] << 16) | (header[2] << 8) | header[3]
      if (length > MAX_HANDSHAKE_MESSAGE_LENGTH) {
        throw new QuicTlsError(`handshake message of ${length} bytes exceeds ${MAX_HANDSHAKE_MESSAGE_LENGTH}`, TlsAlert.decodeError)
      }
      if (this.buffered < 4 + length) break
      const raw = this.take(4 + length)
      messages.push({ type: raw[0], body: raw.subarray(4), raw })
    }
    return messages
  }

  /** The first `length` buffered bytes (a copy only when they span chunks). */
  private peek (length: number): Uint8Array {
    if (this.chunks[0].length >= length) return this.chunks[0]
    const out = new Uint8Array(length)
    let offset = 0
    for (const chunk of this.chunks) {
      const part = chunk.subarray(0, length - offset)
      out.set(part, offset)
      offset += part.length
      if (offset === length) break
    }
    return out
  }

  /** Removes and returns the first `length` buffered bytes as one new array. */
  private take (length: number): Uint8Array {
    const out = new Uint8Array(length)
    let offset = 0
    while (offset < length) {
      const chunk = this.chunks[0]
      const part = chunk.subarray(0, length - offset)
      out.set(part, offset)
      offset += part.length
      if (part.length === chunk.length) this.chunks.shift()
      else this.chunks[0] = chunk.subarray(part.length)
    }
    this.buffered -= length
    return out
  }
}

function decodeExtensions (reader: TlsReader, min: number, what: string): Extensions {
  const block = new TlsReader(reader.vector(2, min, 0xffff, `${what} extensions`))
  const extensions: Extensions = new Map()
  while (!block.done) {
    const type = block.uint16('extension type')
    const body = block.vector(2, 0, 0xffff, `extension ${type}`)
    if (extensions.has(type)) throw new QuicTlsError(`extension ${type} appears twice in ${what}`, TlsAlert.illegalParameter)
    extensions.set(type, body)
  }
  return extensions
}

function encodeExtensions (writer: TlsWriter, extensions: Array<[number, Uint8Array]>): void {
  const block = new TlsWriter()
  for (const [type, body] of extensions) block.uint16(type).vector(2, body)
  writer.vector(2, block.finish())
}

// ---- ClientHello / ServerHello (RFC 8446 4.1.2, 4.1.3) ----

export interface ClientHello {
  random: Uint8Array
  legacySessionId: Uint8Array
  cipherSuites: number[]
  extensions: Extensions
}

export function encodeClientHello (random: Uint8Array, cipherSuites: number[], extensions: Array<[number, Uint8Array]>): Uint8Array {
  const writer = new TlsWriter().uint16(LEGACY_VERSION).raw(random)
    .vector(1, new Uint8Array(0)) // legacy_session_id: empty, QUIC forbids compatibility mode (RFC 9001 8.4)
    .vector(2, encodeUint16List(cipherSuites))
    .vector(1, Uint8Array.of(0)) // legacy_compression_methods: null only
  encodeExtensions(writer, extensions)
  return encodeHandshakeMessage(HandshakeType.clientHello, writer.finish())
}

export function decodeClientHello (body: Uint8Array): ClientHello {
  const reader = new TlsReader(body)
  reader.uint16('legacy_version') // any value: versions are negotiated by supported_versions
  const random = reader.bytesOf(32, 'random')
  const legacySessionId = reader.vector(1, 0, 32, 'legacy_session_id')
  const suites = reader.vector(2, 2, 0xfffe, 'cipher_suites')
  if (suites.length % 2 !== 0) throw new QuicTlsError('cipher_suites has an odd length', TlsAlert.decodeError)
  const compression = reader.vector(1, 1, 0xff, 'legacy_compression_methods')
  if (compression.length !== 1 || compression[0] !== 0) throw new QuicTlsError('TLS 1.3 allows only the null compression method', TlsAlert.illegalParameter)
  const extensions = decodeExtensions(reader, 8, 'ClientHello')
  reader.end('ClientHello')
  return { random, legacySessionId, cipherSuites: decodeUint16List(suites, 'cipher_suites'), extensions }
}

export interface ServerHello {
  random: Uint8Array
  legacySessionIdEcho: Uint8Array
  cipherSuite: number
  extensions: Extensions
  /** A HelloRetryRequest (RFC 8446 4.1.4) has the special random. */
  isHelloRetryRequest: boolean
}

export function encodeServerHello (random: Uint8Array, legacySessionIdEcho: Uint8Array, cipherSuite: number, extensions: Array<[number, Uint8Array]>): Uint8Array {
  const writer = new TlsWriter().uint16(LEGACY_VERSION).raw(random).vector(1, legacySessionIdEcho).uint16(cipherSuite).uint8(0)
  encodeExtensions(writer, extensions)
  return encodeHandshakeMessage(HandshakeType.serverHello, writer.finish())
}

export function decodeServerHello (body: Uint8Array): ServerHello {
  const reader = new TlsReader(body)
  if (reader.uint16('legacy_version') !== LEGACY_VERSION) throw new QuicTlsError('ServerHello legacy_version is not TLS 1.2', TlsAlert.illegalParameter)
  const random = reader.bytesOf(32, 'random')
  const legacySessionIdEcho = reader.vector(1, 0, 32, 'legacy_session_id_echo')
  const cipherSuite = reader.uint16('cipher_suite')
  if (reader.uint8('legacy_compression_method') !== 0) throw new QuicTlsError('ServerHello compression method is not null', TlsAlert.illegalParameter)
  const extensions = decodeExtensions(reader, 6, 'ServerHello')
  reader.end('ServerHello')
  return { random, legacySessionIdEcho, cipherSuite, extensions, isHelloRetryRequest: equalBytes(random, HELLO_RETRY_REQUEST_RANDOM) }
}

// ---- EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify, Finished ----

export function encodeEncryptedExtensions (extensions: Array<[number, Uint8Array]>): Uint8Array {
  const writer = new TlsWriter()
  encodeExtensions(writer, extensions)
  return encodeHandshakeMessage(HandshakeType.encryptedExtensions, writer.finish())
}

export function decodeEncryptedExtensions (body: Uint8Array): Extensions {
  const reader = new TlsReader(body)
  const extensions = decodeExtensions(reader, 0, 'EncryptedExtensions')
  reader.end('EncryptedExtensions')
  return extensions
}

export interface CertificateRequest {
  context: Uint8Array
  extensions: Extensions
}

export function encodeCertificateRequest (context: Uint8Array, extensions: Array<[number, Uint8Array]>): Uint8Array {
  const writer = new TlsWriter().vector(1, context)
  encodeExtensions(writer, extensions)
  return encodeHandshakeMessage(HandshakeType.certificateRequest, writer.finish())
}

export function decodeCertificateRequest (body: Uint8Array): CertificateRequest {
  const reader = new TlsReader(body)
  const context = reader.vector(1, 0, 0xff, 'certificate_request_context')
  const extensions = decodeExtensions(reader, 2, 'CertificateRequest')
  reader.end('CertificateRequest')
  return { context, extensions }
}

export interface CertificateMessage {
  context: Uint8Array
  /** Each CertificateEntry's cert_data (X.509 DER); entry extensions are read and ignored. */
  certificates: Uint8Array[]
}

export function encodeCertificate (context: Uint8Array, certificates: Uint8Array[]): Uint8Array {
  const list = new TlsWriter()
  for (const der of certificates) list.vector(3, der).uint16(0)
  return encodeHandshakeMessage(HandshakeType.certificate, new TlsWriter().vector(1, context).vector(3, list.finish()).finish())
}

export function decodeCertificate (body: Uint8Array): CertificateMessage {
  const reader = new TlsReader(body)
  const context = reader.vector(1, 0, 0xff, 'certificate_request_context')
  const list = new TlsReader(reader.vector(3, 0, 0xffffff, 'certificate_list'))
  reader.end('Certificate')
  const certificates: Uint8Array[] = []
  while (!list.done) {
    certificates.push(list.vector(3, 1, 0xffffff, 'cert_data'))
    list.vector(2, 0, 0xffff, 'CertificateEntry extensions')
  }
  return { context, certificates }
}

export interface CertificateVerify {
  scheme: number
  signature: Uint8Array
}

export function encodeCertificateVerify (scheme: number, signature: Uint8Array): Uint8Array {
  return encodeHandshakeMessage(HandshakeType.certificateVerify, new TlsWriter().uint16(scheme).vector(2, signature).finish())
}

export function decodeCertificateVerify (body: Uint8Array): CertificateVerify {
  const reader = new TlsReader(body)
  const scheme = reader.uint16('signature scheme')
  const signature = reader.vector(2, 0, 0xffff, 'signature')
  reader.end('CertificateVerify')
  return { scheme, signature }
}

export function encodeFinished (verifyData: Uint8Array): Uint8Array {
  return encodeHandshakeMessage(HandshakeType.finished, verifyData)
}

// ---- extension bodies ----

export function encodeUint16List (values: number[]): Uint8Array {
  const writer = new TlsWriter()
  for (const value of values) writer.uint16(value)
  return writer.finish()
}

function decodeUint16List (bytes: Uint8Array, what: string): number[] {
  if (bytes.length % 2 !== 0) throw new QuicTlsError(`${what} has an odd length`, TlsAlert.decodeError)
  const values: number[] = []
  for (let i = 0; i < bytes.length; i += 2) values.push((bytes[i] << 8) | bytes[i + 1])
  return values
}

/** The whole extension body is one vector of uint16 (supported_groups, signature_algorithms). */
export function decodeUint16ListExtension (body: Uint8Array, prefixBytes: 1 | 2, what: string): number[] {
  const reader = new TlsReader(body)
  const list = reader.vector(prefixBytes, 2, prefixBytes === 1 ? 0xfe : 0xfffe, what)
  reader.end(what)
  return decodeUint16List(list, what)
}

export function encodeUint16ListExtension (values: number[], prefixBytes: 1 | 2): Uint8Array {
  return new TlsWriter().vector(prefixBytes, encodeUint16List(values)).finish()
}

export interface KeyShareEntry {
  group: number
  keyExchange: Uint8Array
}

export function encodeKeyShareEntry (entry: KeyShareEntry): Uint8Array {
  return new TlsWriter().uint16(entry.group).vector(2, entry.keyExchange).finish()
}

/** The client's key_share: a list of entries, at most one per group (RFC 8446 4.2.8). */
export function decodeClientKeyShares (body: Uint8Array): KeyShareEntry[] {
  const reader = new TlsReader(body)
  const list = new TlsReader(reader.vector(2, 0, 0xffff, 'client_shares'))
  reader.end('key_share')
  const entries: KeyShareEntry[] = []
  while (!list.done) {
    const group = list.uint16('key share group')
    if (entries.some(e => e.group === group)) throw new QuicTlsError(`two key shares for group ${group}`, TlsAlert.illegalParameter)
    entries.push({ group, keyExchange: list.vector(2, 1, 0xffff, 'key_exchange') })
  }
  return entries
}

/** The server's key_share: one entry. */
export function decodeServerKeyShare (body: Uint8Array): KeyShareEntry {
  const reader = new TlsReader(body)
  const group = reader.uint16('key share group')
  const keyExchange = reader.vector(2, 1, 0xffff, 'key_exchange')
  reader.end('key_share')
  return { group, keyExchange }
}

/** A HelloRetryRequest's key_share: the selected group only. */
export function decodeHelloRetryKeyShare (body: Uint8Array): number {
  const reader = new TlsReader(body)
  const group = reader.uint16('selected_group')
  reader.end('key_share')
  return group
}

/** The server's supported_versions: the one selected version. */
export function decodeSelectedVersion (body: Uint8Array): number {
  const reader = new TlsReader(body)
  const version = reader.uint16('selected_version')
  reader.end('supported_versions')
  return version
}

export function encodeAlpn (protocols: string[]): Uint8Array {
  const list = new TlsWriter()
  for (const protocol of protocols) {
    const name = new TextEncoder().encode(protocol)
    if (name.length === 0) throw new RangeError('empty ALPN protocol name')
    list.vector(1, name)
  }
  return new TlsWriter().vector(2, list.finish()).finish()
}

export function decodeAlpn (body: Uint8Array): string[] {
  const reader = new TlsReader(body)
  const list = new TlsReader(reader.vector(2, 2, 0xffff, 'protocol_name_list'))
  reader.end('application_layer_protocol_negotiation')
  const protocols: string[] = []
  while (!list.done) protocols.push(new TextDecoder().decode(list.vector(1, 1, 0xff, 'ProtocolName')))
  return protocols
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i]
  return difference === 0
}
