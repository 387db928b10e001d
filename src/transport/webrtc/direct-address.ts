/**
 * WebRTC Direct addresses: `/ip4|ip6/<ip>/udp/<port>/webrtc-direct[/certhash/<mb>...][/p2p/<id>]`
 * (webrtc/webrtc-direct.md). A dial needs at least one certhash (sha2-256 of the listener's
 * certificate: the DTLS fingerprint to expect). Browser-safe.
 */
import { multiaddr, CODE_CERTHASH, CODE_P2P, CODE_UDP, CODE_WEBRTC_DIRECT } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { parseHost } from '../multiaddr-utils.ts'
import { certhashesOf, encodeCerthash } from '../webtransport/certhash.ts'

export interface WebRTCDirectTarget {
  host: string
  port: number
  family: 4 | 6
  /** sha2-256 digests of the listener's certificate. */
  certhashes: Uint8Array[]
  peerId?: string
}

/** Parses a WebRTC Direct address; undefined for any other shape (or a DNS host). */
export function parseWebRTCDirectAddress (addr: Multiaddr, mode: 'dial' | 'listen'): WebRTCDirectTarget | undefined {
  const components = addr.getComponents()
  const host = parseHost(components)
  if (host === undefined || host.family === 0) return undefined
  const [udp, direct] = components.slice(host.next, host.next + 2)
  if (udp?.code !== CODE_UDP || direct?.code !== CODE_WEBRTC_DIRECT) return undefined
  const port = Number(udp.value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined
  if (mode === 'dial' && port === 0) return undefined
  let peerId: string | undefined
  const rest = components.slice(host.next + 2)
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

export function toWebRTCDirectMultiaddr (ip: string, port: number, family: 4 | 6, certhashes: readonly Uint8Array[] = []): Multiaddr {
  return multiaddr(`/ip${family}/${ip}/udp/${port}/webrtc-direct${certhashes.map(h => `/certhash/${encodeCerthash(h)}`).join('')}`)
}
