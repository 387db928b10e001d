/**
 * Certificate hashes in the addresses of the transports that authenticate a self-signed
 * certificate by its hash (WebTransport, webtransport/README.md; WebRTC Direct,
 * webrtc/webrtc-direct.md): each `/certhash/<mb>` is a multibase (base64url, prefix 'u')
 * multihash of a certificate's DER. Only sha2-256 is in use (browsers accept no other for
 * serverCertificateHashes, and WebRTC fingerprints are sha-256). Browser-safe: no Node built-ins.
 */
import { base64url } from 'multiformats/bases/base64'
import { CODE_CERTHASH, CODE_P2P, CODE_UDP } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { decodeMultibase } from '../peer/multibase.ts'
import { InvalidMultiaddrError } from '../util/errors.ts'
import { parseHost } from './multiaddr-utils.ts'

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

/** Where a certhash address points: an IP literal, a UDP port, the hashes, and the peer if named. */
export interface CerthashTarget {
  host: string
  port: number
  family: 4 | 6
  /** sha2-256 digests of the certificates the listener may present. */
  certhashes: Uint8Array[]
  peerId?: string
}

/**
 * Parses `/ip4|ip6/<ip>/udp/<port>/<protocols...>[/certhash/<mb>...][/p2p/<id>]`, where
 * `protocolCodes` are the components after `udp` (`webrtc-direct`; `quic-v1`, `webtransport`).
 * Undefined for any other shape, a DNS host, a bad certhash, or: to listen, any certhash or peer
 * id; to dial, port 0 or no certhash (there would be nothing to check a self-signed certificate
 * against).
 */
export function parseCerthashAddress (addr: Multiaddr, protocolCodes: readonly number[], mode: 'dial' | 'listen'): CerthashTarget | undefined {
  const components = addr.getComponents()
  const host = parseHost(components)
  if (host === undefined || host.family === 0) return undefined
  const udp = components[host.next]
  if (udp?.code !== CODE_UDP) return undefined
  for (const [i, code] of protocolCodes.entries()) if (components[host.next + 1 + i]?.code !== code) return undefined
  const port = Number(udp.value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined
  if (mode === 'dial' && port === 0) return undefined
  let peerId: string | undefined
  const rest = components.slice(host.next + 1 + protocolCodes.length)
  for (const [i, c] of rest.entries()) {
    if (c.code === CODE_CERTHASH && mode === 'dial') continue
    if (c.code === CODE_P2P && mode === 'dial' && i === rest.length - 1) { peerId = c.value; continue }
    return undefined
  }
  let certhashes: Uint8Array[]
  try {
    certhashes = certhashesOf(addr)
  } catch {
    return undefined
  }
  if (mode === 'dial' && certhashes.length === 0) return undefined
  return { host: host.host, port, family: host.family, certhashes, peerId }
}
