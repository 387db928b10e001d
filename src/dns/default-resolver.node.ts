/** The default resolver in Node.js: Node's own (c-ares) with the system's servers unless told otherwise. */
import { NodeDnsResolver } from './resolver.node.ts'
import type { DnsResolver, DnsResolverOptions } from './resolver.ts'

export function defaultDnsResolver (options?: DnsResolverOptions): DnsResolver {
  return new NodeDnsResolver(options)
}
