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

/** The public key of a DER SubjectPublicKeyInfo; throws what node:crypto throws for a bad one. */
export function publicKeyFromSpki (spki: Uint8Array): KeyObject {
  const base64 = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('base64')
  return createPublicKey(`-----BEGIN PUBLIC KEY-----\n${base64}\n-----END PUBLIC KEY-----\n`)
}
