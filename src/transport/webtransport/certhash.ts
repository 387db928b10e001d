/**
 * Certificate hashes in WebTransport addresses (webtransport/README.md): each `/certhash/<mb>`
 * is a multibase (base64url, prefix 'u') multihash of a certificate's DER. Only sha2-256 is in
 * use (browsers accept no other for serverCertificateHashes). Browser-safe: no Node built-ins.
 */
import { base64url } from 'multiformats/bases/base64'
import { CODE_CERTHASH } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { decodeMultibase } from '../../peer/multibase.ts'
import { InvalidMultiaddrError } from '../../util/errors.ts'

/** Multihash code of sha2-256, and its digest length. */
export const SHA2_256 = 0x12
const SHA2_256_LENGTH = 32
/** Hashes per address at most (a listener advertises two). */
export const MAX_CERTHASHES = 8

/** `/certhash/` value of a sha2-256 digest. */
export function encodeCerthash (sha256Digest: Uint8Array): string {
  const multihash = new Uint8Array(2 + sha256Digest.length)
  multihash[0] = SHA2_256
  multihash[1] = sha256Digest.length
  multihash.set(sha256Digest, 2)
  return base64url.encode(multihash)
}

/** The sha2-256 digest a `/certhash/` value carries; throws InvalidMultiaddrError for anything else. */
export function decodeCerthash (text: string): Uint8Array {
  let multihash: Uint8Array | undefined
  try {
    multihash = decodeMultibase(text)
  } catch (err) {
    throw new InvalidMultiaddrError(`certhash ${text} is not valid multibase`, { cause: err })
  }
  if (multihash === undefined) throw new InvalidMultiaddrError(`certhash ${text} has an unknown multibase prefix`)
  if (multihash.length !== 2 + SHA2_256_LENGTH || multihash[0] !== SHA2_256 || multihash[1] !== SHA2_256_LENGTH) {
    throw new InvalidMultiaddrError(`certhash ${text} is not a sha2-256 multihash`)
  }
  return multihash.subarray(2)
}

/** Every certhash digest of an address, in order (at most MAX_CERTHASHES). */
export function certhashesOf (addr: Multiaddr): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const c of addr.getComponents()) {
    if (c.code !== CODE_CERTHASH || c.value === undefined) continue
    if (out.length >= MAX_CERTHASHES) throw new InvalidMultiaddrError(`more than ${MAX_CERTHASHES} certhashes`)
    out.push(decodeCerthash(c.value))
  }
  return out
}

export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
