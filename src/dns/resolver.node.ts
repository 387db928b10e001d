/**
 * DNS lookups in Node.js. With `servers` (or for TXT, which the system resolver cannot look up)
 * through Node's own resolver (`node:dns` Resolver: c-ares, UDP with TCP fallback for truncated
 * answers), one per lookup so an abort cancels it. Without `servers`, addresses come from the
 * system resolver (getaddrinfo: /etc/hosts, nsswitch, as every other program on the host sees
 * them, and what the TCP transport used before the dialer resolved names); an abort stops the
 * wait, the thread-pool lookup finishes on its own. An answer is at most one DNS message (64 KiB), which
 * bounds what c-ares allocates; beyond that we accept at most `maxRecords` records.
 */
import { lookup, Resolver } from 'node:dns/promises'
import type { AbortOptions } from '../interface/common.ts'
import { Deadline } from '../util/deadline.ts'
import { raceSignal } from '../util/abort.ts'
import { DnsAnswerTooLargeError, DnsResolutionError } from './errors.ts'
import { DEFAULT_DNS_TIMEOUT, DEFAULT_MAX_DNS_RECORDS } from './resolver.ts'
import type { DnsResolver, DnsResolverOptions } from './resolver.ts'

export class NodeDnsResolver implements DnsResolver {
  readonly #servers?: string[]
  readonly #timeout: number
  readonly #maxRecords: number

  constructor (options: DnsResolverOptions = {}) {
    this.#servers = options.servers
    this.#timeout = options.timeout ?? DEFAULT_DNS_TIMEOUT
    this.#maxRecords = options.maxRecords ?? DEFAULT_MAX_DNS_RECORDS
    // fails early on a malformed server address
    if (this.#servers !== undefined) new Resolver().setServers(this.#servers)
  }

  async resolve4 (name: string, options?: AbortOptions): Promise<string[]> {
    return await this.#lookup(name, 'A', options, async r => this.#servers === undefined ? await systemLookup(name, 4) : await r.resolve4(name))
  }

  async resolve6 (name: string, options?: AbortOptions): Promise<string[]> {
    return await this.#lookup(name, 'AAAA', options, async r => this.#servers === undefined ? await systemLookup(name, 6) : await r.resolve6(name))
  }

  async resolveTxt (name: string, options?: AbortOptions): Promise<string[]> {
    return await this.#lookup(name, 'TXT', options, async r => (await r.resolveTxt(name)).map(chunks => chunks.join('')))
  }

  /** One Resolver per lookup, so aborting (cancel) touches no other lookup. */
  async #lookup<T> (name: string, type: string, options: AbortOptions | undefined, query: (r: Resolver) => Promise<T[]>): Promise<T[]> {
    const resolver = new Resolver({ timeout: this.#timeout, tries: 2 })
    if (this.#servers !== undefined) resolver.setServers(this.#servers)
    const deadline = new Deadline(this.#timeout * 2, options?.signal, `DNS ${type} lookup of ${name} timed out`)
    if (deadline.signal.aborted) throw deadline.signal.reason
    const onAbort = (): void => { resolver.cancel() }
    deadline.signal.addEventListener('abort', onAbort, { once: true })
    let records: T[]
    try {
      records = await raceSignal(query(resolver), deadline.signal)
    } catch (err) {
      // cancelled: the caller's reason or the TimeoutError, not c-ares' ECANCELLED
      if (deadline.signal.aborted) throw deadline.signal.reason
      throw new DnsResolutionError(`DNS ${type} lookup of ${name} failed: ${(err as { code?: string }).code ?? (err as Error).message}`, { cause: err })
    } finally {
      deadline.signal.removeEventListener('abort', onAbort)
      deadline.clear()
    }
    if (records.length === 0) throw new DnsResolutionError(`${name} has no ${type} record`)
    if (records.length > this.#maxRecords) throw new DnsAnswerTooLargeError(`${name} has ${records.length} ${type} records, more than the limit of ${this.#maxRecords}`)
    return records
  }
}

async function systemLookup (name: string, family: 4 | 6): Promise<string[]> {
  return (await lookup(name, { family, all: true })).map(a => a.address)
}
