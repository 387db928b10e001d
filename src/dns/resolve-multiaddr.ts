/**
 * Multiaddrs that name hosts, turned into ones that name IPs, before dialing (addressing spec,
 * and the dnsaddr spec of multiformats/multiaddr):
 *
 * - `/dns4/<host>/...` -> `/ip4/<A>/...` per A record, `/dns6` -> `/ip6/<AAAA>/...`, `/dns` ->
 *   both. A TLS WebSocket keeps the host name for certificate checks: `/dns4/h/tcp/443/wss`
 *   becomes `/ip4/<A>/tcp/443/tls/sni/h/ws`.
 * - `/dnsaddr/<host>[/p2p/<id>]` -> the `dnsaddr=<multiaddr>` TXT records of `_dnsaddr.<host>`,
 *   each resolved again, recursively. When the dial names a peer (a trailing `/p2p/<id>`, or the
 *   peer being dialed), records for other peers are dropped: one `_dnsaddr` name usually lists
 *   several peers (bootstrap.libp2p.io lists all of its nodes).
 *
 * A `_dnsaddr` chain is hostile input as much as a packet is, so it has limits: depth
 * (`maxDepth`), total addresses (`maxAddresses`), time (`timeout`, for the whole chain), and a
 * name met again on its own path is a loop. Each broken limit is a typed error that names the
 * chain. Records per answer are bounded by the resolver (DnsAnswerTooLargeError).
 */
