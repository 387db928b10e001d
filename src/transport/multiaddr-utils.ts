/**
 * Multiaddr helpers shared by the socket-based transports (TCP now, WebSockets next): pull the
 * host and port out of `/(ip4|ip6|dns|dns4|dns6)/<host>/tcp/<port>` addresses, build multiaddrs from what a socket
 * reports, and recognise the exact address shapes a transport accepts.
 *
 * IP classification and peer-id helpers live in src/util/multiaddr.ts. Browser-safe: no Node
 * built-ins here (interface enumeration lives in interface-addrs.node.ts).
 */
import { multiaddr, CODE_DNS, CODE_DNS4, CODE_DNS6, CODE_IP4, CODE_IP6, CODE_IP6ZONE, CODE_P2P, CODE_TCP } from '@multiformats/multiaddr'
import type { Component, Multiaddr } from '@multiformats/multiaddr'
import { unmapIPv4 } from '../util/multiaddr.ts'

/** 4 = IPv4, 6 = IPv6, 0 = a DNS name (resolved when the socket connects). */
export type AddressFamily = 4 | 6 | 0

export interface HostPort {
  /** An IP literal (no brackets; an IPv6 zone is appended as `%zone`) or a DNS name. */
  host: string
  port: number
  family: AddressFamily
}

export interface ParsedAddress extends HostPort {
  /** Components after `/tcp/<port>` (e.g. `ws`, `p2p`); empty for a plain TCP address. */
  rest: Component[]
}

/** The host at the start of an address: its text (`%zone` appended), family, and where the rest starts. */
export interface ParsedHost {
  host: string
  family: AddressFamily
  /** Index of the first component after the host. */
  next: number
}

/** Reads `[/ip6zone/z]/(ip4|ip6|dns|dns4|dns6)/<host>` from the start; undefined for any other shape. */
export function parseHost (components: Component[]): ParsedHost | undefined {
  let i = 0
  let zone: string | undefined
  if (components[i]?.code === CODE_IP6ZONE) {
    zone = components[i].value
    i++
    if (components[i]?.code !== CODE_IP6) return undefined
  }
  const hostPart = components[i++]
  const host = hostPart?.value
  if (host === undefined || host.length === 0) return undefined
  let family: AddressFamily
  switch (hostPart.code) {
    case CODE_IP4: family = 4; break
    case CODE_IP6: family = 6; break
    case CODE_DNS: case CODE_DNS4: case CODE_DNS6: family = 0; break
    default: return undefined
  }
  return { host: zone !== undefined ? `${host}%${zone}` : host, family, next: i }
}

/**
 * Splits `[/ip6zone/z]/(ip4|ip6|dns|dns4|dns6)/<host>/tcp/<port>/...` into host, port and the
 * remaining components. Returns undefined for any other shape.
 */
export function parseIpTcp (addr: Multiaddr): ParsedAddress | undefined {
  const components = addr.getComponents()
  const parsed = parseHost(components)
  if (parsed === undefined) return undefined
  const tcpPart = components[parsed.next]
  if (tcpPart === undefined || tcpPart.code !== CODE_TCP) return undefined
  const port = Number(tcpPart.value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined
  return { host: parsed.host, port, family: parsed.family, rest: components.slice(parsed.next + 1) }
}

/** The DNS family hint for a `dns4`/`dns6` host, for `net.connect({ family })`. */
export function dnsFamilyHint (addr: Multiaddr): 4 | 6 | undefined {
  const code = addr.getComponents().find(c => c.code !== CODE_IP6ZONE)?.code
  return code === CODE_DNS4 ? 4 : code === CODE_DNS6 ? 6 : undefined
}

/** True for a dialable plain TCP address: ip/dns + tcp, optionally followed by `/p2p/<id>`. */
export function isTcpDialAddress (addr: Multiaddr): boolean {
  const parsed = parseIpTcp(addr)
  if (parsed === undefined || parsed.port === 0) return false
  return parsed.rest.length === 0 || (parsed.rest.length === 1 && parsed.rest[0].code === CODE_P2P)
}

/** True for a listenable plain TCP address: an IP literal + tcp (port 0 allowed), nothing after. */
export function isTcpListenAddress (addr: Multiaddr): boolean {
  const parsed = parseIpTcp(addr)
  return parsed !== undefined && parsed.family !== 0 && parsed.rest.length === 0
}

/**
 * Builds `/ip4|ip6/<ip>/tcp/<port>` (or `/ip6zone/<z>/ip6/...` for a zoned IPv6 address).
 * `family` accepts what Node's sockets report ('IPv4' / 'IPv6' / 4 / 6); when omitted it is
 * inferred from the text.
 */
export function toMultiaddr (ip: string, port: number, family?: string | number): Multiaddr {
  const unmapped = unmapIPv4(ip)
  const isV6 = family === undefined ? unmapped.family === 6 : (family === 6 || family === 'IPv6') && unmapped.family === 6
  if (!isV6) return multiaddr(`/ip4/${unmapped.ip}/tcp/${port}`)
  const zoneAt = unmapped.ip.indexOf('%')
  if (zoneAt >= 0) return multiaddr(`/ip6zone/${unmapped.ip.slice(zoneAt + 1)}/ip6/${unmapped.ip.slice(0, zoneAt)}/tcp/${port}`)
  return multiaddr(`/ip6/${unmapped.ip}/tcp/${port}`)
}
