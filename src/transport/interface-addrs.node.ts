/**
 * Expands a wildcard listen address (`0.0.0.0` / `::`) into the concrete addresses of this
 * machine's network interfaces, keeping the bound port, the way go-libp2p and js-libp2p report
 * listen addresses. Node-only (uses node:os).
 */
import { networkInterfaces } from 'node:os'
import type { Multiaddr } from '@multiformats/multiaddr'
import { isLinkLocalIPv6 } from '../util/multiaddr.ts'
import { toMultiaddr } from './multiaddr-utils.ts'

/** Every interface address of the given family, as `/ipX/<ip>/tcp/<port>`. */
export function interfaceAddrs (family: 4 | 6, port: number): Multiaddr[] {
  const out: Multiaddr[] = []
  const seen = new Set<string>()
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      const infoFamily = info.family === 'IPv4' || (info.family as unknown) === 4 ? 4 : 6
      if (infoFamily !== family) continue
      // Link-local IPv6 needs a zone to be dialable; peers cannot use it, so it is not advertised.
      if (family === 6 && isLinkLocalIPv6(info.address)) continue
      if (seen.has(info.address)) continue
      seen.add(info.address)
      out.push(toMultiaddr(info.address, port, family))
    }
  }
  return out
}
