/**
 * What the dialer needs from DNS: A, AAAA and TXT lookups that can be cancelled. Two
 * implementations: Node's resolver (./resolver.node.ts, c-ares, configurable servers) and
 * DNS-over-HTTPS (./resolver.doh.ts, RFC 8484, for browsers or wherever port 53 is closed).
 * The package's `#dns-resolver` import picks one per runtime (./default-resolver.ts).
 */
import type { AbortOptions } from '../interface/common.ts'

export interface DnsResolver {
  /** The IPv4 addresses of `name` (text form). Rejects with DnsResolutionError when it has none. */
  resolve4(name: string, options?: AbortOptions): Promise<string[]>
  /** The IPv6 addresses of `name`. */
  resolve6(name: string, options?: AbortOptions): Promise<string[]>
  /** The TXT records of `name`, each the concatenation of its character-strings. */
  resolveTxt(name: string, options?: AbortOptions): Promise<string[]>
}

export interface DnsResolverOptions {
  /**
   * Node's resolver: the DNS servers to ask (`'10.0.0.53'`, `'[::1]:5353'`); default: the
   * system's. DNS-over-HTTPS: ignored (see `endpoint`).
   */
  servers?: string[]
  /** DNS-over-HTTPS: the RFC 8484 endpoint (default https://cloudflare-dns.com/dns-query). */
  endpoint?: string
  /** Per-query time limit in ms (default 5 s). */
  timeout?: number
  /** Records of one answer accepted at most (default 64); more is a DnsAnswerTooLargeError. */
  maxRecords?: number
}

export const DEFAULT_DNS_TIMEOUT = 5_000
export const DEFAULT_MAX_DNS_RECORDS = 64
