/**
 * node:crypto KeyObjects from DER SubjectPublicKeyInfo, made through PEM text.
 *
 * Why PEM: node:crypto tells a KeyObject from other key inputs with a private-brand check that
 * throws for everything else (Node 24's `isKeyObject`, `isCryptoKey`), and a `{ key, format:
 * 'der' }` or `{ format: 'jwk' }` argument goes through four such throws before OpenSSL sees the
 * key. A string skips them: importing P-256, Ed25519 and X25519 keys as PEM took about a third
 * of the time of DER or JWK objects in a micro-benchmark (Node 24.21), and every QUIC handshake
 * side imports three or four public keys. Signing and verifying likewise take the KeyObject
 * itself, not `{ key }` (the defaults, DER ECDSA signatures, are what TLS uses).
 */
import { createPublicKey } from 'node:crypto'
import type { KeyObject } from 'node:crypto'

function spkiBase64 (spki: Uint8Array): string {
  return Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('base64')
}

function importPem (base64: string): KeyObject {
  return createPublicKey(`-----BEGIN PUBLIC KEY-----\n${base64}\n-----END PUBLIC KEY-----\n`)
}

/** The public key of a DER SubjectPublicKeyInfo; throws what node:crypto throws for a bad one. */
export function publicKeyFromSpki (spki: Uint8Array): KeyObject {
  return importPem(spkiBase64(spki))
}

/**
 * How many long-lived public keys stay imported. Every QUIC/TLS handshake side imports its
 * peer's certificate key twice (the certificate's self-signature, then CertificateVerify) and
 * its host key once; reconnections to a peer meet the same keys again.
 */
const RECENT_KEYS_LIMIT = 64
/** Imported keys by their exact SubjectPublicKeyInfo (base64), least recently used first. */
const recentKeys = new Map<string, KeyObject>()

/**
 * `publicKeyFromSpki` for keys that come back (certificate and host keys, not ephemeral key
 * shares, which would only push the others out): an import costs tens of microseconds of
 * node:crypto, a hit one Map lookup over the base64 text the import needed anyway. Only keys
 * that imported are kept (a bad one throws every time), at most RECENT_KEYS_LIMIT of them.
 */
export function recentPublicKeyFromSpki (spki: Uint8Array): KeyObject {
  const base64 = spkiBase64(spki)
  let key = recentKeys.get(base64)
  if (key !== undefined) {
    recentKeys.delete(base64) // re-inserted below: Map order is the recency order
  } else {
    key = importPem(base64)
    if (recentKeys.size >= RECENT_KEYS_LIMIT) recentKeys.delete(recentKeys.keys().next().value as string)
  }
  recentKeys.set(base64, key)
  return key
}
