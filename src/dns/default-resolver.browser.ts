/** The default resolver in browsers: DNS-over-HTTPS (they have no DNS API). */
import { DohDnsResolver } from './resolver.doh.ts'
import type { DnsResolver, DnsResolverOptions } from './resolver.ts'

export function defaultDnsResolver (options?: DnsResolverOptions): DnsResolver {
  return new DohDnsResolver(options)
}
