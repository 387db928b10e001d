/**
 * The libp2p TLS certificate (specs tls/tls.md "Peer Authentication"): a self-signed X.509 v3
 * certificate whose key is a throwaway ECDSA P-256 key, carrying the host key in the libp2p
 * Public Key Extension (OID 1.3.6.1.4.1.53594.1.1) as
 * `SignedKey ::= SEQUENCE { publicKey OCTET STRING, signature OCTET STRING }`, where publicKey
 * is the host key's PublicKey protobuf and signature is the host key's signature over
 * `"libp2p-tls-handshake:" || SubjectPublicKeyInfo DER of the certificate key`.
 *
 * Written and checked with our own DER code (crypto/der.ts) and key classes, so it runs in any
 * runtime. It lives in peer/ (below transport and security) because both libp2p TLS over TCP
 * (security/tls) and QUIC's TLS handshake (transport/quic/crypto) use it. Verification is ours, not the TLS library's: the
 * library only proves the peer holds the certificate key; `verifyCertificate` proves that key
 * was signed by the host key and returns the peer id.
 */
import type { PrivateKey, PublicKey } from '../interface/keys.ts'
import type { PeerId } from '../interface/peer-id.ts'
import { generateKeyPair, publicKeyFromProtobuf, publicKeyFromRaw, randomBytes } from '../crypto/index.ts'
import {
  DerReader, TAG_BOOLEAN, TAG_CONTEXT_0, TAG_CONTEXT_3, TAG_INTEGER, TAG_OCTET_STRING,
  TAG_PRINTABLE_STRING, TAG_SEQUENCE, TAG_SET, decodeBoolean, derBitString, derBoolean, derEncode, derOid, derTime, derUnsignedInteger
} from '../crypto/der.ts'
import { peerIdFromPublicKey } from './peer-id.ts'
import { concatBytes } from '../util/bytes.ts'
import { InvalidCertificateError, InvalidKeyError } from '../util/errors.ts'

export const LIBP2P_EXTENSION_OID = '1.3.6.1.4.1.53594.1.1'
export const SIGNED_KEY_PREFIX = new TextEncoder().encode('libp2p-tls-handshake:')

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11'
const ED25519 = '1.3.101.112'
const EC_PUBLIC_KEY = '1.2.840.10045.2.1'
const RSA_ENCRYPTION = '1.2.840.113549.1.1.1'
const SERIAL_NUMBER_ATTRIBUTE = '2.5.4.5'

/**
 * Standard extensions a self-signed leaf may mark critical that restrict nothing we rely on
 * (we never build chains or check names), so seeing them critical is not "not understood".
 */
const UNDERSTOOD_EXTENSIONS = new Set([
  LIBP2P_EXTENSION_OID,
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.15', // keyUsage
  '2.5.29.17', // subjectAltName
  '2.5.29.19', // basicConstraints
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.37' // extKeyUsage
])

/** Certificates larger than this are refused before parsing (ours are ~450 bytes; RSA host keys add ~600). */
export const MAX_CERTIFICATE_LENGTH = 16 * 1024

/** go-libp2p's window: valid from an hour ago (clock skew) for a hundred years. */
const NOT_BEFORE_SKEW_MS = 60 * 60 * 1000
const LIFETIME_MS = 100 * 365 * 24 * 60 * 60 * 1000

export interface Libp2pCertificate {
  /** The certificate, DER. */
  der: Uint8Array
  /** The certificate key (ECDSA P-256), whose SEC1 DER node:tls loads as PEM. */
  certificateKey: PrivateKey
}

export interface GenerateCertificateOptions {
  notBefore?: Date
  notAfter?: Date
  /** Mark the libp2p extension critical (default true, as go-libp2p does). */
  critical?: boolean
  /** More extensions after the libp2p one (tests use them to probe verifiers). */
  extraExtensions?: Array<{ oid: string, critical: boolean, value: Uint8Array }>
}

