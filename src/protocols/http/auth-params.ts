/**
 * The wire pieces of the `libp2p-PeerID` HTTP authentication scheme (specs
 * http/peer-id-auth.md): auth-param headers (RFC 9110 11.2: `scheme name="value", ...`),
 * URL-safe base64, the data a signature covers, and server state sealed into `opaque` and
 * `bearer` values with an HMAC so the server can stay stateless.
 */
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { encodeVarintInto, varintLength } from '../../util/varint.ts'
import { utf8Decode, utf8Encode } from '../../util/bytes.ts'
import { HttpError } from './errors.ts'

export const PEER_ID_AUTH_SCHEME = 'libp2p-PeerID'
/** The protocol id of an authentication-only endpoint, listed in the well-known document. */
export const HTTP_PEER_ID_AUTH_PROTOCOL = '/http-peer-id-auth/1.0.0'
/** The spec's suggested bound for an authentication header. */
export const MAX_AUTH_HEADER_BYTES = 2048

/** An authentication header or value that is malformed, forged, stale or for another host. */
export class PeerIdAuthError extends HttpError {
  static readonly code = 'ERR_PEER_ID_AUTH'
  constructor (message: string = 'Peer ID authentication failed', status: number = 401, options?: ErrorOptions) {
    super(message, PeerIdAuthError.code, status, options)
    this.name = 'PeerIdAuthError'
  }
}

export function base64UrlEncode (bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i])
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_')
}

/** URL-safe base64, padding optional (the spec allows both). */
export function base64UrlDecode (text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) throw new PeerIdAuthError('invalid base64url value', 400)
  const unpadded = text.replace(/=+$/, '')
  if (unpadded.length % 4 === 1) throw new PeerIdAuthError('invalid base64url length', 400)
  const binary = atob(unpadded.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - unpadded.length % 4) % 4))
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

/**
 * Parses `libp2p-PeerID a="x", b="y"` into its parameters; undefined when the header is of
 * another scheme. Parameters may be separated by commas and/or whitespace (go-libp2p writes
 * Authentication-Info without commas). Duplicate names, bad syntax and oversized headers fail.
 */
export function parseAuthParams (header: string | null | undefined): Record<string, string> | undefined {
  if (header === null || header === undefined) return undefined
  if (header.length > MAX_AUTH_HEADER_BYTES) throw new PeerIdAuthError(`authentication header over ${MAX_AUTH_HEADER_BYTES} bytes`, 400)
  const trimmed = header.trim()
  if (!(trimmed.length === PEER_ID_AUTH_SCHEME.length || /[ \t]/.test(trimmed[PEER_ID_AUTH_SCHEME.length])) || trimmed.slice(0, PEER_ID_AUTH_SCHEME.length).toLowerCase() !== PEER_ID_AUTH_SCHEME.toLowerCase()) return undefined
  const params: Record<string, string> = {}
  const re = /[ \t,]*([A-Za-z0-9!#$%&'*+.^_`|~-]+)[ \t]*=[ \t]*(?:"((?:[^"\\]|\\[\t\x20-\x7e])*)"|([A-Za-z0-9!#$%&'*+.^_`|~=/-]+))/y
  let pos = PEER_ID_AUTH_SCHEME.length
  while (!/^[ \t,]*$/.test(trimmed.slice(pos))) {
    re.lastIndex = pos
    const m = re.exec(trimmed)
    if (m === null) throw new PeerIdAuthError('malformed authentication parameters', 400)
    const name = m[1].toLowerCase()
    if (Object.hasOwn(params, name)) throw new PeerIdAuthError(`authentication parameter ${name} repeated`, 400)
    params[name] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]
    pos = re.lastIndex
    // parameters are separated by a comma and/or whitespace
    if (pos < trimmed.length && !/[ \t,]/.test(trimmed[pos])) throw new PeerIdAuthError('malformed authentication parameters', 400)
  }
  return params
}

/** `libp2p-PeerID name="value", ...` (values are base64url or plain tokens: nothing to escape). */
export function formatAuthParams (params: Record<string, string>): string {
  return PEER_ID_AUTH_SCHEME + ' ' + Object.entries(params).map(([name, value]) => `${name}="${value}"`).join(', ')
}

/**
 * The bytes a signature covers: `libp2p-PeerID`, then each `name=value` sorted by name and
 * prefixed with its varint length. Strings are UTF-8, byte values go in as they are.
 */
export function dataToSign (parts: Array<[name: string, value: string | Uint8Array]>): Uint8Array {
  const encoded = parts
    .map(([name, value]): [string, Uint8Array] => {
      const head = utf8Encode(name + '=')
      const body = typeof value === 'string' ? utf8Encode(value) : value
      const part = new Uint8Array(head.length + body.length)
      part.set(head, 0)
      part.set(body, head.length)
      return [name, part]
    })
    .sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
  const prefix = utf8Encode(PEER_ID_AUTH_SCHEME)
  let size = prefix.length
  for (const [, part] of encoded) size += varintLength(part.length) + part.length
  const out = new Uint8Array(size)
  out.set(prefix, 0)
  let offset = prefix.length
  for (const [, part] of encoded) {
    offset = encodeVarintInto(part.length, out, offset)
    out.set(part, offset)
    offset += part.length
  }
  return out
}

const MAC_BYTES = 32

/** `base64url(HMAC-SHA256(key, json) || json)`: server state the client carries back unchanged. */
export function seal (key: Uint8Array, state: Record<string, unknown>): string {
  const json = utf8Encode(JSON.stringify(state))
  const mac = hmac(sha256, key, json)
  const out = new Uint8Array(MAC_BYTES + json.length)
  out.set(mac, 0)
  out.set(json, MAC_BYTES)
  return base64UrlEncode(out)
}

/** The state sealed by `seal` with the same key; a forged or damaged value fails. */
export function unseal (key: Uint8Array, value: string): Record<string, unknown> {
  const bytes = base64UrlDecode(value)
  if (bytes.length <= MAC_BYTES) throw new PeerIdAuthError('sealed value too short')
  const json = bytes.subarray(MAC_BYTES)
  const expected = hmac(sha256, key, json)
  let diff = 0
  for (let i = 0; i < MAC_BYTES; i++) diff |= expected[i] ^ bytes[i]
  if (diff !== 0) throw new PeerIdAuthError('sealed value was not made by this server')
  let state: unknown
  try {
    state = JSON.parse(utf8Decode(json))
  } catch {
    throw new PeerIdAuthError('sealed value is not JSON')
  }
  if (typeof state !== 'object' || state === null || Array.isArray(state)) throw new PeerIdAuthError('sealed value is not an object')
  return state as Record<string, unknown>
}
