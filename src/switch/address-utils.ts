/**
 * Multiaddr facts the switch needs: the peer id a multiaddr names, whether an address is
 * loopback / private / public, and a dial ranking (closest and cheapest first). Browser-safe.
 */
import { CODE_DNS, CODE_DNS4, CODE_DNS6, CODE_DNSADDR, CODE_IP4, CODE_IP6, CODE_P2P, CODE_P2P_CIRCUIT, CODE_TCP } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The peer id string of the last `/p2p/<id>` component, if any. */
export function peerIdStringOf (addr: Multiaddr): string | undefined {
  const components = addr.getComponents()
  for (let i = components.length - 1; i >= 0; i--) {
    if (components[i].code === CODE_P2P) return components[i].value
  }
  return undefined
}

/** The address without a trailing `/p2p/<id>` (a relay's /p2p inside a circuit address stays). */
export function withoutPeerId (addr: Multiaddr): Multiaddr {
  const components = addr.getComponents()
  const last = components[components.length - 1]
  return last?.code === CODE_P2P ? addr.decapsulateCode(CODE_P2P) : addr
}

export type Reachability = 'loopback' | 'private' | 'public'

function ip4Octets (ip: string): number[] | undefined {
  const parts = ip.split('.')
  if (parts.length !== 4) return undefined
  const octets = parts.map(Number)
  return octets.every(o => Number.isInteger(o) && o >= 0 && o <= 255) ? octets : undefined
}

/** Classifies an IP literal; anything unparsable counts as public (dial it last among IPs). */
export function classifyIp (ip: string): Reachability {
  const o = ip4Octets(ip)
  if (o !== undefined) {
    if (o[0] === 127) return 'loopback'
    if (o[0] === 10 || (o[0] === 172 && o[1] >= 16 && o[1] <= 31) || (o[0] === 192 && o[1] === 168) ||
      (o[0] === 169 && o[1] === 254) || (o[0] === 100 && o[1] >= 64 && o[1] <= 127) || o[0] === 0) return 'private'
    return 'public'
  }
  const lower = ip.toLowerCase()
  if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') return 'loopback'
  if (lower.startsWith('::ffff:')) return classifyIp(lower.slice(7))
  if (/^f[cd][0-9a-f]{2}:/.test(lower) || /^fe[89ab][0-9a-f]:/.test(lower) || lower === '::') return 'private'
  return 'public'
}

export function reachabilityOf (addr: Multiaddr): Reachability {
  const first = addr.getComponents()[0]
  if (first === undefined) return 'public'
  if (first.code === CODE_IP4 || first.code === CODE_IP6) return classifyIp(first.value ?? '')
  if (first.code === CODE_DNS || first.code === CODE_DNS4 || first.code === CODE_DNS6) {
    return first.value === 'localhost' ? 'loopback' : 'public'
  }
  return 'public'
}

/** Lower is dialed earlier: loopback < private < public, then plain TCP < other transports
 * < relayed, then IPv4 < IPv6 < DNS names. */
export function dialRank (addr: Multiaddr): number {
  const components = addr.getComponents()
  const locality = { loopback: 0, private: 1, public: 2 }[reachabilityOf(addr)]
  let transport = 1
  if (components.some(c => c.code === CODE_P2P_CIRCUIT)) transport = 2
  else if (components[1]?.code === CODE_TCP && (components.length === 2 || (components.length === 3 && components[2].code === CODE_P2P))) transport = 0
  const host = components[0]?.code
  const family = host === CODE_IP4 ? 0 : host === CODE_IP6 ? 1 : host === CODE_DNSADDR ? 3 : 2
  return transport * 100 + locality * 10 + family
}

/** Stable sort by dialRank; also drops exact duplicates. */
export function rankAddresses (addrs: Multiaddr[]): Multiaddr[] {
  const seen = new Set<string>()
  const unique: Array<{ addr: Multiaddr, rank: number, index: number }> = []
  for (const addr of addrs) {
    const key = addr.toString()
    if (seen.has(key)) continue
    seen.add(key)
    unique.push({ addr, rank: dialRank(addr), index: unique.length })
  }
  unique.sort((a, b) => a.rank - b.rank || a.index - b.index)
  return unique.map(u => u.addr)
}
