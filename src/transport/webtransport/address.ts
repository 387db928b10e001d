/**
 * WebTransport addresses: `/ip4|ip6/<ip>/udp/<port>/quic-v1/webtransport[/certhash/<mb>...][/p2p/<id>]`
 * (webtransport/README.md). Browser-safe.
 */
import { multiaddr, CODE_QUIC_V1, CODE_WEBTRANSPORT } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { encodeCerthash, parseCerthashAddress } from '../certhash.ts'
import type { CerthashTarget } from '../certhash.ts'
import { LIBP2P_WEBTRANSPORT_PATH } from './session-headers.ts'

/** Where a WebTransport address points; its certhashes are those of the certificates the server may use. */
export type WebTransportTarget = CerthashTarget

/** Parses a WebTransport address; undefined for any other shape (or for DNS hosts). */
export function parseWebTransportAddress (addr: Multiaddr, mode: 'dial' | 'listen'): WebTransportTarget | undefined {
  return parseCerthashAddress(addr, [CODE_QUIC_V1, CODE_WEBTRANSPORT], mode)
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
