/**
 * The dialer's address ranking: closest and cheapest first (loopback < private < link-local < public, plain
 * TCP < other transports < relayed, IPv4 < IPv6 < DNS names). Browser-safe.
 */
import { CODE_DNSADDR, CODE_IP4, CODE_IP6, CODE_P2P, CODE_TCP } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { isRelayed, reachabilityOf } from '../util/multiaddr.ts'

/** Lower is dialed earlier: loopback < private < link-local < public < unroutable, then plain TCP < other transports
 * < relayed, then IPv4 < IPv6 < DNS names. */
export function dialRank (addr: Multiaddr): number {
  const components = addr.getComponents()
  const locality = { loopback: 0, private: 1, 'link-local': 2, public: 3, unroutable: 4 }[reachabilityOf(addr)]
  let transport = 1
  if (isRelayed(addr)) transport = 2
  else if (components[1]?.code === CODE_TCP && (components.length === 2 || (components.length === 3 && components[2].code === CODE_P2P))) transport = 0
  const host = components[0]?.code
  const family = host === CODE_IP4 ? 0 : host === CODE_IP6 ? 1 : host === CODE_DNSADDR ? 3 : 2
  return transport * 100 + locality * 10 + family
}

/** Stable sort by dialRank; also drops exact duplicates. */
export function rankAddresses (addrs: Multiaddr[]): Multiaddr[] {
  // One address (a dial of an explicit address, the common case): nothing to order or drop.
  if (addrs.length <= 1) return addrs.slice()
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
