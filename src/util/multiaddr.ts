/**
 * Multiaddr facts every layer needs, in one place: the peer id an address names (its trailing
 * `/p2p/<id>`), the address without it, whether it is relayed, and what kind of IP it carries
 * (loopback, private, link-local, public; wildcard, IPv4-mapped IPv6) and the IP of its host.
 * Protocol codes come from the multiaddr package; IP literals are parsed by util/ip.ts. Browser-safe.
 */
import { CODE_DNS, CODE_DNS4, CODE_DNS6, CODE_DNSADDR, CODE_IP4, CODE_IP6, CODE_IP6ZONE, CODE_P2P, CODE_P2P_CIRCUIT } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { cidrContains, parseCidr, parseIp } from './ip.ts'
import type { Cidr } from './ip.ts'

/**
 * The peer id string of a trailing `/p2p/<id>`: the peer the address reaches. A relay's
 * `/p2p/<relay>` before `/p2p-circuit` is not it, so a bare circuit address has none.
 */
export function peerIdStringOf (addr: Multiaddr): string | undefined {
  const components = addr.getComponents()
  const last = components[components.length - 1]
  return last?.code === CODE_P2P ? last.value : undefined
}

/** The address without a trailing `/p2p/<id>` (a relay's /p2p inside a circuit address stays). */
export function withoutPeerId (addr: Multiaddr): Multiaddr {
  const components = addr.getComponents()
  return components[components.length - 1]?.code === CODE_P2P ? addr.decapsulateCode(CODE_P2P) : addr
}

/**
 * True when the address starts with a host name that must be resolved before dialing. Here, not
 * in dns/, so a dialer can ask without loading the resolution code (dns/resolve-multiaddr.ts).
 */
export function needsDnsResolution (addr: Multiaddr): boolean {
  const code = addr.getComponents()[0]?.code
  return code === CODE_DNS || code === CODE_DNS4 || code === CODE_DNS6 || code === CODE_DNSADDR
}

/** True when the address goes through a relay (`/p2p-circuit`). */
export function isRelayed (addr: Multiaddr): boolean {
  return addr.getComponents().some(c => c.code === CODE_P2P_CIRCUIT)
}

/**
 * Where an IP can be reached from: this host only, a private network, the local link only
 * (IPv4 169.254/16, IPv6 fe80::/10: never routed, and IPv6 ones need a zone), nowhere
 * (`unroutable`: documentation, benchmarking, multicast and reserved ranges, which go-libp2p
 * also never counts as public), or anywhere.
 */
export type Reachability = 'loopback' | 'private' | 'link-local' | 'unroutable' | 'public'

/**
 * Ranges a deployment declares public although they are not by the RFCs: a lab's "internet"
 * in 11.0.0.0/8 or 10.0.0.0/8, a private network whose peers must treat each other as public
 * (the CLI's `--public-cidr`, createLibp2p's `addresses.publicCidrs`). Parse them once with
 * parsePublicRanges.
 */
export type PublicRanges = readonly Cidr[]

/** Parses CIDR texts (`11.0.0.0/8`, `fd00::/8`) into PublicRanges; throws InvalidParametersError. */
export function parsePublicRanges (cidrs: readonly string[] = []): PublicRanges {
  return cidrs.map(parseCidr)
}

/**
 * Classifies an IP literal (IPv4, IPv6, IPv4-mapped IPv6, with or without a `%zone`). Private
 * covers RFC 1918, CGNAT (100.64/10), 0/8, the IPv6 unspecified address and unique-local
 * fc00::/7. Unroutable covers the IPv4 ranges of RFC 5737 (192.0.2/24, 198.51.100/24,
 * 203.0.113/24), 192.0.0/26, 192.88.99/24 (6to4 relay anycast, deprecated), 198.18/15
 * (benchmarking), 224/4 (multicast) and 240/4 (reserved, with the broadcast address), and, in
 * IPv6, everything outside global unicast 2000::/3 and the NAT64 prefixes (64:ff9b::/96,
 * 64:ff9b:1::/48), plus the documentation prefix 2001:db8::/32. Anything unparsable counts as
 * public (dialed last among IPs). An IP inside one of `publicRanges` is public whatever its
 * class (this is the one place that decides "public").
 */
export function classifyIp (ip: string, publicRanges?: PublicRanges): Reachability {
  const bytes = parseIp(ip)
  return bytes === undefined ? 'public' : classifyIpBytes(bytes, publicRanges)
}

