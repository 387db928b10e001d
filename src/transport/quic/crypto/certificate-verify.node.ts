/**
 * CertificateVerify (RFC 8446 4.4.3): the signature, with the certificate's key, over 64 spaces,
 * a context string naming the signer's role, a zero byte and the transcript hash. We sign with
 * our libp2p certificate's ECDSA P-256 key; we verify ECDSA P-256/SHA-256, Ed25519 and
 * RSA-PSS/SHA-256 (the certificate keys other libp2p implementations may use) with node:crypto
 * over the certificate's SubjectPublicKeyInfo.
 */
import { createPrivateKey, sign as signWith, verify as verifySignature, constants } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import type { PrivateKey } from '../../../interface/keys.ts'
import { recentPublicKeyFromSpki } from '../../../crypto/key-object.node.ts'
import { QuicTlsError, TlsAlert } from './errors.ts'
import { SignatureScheme } from './tls-messages.ts'

const PAD = new Uint8Array(64).fill(0x20)
const SERVER_CONTEXT = new TextEncoder().encode('TLS 1.3, server CertificateVerify')
const CLIENT_CONTEXT = new TextEncoder().encode('TLS 1.3, client CertificateVerify')

/** The schemes we accept from peers, in the order we prefer them. */
export const ACCEPTED_SIGNATURE_SCHEMES = [SignatureScheme.ecdsaSecp256r1Sha256, SignatureScheme.ed25519, SignatureScheme.rsaPssRsaeSha256]

/** What the signer of `role` signs. */
export function certificateVerifyContent (signer: 'client' | 'server', transcriptHash: Uint8Array): Uint8Array {
  const context = signer === 'server' ? SERVER_CONTEXT : CLIENT_CONTEXT
  const content = new Uint8Array(PAD.length + context.length + 1 + transcriptHash.length)
  content.set(PAD)
  content.set(context, PAD.length)
  content.set(transcriptHash, PAD.length + context.length + 1)
  return content
}

/** The scheme our certificate key signs with. */
export function signatureSchemeOf (key: PrivateKey): number {
  if (key.type === 'ECDSA') return SignatureScheme.ecdsaSecp256r1Sha256
  if (key.type === 'Ed25519') return SignatureScheme.ed25519
  throw new QuicTlsError(`cannot sign CertificateVerify with a ${key.type} certificate key`, TlsAlert.internalError)
}

/** node:crypto key objects of our certificate keys, made once per key (OpenSSL signs P-256 far faster than JS). */
const signingKeys = new WeakMap<PrivateKey, KeyObject>()

/** Signs the content: ECDSA yields the DER ECDSA-Sig-Value TLS expects, Ed25519 the raw 64 bytes. */
export async function signCertificateVerify (key: PrivateKey, content: Uint8Array): Promise<{ scheme: number, signature: Uint8Array }> {
  const scheme = signatureSchemeOf(key)
  if (key.type !== 'ECDSA') return { scheme, signature: await key.sign(content) }
  let keyObject = signingKeys.get(key)
  if (keyObject === undefined) {
    // The ECDSA private key's raw form is SEC1 DER (crypto/ecdsa.ts).
    keyObject = createPrivateKey({ key: Buffer.from(key.raw), format: 'der', type: 'sec1' })
    signingKeys.set(key, keyObject)
  }
  return { scheme, signature: new Uint8Array(signWith('sha256', content, keyObject)) }
}

/**
 * Checks the peer's CertificateVerify with the key of its certificate (`spki`, DER). Throws a
 * QuicTlsError: illegal_parameter for a scheme we did not offer or that does not fit the key,
 * decrypt_error for a signature that does not verify.
 */
export function verifyCertificateVerify (spki: Uint8Array, scheme: number, signature: Uint8Array, content: Uint8Array): void {
  if (!(ACCEPTED_SIGNATURE_SCHEMES as number[]).includes(scheme)) throw new QuicTlsError(`signature scheme 0x${scheme.toString(16)} was not offered`, TlsAlert.illegalParameter)
  let key: KeyObject
  try {
    // The certificate check imported this key a moment ago (and a reconnection meets it again).
    key = recentPublicKeyFromSpki(spki)
  } catch (err) {
    throw new QuicTlsError('the certificate key cannot be loaded', TlsAlert.badCertificate, { cause: err })
  }
  const details = key.asymmetricKeyDetails
  let ok: boolean
  try {
    if (scheme === SignatureScheme.ecdsaSecp256r1Sha256 && key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') {
      // The KeyObject itself: DER signatures are the default (key-object.node.ts says why).
      ok = verifySignature('sha256', content, key, signature)
    } else if (scheme === SignatureScheme.ed25519 && key.asymmetricKeyType === 'ed25519') {
      ok = verifySignature(null, content, key, signature)
    } else if (scheme === SignatureScheme.rsaPssRsaeSha256 && key.asymmetricKeyType === 'rsa') {
      ok = verifySignature('sha256', content, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature)
    } else {
      throw new QuicTlsError(`signature scheme 0x${scheme.toString(16)} does not match the ${key.asymmetricKeyType ?? 'unknown'} certificate key`, TlsAlert.illegalParameter)
    }
  } catch (err) {
    if (err instanceof QuicTlsError) throw err
    ok = false
  }
  if (!ok) throw new QuicTlsError('CertificateVerify signature does not verify', TlsAlert.decryptError)
}