/** A fresh self-signed certificate with a fresh ECDSA P-256 key, binding `hostKey`. */
export async function generateCertificate (hostKey: PrivateKey, options: GenerateCertificateOptions = {}): Promise<Libp2pCertificate> {
  const certificateKey = await generateKeyPair('ECDSA')
  const spki = certificateKey.publicKey.raw
  const signature = await hostKey.sign(concatBytes([SIGNED_KEY_PREFIX, spki]))
  const signedKey = derEncode(TAG_SEQUENCE,
    derEncode(TAG_OCTET_STRING, hostKey.publicKey.toProtobuf()),
    derEncode(TAG_OCTET_STRING, signature))
  const extension = derEncode(TAG_SEQUENCE,
    derOid(LIBP2P_EXTENSION_OID),
    ...(options.critical ?? true) ? [derBoolean(true)] : [],
    derEncode(TAG_OCTET_STRING, signedKey))

  const now = Date.now()
  // A positive serial of at most 20 bytes (RFC 5280 4.1.2.2); random so no two collide.
  const serial = randomBytes(16)
  serial[0] &= 0x7f
  const serialHex = Array.from(serial, b => b.toString(16).padStart(2, '0')).join('')
  // Issuer = subject (self-signed); a name that is not empty, because some parsers refuse those.
  const name = derEncode(TAG_SEQUENCE, derEncode(TAG_SET, derEncode(TAG_SEQUENCE,
    derOid(SERIAL_NUMBER_ATTRIBUTE), derEncode(TAG_PRINTABLE_STRING, new TextEncoder().encode(serialHex)))))
  const algorithm = derEncode(TAG_SEQUENCE, derOid(ECDSA_WITH_SHA256))
  const tbs = derEncode(TAG_SEQUENCE,
    derEncode(TAG_CONTEXT_0, Uint8Array.of(TAG_INTEGER, 1, 2)), // v3
    derUnsignedInteger(serial),
    algorithm,
    name,
    derEncode(TAG_SEQUENCE, derTime(options.notBefore ?? new Date(now - NOT_BEFORE_SKEW_MS)), derTime(options.notAfter ?? new Date(now + LIFETIME_MS))),
    name,
    spki,
    derEncode(TAG_CONTEXT_3, derEncode(TAG_SEQUENCE, extension, ...(options.extraExtensions ?? []).map(e =>
      derEncode(TAG_SEQUENCE, derOid(e.oid), ...e.critical ? [derBoolean(true)] : [], derEncode(TAG_OCTET_STRING, e.value))))))
  const tbsSignature = await certificateKey.sign(tbs)
  const der = derEncode(TAG_SEQUENCE, tbs, algorithm, derBitString(tbsSignature))
  return { der, certificateKey }
}

export interface VerifiedCertificate {
  peerId: PeerId
  /** The host key from the libp2p extension. */
  publicKey: PublicKey
  /** The certificate key's SubjectPublicKeyInfo (DER): the key a TLS CertificateVerify must verify with. */
  certificateSpki: Uint8Array
  notBefore: Date
  notAfter: Date
}

export interface VerifyCertificateOptions {
  /** The time the certificate must be valid at (default: now). */
  now?: Date
}

/**
 * Checks a peer's certificate by the libp2p rules and returns the peer it authenticates.
 * Throws InvalidCertificateError for anything wrong (the message says what).
 */
export async function verifyCertificate (der: Uint8Array, options: VerifyCertificateOptions = {}): Promise<VerifiedCertificate> {
  if (der.length > MAX_CERTIFICATE_LENGTH) throw new InvalidCertificateError(`certificate of ${der.length} bytes exceeds ${MAX_CERTIFICATE_LENGTH}`)
  let parsed: ParsedCertificate
  try {
    parsed = parseCertificate(der)
  } catch (err) {
    if (err instanceof InvalidKeyError) throw new InvalidCertificateError(`malformed certificate: ${err.message}`, { cause: err })
    throw err
  }
  const now = (options.now ?? new Date()).getTime()
  if (now < parsed.notBefore.getTime()) throw new InvalidCertificateError(`certificate not valid before ${parsed.notBefore.toISOString()}`)
  if (now > parsed.notAfter.getTime()) throw new InvalidCertificateError(`certificate expired at ${parsed.notAfter.toISOString()}`)
  if (!await verifySelfSignature(parsed)) throw new InvalidCertificateError('the certificate self-signature is invalid')

  let hostKey: PublicKey
  let signature: Uint8Array
  try {
    const signedKey = new DerReader(parsed.libp2pExtension)
    const fields = new DerReader(signedKey.read(TAG_SEQUENCE))
    signedKey.end()
    hostKey = publicKeyFromProtobuf(fields.read(TAG_OCTET_STRING))
    signature = fields.read(TAG_OCTET_STRING)
    fields.end()
  } catch (err) {
    if (err instanceof InvalidKeyError) throw new InvalidCertificateError(`malformed libp2p extension: ${err.message}`, { cause: err })
    throw err
  }
  if (!await hostKey.verify(concatBytes([SIGNED_KEY_PREFIX, parsed.spki]), signature)) {
    throw new InvalidCertificateError('the libp2p extension signature does not verify with the host key it carries')
  }
  return { peerId: peerIdFromPublicKey(hostKey), publicKey: hostKey, certificateSpki: parsed.spki, notBefore: parsed.notBefore, notAfter: parsed.notAfter }
}

interface ParsedCertificate {
  tbs: Uint8Array
  signatureAlgorithm: string
  signature: Uint8Array
  spki: Uint8Array
  notBefore: Date
  notAfter: Date
  libp2pExtension: Uint8Array
}

