/**
 * The extended CONNECT (RFC 9220) that opens a WebTransport session, and its answer. libp2p
 * uses one path, `/.well-known/libp2p-webtransport?type=noise` (webtransport/README.md).
 *
 * `:protocol` is `webtransport` in the drafts Chromium and go-libp2p speak and `webtransport-h3`
 * in the newest; a listener accepts both, our dialer sends the older one every server knows.
 */
import type { HeaderField } from './qpack.ts'

export const LIBP2P_WEBTRANSPORT_PATH = '/.well-known/libp2p-webtransport?type=noise'
const PROTOCOLS = new Set(['webtransport', 'webtransport-h3'])

export function connectRequestFields (authority: string): HeaderField[] {
  return [
    [':method', 'CONNECT'],
    [':protocol', 'webtransport'],
    [':scheme', 'https'],
    [':authority', authority],
    [':path', LIBP2P_WEBTRANSPORT_PATH],
    ['sec-webtransport-http3-draft02', '1']
  ]
}

export type ConnectVerdict = { ok: true } | { ok: false, status: '400' | '404' | '405', reason: string }

/**
 * Whether a request opens a libp2p WebTransport session; when not, the HTTP status to answer
 * (404 for another path, 405 for another method, 400 for a malformed request).
 */
export function checkConnectRequest (fields: readonly HeaderField[]): ConnectVerdict {
  const pseudo = new Map<string, string>()
  let regularSeen = false
  for (const [name, value] of fields) {
    if (name !== name.toLowerCase()) return { ok: false, status: '400', reason: `uppercase field name ${name}` }
    if (name.startsWith(':')) {
      // RFC 9114 4.3: pseudo-headers come first, once each.
      if (regularSeen || pseudo.has(name)) return { ok: false, status: '400', reason: `misplaced or repeated ${name}` }
      pseudo.set(name, value)
    } else {
      regularSeen = true
    }
  }
  if (pseudo.get(':method') !== 'CONNECT') return { ok: false, status: '405', reason: `method ${pseudo.get(':method') ?? '(none)'}` }
  const protocol = pseudo.get(':protocol')
  if (protocol === undefined || !PROTOCOLS.has(protocol)) return { ok: false, status: '400', reason: `:protocol ${protocol ?? '(none)'}` }
  if (pseudo.get(':scheme') !== 'https' || pseudo.get(':authority') === undefined) return { ok: false, status: '400', reason: 'missing :scheme https or :authority' }
  if (pseudo.get(':path') !== LIBP2P_WEBTRANSPORT_PATH) return { ok: false, status: '404', reason: `path ${pseudo.get(':path') ?? '(none)'}` }
  return { ok: true }
}

export function connectResponseFields (status: string): HeaderField[] {
  return [[':status', status], ['sec-webtransport-http3-draft', 'draft02']]
}

/** The `:status` of a response field section, or undefined when it has none. */
export function responseStatus (fields: readonly HeaderField[]): string | undefined {
  for (const [name, value] of fields) if (name === ':status') return value
  return undefined
}