import { CODE_DNS, CODE_DNS4, CODE_DNS6, CODE_DNSADDR, CODE_IP4, CODE_IP6, CODE_SNI, CODE_TLS, CODE_WS, CODE_WSS, multiaddr } from '@multiformats/multiaddr'
import type { Component, Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../interface/common.ts'
import { Deadline } from '../util/deadline.ts'
import { needsDnsResolution, peerIdStringOf } from '../util/multiaddr.ts'
import { DnsaddrLimitError, DnsaddrLoopError, DnsResolutionError } from './errors.ts'
import type { DnsResolver } from './resolver.ts'

export interface DnsaddrLimits {
  /** `/dnsaddr` names nested at most (default 8; go and js bootstrap lists use 2). */
  maxDepth?: number
  /** Addresses one multiaddr may resolve to, at most (default 64). */
  maxAddresses?: number
  /** Time for the whole resolution of one multiaddr, in ms (default 10 s). */
  timeout?: number
}

export interface ResolveMultiaddrOptions extends AbortOptions, DnsaddrLimits {
  /** Keep only addresses of this peer (default: the peer id at the end of the address, if any). */
  peerId?: string
}

export const DEFAULT_DNSADDR_MAX_DEPTH = 8
export const DEFAULT_DNSADDR_MAX_ADDRESSES = 64
export const DEFAULT_DNS_RESOLVE_TIMEOUT = 10_000
const DNSADDR_PREFIX = 'dnsaddr='

export { needsDnsResolution }

interface Walk {
  resolver: DnsResolver
  peerId?: string
  maxDepth: number
  maxAddresses: number
  signal: AbortSignal
  found: number
}

/** The IP addresses `addr` stands for (itself when it names no host). */
export async function resolveMultiaddr (addr: Multiaddr, resolver: DnsResolver, options: ResolveMultiaddrOptions = {}): Promise<Multiaddr[]> {
  if (!needsDnsResolution(addr)) return [addr]
  const timeout = options.timeout ?? DEFAULT_DNS_RESOLVE_TIMEOUT
  const deadline = new Deadline(timeout, options.signal, `resolving ${addr.toString()} took longer than ${timeout} ms`)
  try {
    const walk: Walk = {
      resolver,
      peerId: options.peerId ?? peerIdStringOf(addr),
      maxDepth: options.maxDepth ?? DEFAULT_DNSADDR_MAX_DEPTH,
      maxAddresses: options.maxAddresses ?? DEFAULT_DNSADDR_MAX_ADDRESSES,
      signal: deadline.signal,
      found: 0
    }
    const result = await expand(addr, walk, [])
    if (result.length === 0) throw new DnsResolutionError(`${addr.toString()} resolves to no address${walk.peerId !== undefined ? ` of peer ${walk.peerId}` : ''}`)
    return result
  } catch (err) {
    throw deadline.signal.aborted ? deadline.signal.reason : err
  } finally {
    deadline.clear()
  }
}

async function expand (addr: Multiaddr, walk: Walk, path: string[]): Promise<Multiaddr[]> {
  const components = addr.getComponents()
  const [host, ...rest] = components
  if (host.code === CODE_DNSADDR) return await expandDnsaddr(host.value ?? '', walk, path)
  if (host.code !== CODE_DNS && host.code !== CODE_DNS4 && host.code !== CODE_DNS6) return count([addr], walk, path)
  const name = host.value ?? ''
  const options = { signal: walk.signal }
  const ips: Array<{ code: number, ip: string }> = []
  const tail = keepHostForTls(rest, name)
  if (isLocalhost(name)) {
    // RFC 6761 6.3: localhost names are loopback, and never asked of a DNS server
    if (host.code !== CODE_DNS6) ips.push({ code: CODE_IP4, ip: '127.0.0.1' })
    if (host.code !== CODE_DNS4) ips.push({ code: CODE_IP6, ip: '::1' })
    return count(ips.map(({ code, ip }) => multiaddr([{ code, name: code === CODE_IP4 ? 'ip4' : 'ip6', value: ip }, ...tail])), walk, path)
  }
  if (host.code === CODE_DNS) {
    // either family may be missing; the name fails only when both are
    const [v4, v6] = await Promise.allSettled([walk.resolver.resolve4(name, options), walk.resolver.resolve6(name, options)])
    if (walk.signal.aborted) throw walk.signal.reason
    if (v4.status === 'rejected' && v6.status === 'rejected') throw v4.reason
    if (v4.status === 'fulfilled') for (const ip of v4.value) ips.push({ code: CODE_IP4, ip })
    if (v6.status === 'fulfilled') for (const ip of v6.value) ips.push({ code: CODE_IP6, ip })
  } else if (host.code === CODE_DNS4) {
    for (const ip of await walk.resolver.resolve4(name, options)) ips.push({ code: CODE_IP4, ip })
  } else {
    for (const ip of await walk.resolver.resolve6(name, options)) ips.push({ code: CODE_IP6, ip })
  }
  return count(ips.map(({ code, ip }) => multiaddr([{ code, name: code === CODE_IP4 ? 'ip4' : 'ip6', value: ip }, ...tail])), walk, path)
}

async function expandDnsaddr (name: string, walk: Walk, path: string[]): Promise<Multiaddr[]> {
  const key = name.toLowerCase().replace(/\.$/, '')
  if (path.includes(key)) throw new DnsaddrLoopError(`/dnsaddr loop: ${[...path, key].join(' -> ')}`)
  if (path.length >= walk.maxDepth) throw new DnsaddrLimitError(`/dnsaddr chain deeper than ${walk.maxDepth}: ${[...path, key].join(' -> ')}`)
  const records = await walk.resolver.resolveTxt(`_dnsaddr.${name}`, { signal: walk.signal })
  const nextPath = [...path, key]
  const out: Multiaddr[] = []
  for (const record of records) {
    if (!record.startsWith(DNSADDR_PREFIX)) continue
    let addr: Multiaddr
    try {
      addr = multiaddr(record.slice(DNSADDR_PREFIX.length))
    } catch {
      continue // one bad record does not spoil its siblings
    }
    const id = peerIdStringOf(addr)
    // a record without /p2p can only be another /dnsaddr (resolved, then filtered, below)
    if (walk.peerId !== undefined && id !== walk.peerId && !(id === undefined && needsDnsResolution(addr))) continue
    out.push(...await expand(addr, walk, nextPath))
  }
  return out
}

function isLocalhost (name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '')
  return n === 'localhost' || n.endsWith('.localhost')
}

function count (addrs: Multiaddr[], walk: Walk, path: string[]): Multiaddr[] {
  walk.found += addrs.length
  if (walk.found > walk.maxAddresses) throw new DnsaddrLimitError(`resolving ${path.join(' -> ') || 'a host name'} yields more than ${walk.maxAddresses} addresses`)
  return addrs
}

/**
 * A TLS WebSocket checks the server's certificate against the host name, which the IP address
 * no longer carries: `/wss` and `/tls/ws` become `/tls/sni/<host>/ws`.
 */
function keepHostForTls (rest: Component[], host: string): Component[] {
  const wss = rest.findIndex(c => c.code === CODE_WSS)
  const sni: Component = { code: CODE_SNI, name: 'sni', value: host }
  if (wss >= 0) return [...rest.slice(0, wss), { code: CODE_TLS, name: 'tls' }, sni, { code: CODE_WS, name: 'ws' }, ...rest.slice(wss + 1)]
  const tls = rest.findIndex(c => c.code === CODE_TLS)
  if (tls >= 0 && rest[tls + 1]?.code === CODE_WS) return [...rest.slice(0, tls + 1), sni, ...rest.slice(tls + 1)]
  return rest
}