/** Structure only: every field read in order, bounded by DerReader. Throws InvalidKeyError or InvalidCertificateError. */
function parseCertificate (der: Uint8Array): ParsedCertificate {
  const outer = new DerReader(der)
  const certificate = new DerReader(outer.read(TAG_SEQUENCE))
  outer.end()
  const tbs = certificate.readEncoded(TAG_SEQUENCE)
  const signatureAlgorithm = readAlgorithm(certificate)
  const signature = certificate.readBitString()
  certificate.end()

  const fields = new DerReader(new DerReader(tbs).read(TAG_SEQUENCE))
  if (fields.peekTag() !== TAG_CONTEXT_0) throw new InvalidCertificateError('not an X.509 v3 certificate')
  const version = new DerReader(fields.read(TAG_CONTEXT_0))
  const versionValue = version.read(TAG_INTEGER)
  version.end()
  if (versionValue.length !== 1 || versionValue[0] !== 2) throw new InvalidCertificateError('not an X.509 v3 certificate')
  fields.read(TAG_INTEGER) // serial: any value
  if (readAlgorithm(fields) !== signatureAlgorithm) throw new InvalidCertificateError('the inner and outer signature algorithms differ')
  fields.read(TAG_SEQUENCE) // issuer
  const validity = new DerReader(fields.read(TAG_SEQUENCE))
  const notBefore = validity.readTime()
  const notAfter = validity.readTime()
  validity.end()
  fields.read(TAG_SEQUENCE) // subject
  const spki = fields.readEncoded(TAG_SEQUENCE)
  const next = fields.peekTag()
  if (next === 0x81 || next === 0x82 || next === 0xa1 || next === 0xa2) throw new InvalidCertificateError('the certificate carries the deprecated unique id fields')
  if (fields.peekTag() !== TAG_CONTEXT_3) throw new InvalidCertificateError('the certificate has no extensions, so no libp2p extension')
  const extensionsWrapper = new DerReader(fields.read(TAG_CONTEXT_3))
  const extensions = new DerReader(extensionsWrapper.read(TAG_SEQUENCE))
  extensionsWrapper.end()
  fields.end()

  let libp2pExtension: Uint8Array | undefined
  const seen = new Set<string>()
  while (!extensions.done) {
    const extension = new DerReader(extensions.read(TAG_SEQUENCE))
    const oid = extension.readOid()
    const critical = extension.peekTag() === TAG_BOOLEAN ? decodeBoolean(extension.read(TAG_BOOLEAN)) : false
    const value = extension.read(TAG_OCTET_STRING)
    extension.end()
    if (seen.has(oid)) throw new InvalidCertificateError(`extension ${oid} appears twice`)
    seen.add(oid)
    if (oid === LIBP2P_EXTENSION_OID) libp2pExtension = value
    else if (critical && !UNDERSTOOD_EXTENSIONS.has(oid)) throw new InvalidCertificateError(`unknown critical extension ${oid}`)
  }
  if (libp2pExtension === undefined) throw new InvalidCertificateError('the certificate has no libp2p public key extension')
  return { tbs, signatureAlgorithm, signature, spki, notBefore, notAfter, libp2pExtension }
}

/** Reads an AlgorithmIdentifier and returns its OID; parameters must be absent or NULL. */
function readAlgorithm (reader: DerReader): string {
  const algorithm = new DerReader(reader.read(TAG_SEQUENCE))
  const oid = algorithm.readOid()
  if (!algorithm.done) algorithm.read(0x05)
  algorithm.end()
  return oid
}

/** The certificate signature, checked with the certificate's own key (it is self-signed). */
async function verifySelfSignature (parsed: ParsedCertificate): Promise<boolean> {
  let key: PublicKey
  try {
    const spkiFields = new DerReader(new DerReader(parsed.spki).read(TAG_SEQUENCE))
    const algorithm = new DerReader(spkiFields.read(TAG_SEQUENCE)).readOid()
    const keyBits = spkiFields.readBitString()
    if (parsed.signatureAlgorithm === ECDSA_WITH_SHA256 && algorithm === EC_PUBLIC_KEY) key = publicKeyFromRaw('ECDSA', parsed.spki)
    else if (parsed.signatureAlgorithm === ED25519 && algorithm === ED25519) key = publicKeyFromRaw('Ed25519', keyBits)
    else if (parsed.signatureAlgorithm === SHA256_WITH_RSA && algorithm === RSA_ENCRYPTION) key = publicKeyFromRaw('RSA', parsed.spki)
    else throw new InvalidCertificateError(`unsupported certificate signature algorithm ${parsed.signatureAlgorithm} with key algorithm ${algorithm}`)
  } catch (err) {
    if (err instanceof InvalidKeyError) throw new InvalidCertificateError(`unusable certificate key: ${err.message}`, { cause: err })
    throw err
  }
  return await key.verify(parsed.tbs, parsed.signature)
}
