/**
 * Name resolution for dialing: `/dns`, `/dns4`, `/dns6` and `/dnsaddr` multiaddrs to IP ones
 * (./resolve-multiaddr.ts), through Node's resolver or DNS-over-HTTPS (./resolver.node.ts,
 * ./resolver.doh.ts), and the DNS message codec mDNS and DoH share (./message.ts).
 * The dialer resolves every host-named address with the runtime's default resolver unless the
 * node's `dns` option gives another (`dnsResolver({ servers: ['10.0.0.53'] })`).
 */
import { defaultDnsResolver } from '#dns-resolver'
import type { DnsResolver, DnsResolverOptions } from './resolver.ts'

export type { DnsResolver, DnsResolverOptions } from './resolver.ts'
export { DohDnsResolver, DEFAULT_DOH_ENDPOINT } from './resolver.doh.ts'
export { resolveMultiaddr, needsDnsResolution } from './resolve-multiaddr.ts'
export type { DnsaddrLimits, ResolveMultiaddrOptions } from './resolve-multiaddr.ts'
export { DnsResolutionError, DnsAnswerTooLargeError, DnsaddrLoopError, DnsaddrLimitError, InvalidDnsMessageError } from './errors.ts'

/** The runtime's resolver (Node: Node's own; browsers: DNS-over-HTTPS) with these options. */
export function dnsResolver (options?: DnsResolverOptions): DnsResolver {
  return defaultDnsResolver(options)
}
