/**
 * The listener's TLS certificates (webtransport/README.md): self-signed ECDSA P-256, valid at
 * most 14 days (browsers refuse longer ones for serverCertificateHashes), with one keyUsage
 * extension (Chromium refuses a certificate with no extension at all).
 *
 * Two certificates overlap so an address stays dialable across a rotation: the current one,
 * served now, and the next one, valid from halfway through the current one's life. The listen
 * address lists both hashes. When the current one has less than a day left it is dropped, the
 * next becomes current and a new next one is made. With a `file`, both are persisted (keys
 * included, mode 0600) so the address is the same after a restart while they are valid.
 */
import { createHash } from 'node:crypto'
import { readFile, writeFile, mkdir, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateEcdsaPrivateKey, ecdsaPrivateKeyFromRaw } from '../../crypto/ecdsa.ts'
import type { EcdsaPrivateKey } from '../../crypto/ecdsa.ts'
import { randomBytes } from '../../crypto/index.ts'
import {
  DerReader, TAG_CONTEXT_0, TAG_CONTEXT_3, TAG_INTEGER, TAG_OCTET_STRING, TAG_PRINTABLE_STRING, TAG_SEQUENCE, TAG_SET,
  derBitString, derBoolean, derEncode, derOid, derTime, derUnsignedInteger
} from '../../crypto/der.ts'
import { InvalidCertificateError } from '../../util/errors.ts'
import { logger } from '../../util/logger.ts'

const log = logger('webtransport:certificates')

const DAY = 24 * 60 * 60 * 1000
/** Browsers accept at most 14 days; we stay a little below. */
export const CERTIFICATE_LIFETIME = 14 * DAY - 60 * 60 * 1000
/** Rotate when the current certificate has less than this left. */
const ROTATE_BEFORE = DAY
/** Backdating for clock skew, inside the lifetime. */
const CLOCK_SKEW = 60 * 60 * 1000
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'
const KEY_USAGE = '2.5.29.15'
const ORGANIZATION = '2.5.4.10'
/** Certificates larger than this are refused before parsing. */
const MAX_CERTIFICATE_LENGTH = 16 * 1024

export interface WebTransportCertificate {
  der: Uint8Array
  certificateKey: EcdsaPrivateKey
  notBefore: Date
  notAfter: Date
  /** sha2-256 of `der`: the `/certhash/` of the address. */
  sha256: Uint8Array
}

/** A certificate valid for [notBefore, notBefore + CERTIFICATE_LIFETIME). */
export async function generateWebTransportCertificate (notBefore: Date): Promise<WebTransportCertificate> {
  const certificateKey = generateEcdsaPrivateKey('P-256')
  const notAfter = new Date(notBefore.getTime() + CERTIFICATE_LIFETIME)
  const serial = randomBytes(16)
  serial[0] &= 0x7f
  const name = derEncode(TAG_SEQUENCE, derEncode(TAG_SET, derEncode(TAG_SEQUENCE,
    derOid(ORGANIZATION), derEncode(TAG_PRINTABLE_STRING, new TextEncoder().encode('ts-libp2p webtransport')))))
  const algorithm = derEncode(TAG_SEQUENCE, derOid(ECDSA_WITH_SHA256))
  // keyUsage = digitalSignature (bit 0): BIT STRING, 7 unused bits, 0x80.
  const keyUsage = derEncode(TAG_SEQUENCE, derOid(KEY_USAGE), derBoolean(true), derEncode(TAG_OCTET_STRING, Uint8Array.of(0x03, 0x02, 0x07, 0x80)))
  const tbs = derEncode(TAG_SEQUENCE,
    derEncode(TAG_CONTEXT_0, Uint8Array.of(TAG_INTEGER, 1, 2)), // v3
    derUnsignedInteger(serial),
    algorithm,
    name,
    derEncode(TAG_SEQUENCE, derTime(notBefore), derTime(notAfter)),
    name,
    certificateKey.publicKey.raw,
    derEncode(TAG_CONTEXT_3, derEncode(TAG_SEQUENCE, keyUsage)))
  const der = derEncode(TAG_SEQUENCE, tbs, algorithm, derBitString(await certificateKey.sign(tbs)))
  return { der, certificateKey, notBefore, notAfter, sha256: sha256(der) }
}

export function sha256 (data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}

