/**
 * WebTransport addresses: `/ip4|ip6/<ip>/udp/<port>/quic-v1/webtransport[/certhash/<mb>...][/p2p/<id>]`
 * (webtransport/README.md). Browser-safe.
 */
import { multiaddr, CODE_CERTHASH, CODE_P2P, CODE_QUIC_V1, CODE_UDP, CODE_WEBTRANSPORT } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { parseHost } from '../multiaddr-utils.ts'
import { certhashesOf, encodeCerthash } from './certhash.ts'
import { LIBP2P_WEBTRANSPORT_PATH } from './session-headers.ts'

export interface WebTransportTarget {
  host: string
  port: number
  family: 4 | 6
  /** sha2-256 digests of the certificates the server may use. */
  certhashes: Uint8Array[]
  peerId?: string
}

/** Parses a WebTransport address; undefined for any other shape (or for DNS hosts). */
export function parseWebTransportAddress (addr: Multiaddr, mode: 'dial' | 'listen'): WebTransportTarget | undefined {
  const components = addr.getComponents()
  const host = parseHost(components)
  if (host === undefined || host.family === 0) return undefined
  const [udp, quic, wt] = components.slice(host.next, host.next + 3)
  if (udp?.code !== CODE_UDP || quic?.code !== CODE_QUIC_V1 || wt?.code !== CODE_WEBTRANSPORT) return undefined
  const port = Number(udp.value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined
  let peerId: string | undefined
  for (const [i, c] of components.slice(host.next + 3).entries()) {
    if (c.code === CODE_CERTHASH && mode === 'dial') continue
    if (c.code === CODE_P2P && mode === 'dial' && i === components.length - host.next - 4) { peerId = c.value; continue }
    return undefined
  }
  let certhashes: Uint8Array[]
  try {
    certhashes = certhashesOf(addr)
  } catch {
    return undefined
  }
  // Without a hash there is nothing to check a self-signed certificate against.
  if (mode === 'dial' && certhashes.length === 0) return undefined
  return { host: host.host, port, family: host.family, certhashes, peerId }
}

export function toWebTransportMultiaddr (ip: string, port: number, family: 4 | 6, certhashes: readonly Uint8Array[] = []): Multiaddr {
  return multiaddr(`/ip${family}/${ip}/udp/${port}/quic-v1/webtransport${certhashes.map(h => `/certhash/${encodeCerthash(h)}`).join('')}`)
}

/** The session URL of a target (IPv6 hosts in brackets). */
export function sessionUrl (target: { host: string, port: number, family: 4 | 6 }): string {
  return `https://${authorityOf(target)}${LIBP2P_WEBTRANSPORT_PATH}`
}

export function authorityOf (target: { host: string, port: number, family: 4 | 6 }): string {
  return target.family === 6 ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`
}