/** classifyIp for the 4 or 16 bytes util/ip.ts's parseIp gives. */
export function classifyIpBytes (b: Uint8Array, publicRanges?: PublicRanges): Reachability {
  if (publicRanges !== undefined && publicRanges.length > 0) {
    for (const range of publicRanges) if (cidrContains(range, b)) return 'public'
  }
  if (b.length === 4) {
    if (b[0] === 127) return 'loopback'
    if (b[0] === 169 && b[1] === 254) return 'link-local'
    if (b[0] === 10 || (b[0] === 172 && b[1] >= 16 && b[1] <= 31) || (b[0] === 192 && b[1] === 168) ||
      (b[0] === 100 && b[1] >= 64 && b[1] <= 127) || b[0] === 0) return 'private'
    return isUnroutableIPv4(b) ? 'unroutable' : 'public'
  }
  if (zeroUpTo(b, 15) && b[15] === 1) return 'loopback'
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return 'link-local'
  if ((b[0] & 0xfe) === 0xfc || zeroUpTo(b, 16)) return 'private'
  return isGlobalIPv6(b) ? 'public' : 'unroutable'
}

/**
 * True for a LAN or cluster address (private or link-local by classifyIpBytes): the switch
 * limits these per address but not per /24 or /48, since one LAN, container bridge or
 * Kubernetes pod network puts many honest peers in one subnet, and a flood from inside it
 * comes from hosts the attacker already holds.
 */
export function isLanIpBytes (b: Uint8Array): boolean {
  const reachability = classifyIpBytes(b)
  return reachability === 'private' || reachability === 'link-local'
}

function isUnroutableIPv4 (b: Uint8Array): boolean {
  const [a, c, d] = [b[0], b[1], b[2]]
  return a >= 224 || // multicast 224/4, reserved 240/4 and 255.255.255.255
    (a === 192 && c === 0 && d === 0 && b[3] < 64) || // 192.0.0/26
    (a === 192 && c === 0 && d === 2) || (a === 198 && c === 51 && d === 100) || (a === 203 && c === 0 && d === 113) ||
    (a === 192 && c === 88 && d === 99) ||
    (a === 198 && (c === 18 || c === 19))
}

/** Global unicast (2000::/3) without the documentation prefix, or a NAT64 address. */
function isGlobalIPv6 (b: Uint8Array): boolean {
  if ((b[0] & 0xe0) === 0x20) return !(b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8)
  if (b[0] !== 0x00 || b[1] !== 0x64 || b[2] !== 0xff || b[3] !== 0x9b) return false
  return (b[4] === 0x00 && b[5] === 0x01) || zeroUpTo(b.subarray(4), 8) // 64:ff9b:1::/48 or 64:ff9b::/96
}

/** True when the first `end` bytes are zero. */
function zeroUpTo (bytes: Uint8Array, end: number): boolean {
  for (let i = 0; i < end; i++) if (bytes[i] !== 0) return false
  return true
}

/**
 * The reachability of an address's host: an IP's class (public inside `publicRanges`);
 * `localhost` names are loopback.
 */
export function reachabilityOf (addr: Multiaddr, publicRanges?: PublicRanges): Reachability {
  const first = addr.getComponents()[0]
  if (first === undefined) return 'public'
  if (first.code === CODE_IP4 || first.code === CODE_IP6) return classifyIp(first.value ?? '', publicRanges)
  if (first.code === CODE_DNS || first.code === CODE_DNS4 || first.code === CODE_DNS6) {
    return first.value === 'localhost' ? 'loopback' : 'public'
  }
  return 'public'
}

/**
 * The IP literal of an address's host (`/ip4/<ip>` or `/ip6/<ip>` first, after an optional
 * `/ip6zone`), without zone; undefined for DNS names and other hosts. A relayed address gives
 * the relay's IP: that is who the socket talks to.
 */
export function ipOf (addr: Multiaddr): string | undefined {
  const components = addr.getComponents()
  const host = components[0]?.code === CODE_IP6ZONE ? components[1] : components[0]
  return host !== undefined && (host.code === CODE_IP4 || host.code === CODE_IP6) ? host.value : undefined
}

/** True for the unspecified ("listen on every interface") addresses, 0.0.0.0 and ::. */
export function isWildcardIp (ip: string): boolean {
  const bytes = parseIp(ip)
  return bytes !== undefined && zeroUpTo(bytes, bytes.length)
}

/** True for 127.0.0.0/8 and ::1. */
export function isLoopbackIp (ip: string): boolean {
  return classifyIp(ip) === 'loopback'
}

/** True for IPv6 link-local (fe80::/10), which is unusable without a zone. */
export function isLinkLocalIPv6 (ip: string): boolean {
  const bytes = parseIp(ip)
  return bytes?.length === 16 && classifyIpBytes(bytes) === 'link-local'
}

/** Maps an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) to plain IPv4, as peers expect to see it. */
export function unmapIPv4 (ip: string): { ip: string, family: 4 | 6 } {
  if (ip.includes(':')) {
    const lower = ip.toLowerCase()
    if (lower.startsWith('::ffff:') && lower.includes('.')) return { ip: lower.slice(7), family: 4 }
    return { ip, family: 6 }
  }
  return { ip, family: 4 }
}
