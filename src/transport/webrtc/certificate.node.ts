/**
 * The WebRTC Direct listener's DTLS certificate. Its sha-256 is the `/certhash/` of the listen
 * address, so it is kept in the data directory (PEM, key mode 0600) and the address stays the
 * same across restarts; it is renewed (new certhash) when less than RENEW_BEFORE of its life is
 * left. Without a directory it lives in a temporary one removed by `dispose()`: node-datachannel
 * reads certificates from files only.
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateEcdsaPrivateKey } from '../../crypto/ecdsa.ts'
import { randomBytes } from '../../crypto/index.ts'
import {
  TAG_CONTEXT_0, TAG_INTEGER, TAG_PRINTABLE_STRING, TAG_SEQUENCE, TAG_SET,
  derBitString, derEncode, derOid, derTime, derUnsignedInteger
} from '../../crypto/der.ts'
import { logger } from '../../util/logger.ts'

const log = logger('webrtc-direct:certificate')

const DAY = 24 * 60 * 60 * 1000
/** WebRTC checks fingerprints, not validity; a year keeps addresses stable for long. */
export const CERTIFICATE_LIFETIME = 365 * DAY
/** Renewed (a new certhash) when less than this is left. */
export const RENEW_BEFORE = 30 * DAY
const CLOCK_SKEW = 60 * 60 * 1000
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'
const ORGANIZATION = '2.5.4.10'
const CERT_FILE = 'webrtc-direct-certificate.pem'
const KEY_FILE = 'webrtc-direct-key.pem'

export interface DirectCertificate {
  certFile: string
  keyFile: string
  /** sha-256 of the DER: the DTLS fingerprint and the address's certhash. */
  fingerprint: Uint8Array
  notAfter: Date
  /** Removes a temporary directory (no-op for a data directory). */
  dispose(): Promise<void>
}

async function generatePem (notBefore: Date): Promise<{ certPem: string, keyPem: string }> {
  const key = generateEcdsaPrivateKey('P-256')
  const serial = randomBytes(16)
  serial[0] &= 0x7f
  const name = derEncode(TAG_SEQUENCE, derEncode(TAG_SET, derEncode(TAG_SEQUENCE,
    derOid(ORGANIZATION), derEncode(TAG_PRINTABLE_STRING, new TextEncoder().encode('ts-libp2p webrtc-direct')))))
  const algorithm = derEncode(TAG_SEQUENCE, derOid(ECDSA_WITH_SHA256))
  const tbs = derEncode(TAG_SEQUENCE,
    derEncode(TAG_CONTEXT_0, Uint8Array.of(TAG_INTEGER, 1, 2)), // v3
    derUnsignedInteger(serial),
    algorithm,
    name,
    derEncode(TAG_SEQUENCE, derTime(new Date(notBefore.getTime() - CLOCK_SKEW)), derTime(new Date(notBefore.getTime() + CERTIFICATE_LIFETIME))),
    name,
    key.publicKey.raw)
  const der = derEncode(TAG_SEQUENCE, tbs, algorithm, derBitString(await key.sign(tbs)))
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd()
  const certPem = `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`
  const keyPem = createPrivateKey({ key: Buffer.from(key.raw), format: 'der', type: 'sec1' }).export({ format: 'pem', type: 'pkcs8' }) as string
  return { certPem, keyPem }
}

function inspect (certPem: string): { fingerprint: Uint8Array, notAfter: Date } {
  const x = new X509Certificate(certPem)
  return { fingerprint: new Uint8Array(createHash('sha256').update(x.raw).digest()), notAfter: new Date(x.validTo) }
}

/**
 * The certificate kept in `directory` (made there when missing, unreadable or due for renewal),
 * or a fresh one in a temporary directory.
 */
export async function loadOrCreateDirectCertificate (directory?: string, now: () => number = Date.now): Promise<DirectCertificate> {
  const temporary = directory === undefined
  const dir = directory ?? await mkdtemp(join(tmpdir(), 'ts-libp2p-webrtc-'))
  const certFile = join(dir, CERT_FILE)
  const keyFile = join(dir, KEY_FILE)
  const dispose = async (): Promise<void> => { if (temporary) await rm(dir, { recursive: true, force: true }) }
  if (!temporary) {
    try {
      const certPem = await readFile(certFile, 'utf8')
      await readFile(keyFile, 'utf8')
      const facts = inspect(certPem)
      if (facts.notAfter.getTime() - now() > RENEW_BEFORE) return { certFile, keyFile, ...facts, dispose }
      log('renewing the certificate (expires %s)', facts.notAfter.toISOString())
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log('making a new certificate: %s', err)
    }
    await mkdir(dir, { recursive: true })
  }
  const { certPem, keyPem } = await generatePem(new Date(now()))
  // Written aside then renamed, so a crash never leaves half a certificate.
  await writeFile(keyFile + '.tmp', keyPem, { mode: 0o600 })
  await writeFile(certFile + '.tmp', certPem, { mode: 0o644 })
  await rename(keyFile + '.tmp', keyFile)
  await rename(certFile + '.tmp', certFile)
  return { certFile, keyFile, ...inspect(certPem), dispose }
}