/** The SubjectPublicKeyInfo (DER) and validity of a certificate; bounded, typed errors. */
export function readCertificate (der: Uint8Array): { spki: Uint8Array, notBefore: Date, notAfter: Date } {
  if (der.length > MAX_CERTIFICATE_LENGTH) throw new InvalidCertificateError(`certificate of ${der.length} bytes is too large`)
  const outer = new DerReader(der)
  const certificate = new DerReader(outer.read(TAG_SEQUENCE))
  outer.end()
  const fields = new DerReader(certificate.read(TAG_SEQUENCE))
  if (fields.peekTag() === TAG_CONTEXT_0) fields.read(TAG_CONTEXT_0)
  fields.read(TAG_INTEGER)
  fields.read(TAG_SEQUENCE) // signature algorithm
  fields.read(TAG_SEQUENCE) // issuer
  const validity = new DerReader(fields.read(TAG_SEQUENCE))
  const notBefore = validity.readTime()
  const notAfter = validity.readTime()
  fields.read(TAG_SEQUENCE) // subject
  const spki = fields.readEncoded(TAG_SEQUENCE)
  return { spki, notBefore, notAfter }
}

interface StoredCertificate { der: string, key: string }

export interface CertificateSetOptions {
  /** Where both certificates are kept across restarts (JSON; absent: memory only). */
  file?: string
  /** The clock (tests move it). */
  now?: () => number
}

/** The current and next certificates of a listener, rotated and persisted. */
export class CertificateSet {
  readonly #file: string | undefined
  readonly #now: () => number
  #certificates: WebTransportCertificate[] = []

  constructor (options: CertificateSetOptions = {}) {
    this.#file = options.file
    this.#now = options.now ?? Date.now
  }

  /** The certificate to serve now. */
  get current (): WebTransportCertificate { return this.#certificates[0] }
  /** Both certificates, current first: the address lists their hashes in this order. */
  get all (): readonly WebTransportCertificate[] { return this.#certificates }

  #loading: Promise<boolean> | undefined

  /**
   * Loads the persisted pair (when still usable) and completes it; true when anything changed.
   * Concurrent calls (listeners starting together) share one load.
   */
  async load (): Promise<boolean> {
    this.#loading ??= this.#load().finally(() => { this.#loading = undefined })
    return await this.#loading
  }

  async #load (): Promise<boolean> {
    if (this.#file !== undefined && this.#certificates.length === 0) {
      try {
        const stored = JSON.parse(await readFile(this.#file, 'utf8')) as StoredCertificate[]
        if (!Array.isArray(stored) || stored.length > 4) throw new InvalidCertificateError('not a certificate list')
        for (const s of stored) {
          const der = Uint8Array.from(Buffer.from(String(s.der), 'base64'))
          const { notBefore, notAfter } = readCertificate(der)
          this.#certificates.push({ der, certificateKey: ecdsaPrivateKeyFromRaw(Uint8Array.from(Buffer.from(String(s.key), 'base64'))), notBefore, notAfter, sha256: sha256(der) })
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log('ignoring the stored certificates: %s', err)
        this.#certificates = []
      }
    }
    return await this.rotate()
  }

  #rotations: Promise<unknown> = Promise.resolve()

  /**
   * Drops a certificate near its end and makes what is missing; true when anything changed.
   * Calls run one after another (each listener's timer calls it).
   */
  async rotate (): Promise<boolean> {
    const run = this.#rotations.then(async () => await this.#rotate())
    this.#rotations = run.catch(() => {})
    return await run
  }

  async #rotate (): Promise<boolean> {
    const now = this.#now()
    const before = this.#certificates.map(c => c.notAfter.getTime()).join()
    this.#certificates = this.#certificates
      .filter(c => c.notBefore.getTime() <= now + CERTIFICATE_LIFETIME && c.notAfter.getTime() - now > ROTATE_BEFORE && c.notAfter.getTime() - c.notBefore.getTime() <= 14 * DAY)
      .sort((a, b) => a.notBefore.getTime() - b.notBefore.getTime())
      .slice(0, 2)
    if (this.#certificates.length === 0 || this.#certificates[0].notBefore.getTime() > now) {
      this.#certificates = [await generateWebTransportCertificate(new Date(now - CLOCK_SKEW))]
    }
    if (this.#certificates.length === 1) {
      const current = this.#certificates[0]
      const half = current.notBefore.getTime() + (current.notAfter.getTime() - current.notBefore.getTime()) / 2
      this.#certificates.push(await generateWebTransportCertificate(new Date(half)))
    }
    const changed = this.#certificates.map(c => c.notAfter.getTime()).join() !== before
    if (changed) await this.#save()
    return changed
  }

  /** When `rotate()` has work to do next (ms since the epoch). */
  get nextRotation (): number { return this.#certificates[0].notAfter.getTime() - ROTATE_BEFORE }

  async #save (): Promise<void> {
    if (this.#file === undefined) return
    const stored: StoredCertificate[] = this.#certificates.map(c => ({ der: Buffer.from(c.der).toString('base64'), key: Buffer.from(c.certificateKey.raw).toString('base64') }))
    await mkdir(dirname(this.#file), { recursive: true, mode: 0o700 })
    const temporary = `${this.#file}.${process.pid}.tmp`
    await writeFile(temporary, JSON.stringify(stored), { mode: 0o600 })
    await rename(temporary, this.#file)
  }
}
