/**
 * DNS-over-HTTPS (RFC 8484): the resolver of browsers, which have no DNS API, and of any
 * runtime told to use it. Each lookup POSTs one wire-format query (`application/dns-message`)
 * to the endpoint and decodes the answer with the bounded decoder of ./message.ts; the body is
 * read up to the largest DNS message (64 KiB) and no further. Browser-safe (fetch only).
 */
import type { AbortOptions } from '../interface/common.ts'
import { Deadline } from '../util/deadline.ts'
import { DnsAnswerTooLargeError, DnsResolutionError, InvalidDnsMessageError } from './errors.ts'
import { decodeDnsMessage, encodeDnsMessage, FLAG_RECURSION_DESIRED, RecordType, sameDnsName } from './message.ts'
import type { DnsRecord } from './message.ts'
import { DEFAULT_DNS_TIMEOUT, DEFAULT_MAX_DNS_RECORDS } from './resolver.ts'
import type { DnsResolver, DnsResolverOptions } from './resolver.ts'

export const DEFAULT_DOH_ENDPOINT = 'https://cloudflare-dns.com/dns-query'
const MAX_DNS_MESSAGE_BYTES = 65_535
/** CNAMEs followed inside one answer at most. */
const MAX_CNAME_HOPS = 8
const RCODE_NXDOMAIN = 3

export class DohDnsResolver implements DnsResolver {
  readonly #endpoint: string
  readonly #timeout: number
  readonly #maxRecords: number

  constructor (options: DnsResolverOptions = {}) {
    this.#endpoint = options.endpoint ?? DEFAULT_DOH_ENDPOINT
    this.#timeout = options.timeout ?? DEFAULT_DNS_TIMEOUT
    this.#maxRecords = options.maxRecords ?? DEFAULT_MAX_DNS_RECORDS
  }

  async resolve4 (name: string, options?: AbortOptions): Promise<string[]> {
    return (await this.#lookup(name, RecordType.A, 'A', options)).map(r => r.ip!)
  }

  async resolve6 (name: string, options?: AbortOptions): Promise<string[]> {
    return (await this.#lookup(name, RecordType.AAAA, 'AAAA', options)).map(r => r.ip!)
  }

  async resolveTxt (name: string, options?: AbortOptions): Promise<string[]> {
    return (await this.#lookup(name, RecordType.TXT, 'TXT', options)).map(r => (r.txt ?? []).join(''))
  }

  async #lookup (name: string, type: number, typeName: string, options?: AbortOptions): Promise<DnsRecord[]> {
    const deadline = new Deadline(this.#timeout, options?.signal, `DNS-over-HTTPS ${typeName} lookup of ${name} timed out`)
    let answer: Uint8Array
    try {
      // id 0: RFC 8484 4.1 asks for it, so HTTP caches can share answers
      const query = encodeDnsMessage({ id: 0, flags: FLAG_RECURSION_DESIRED, questions: [{ name, type }] })
      const response = await fetch(this.#endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message' },
        body: query as Uint8Array<ArrayBuffer>,
        signal: deadline.signal
      })
      if (!response.ok) throw new DnsResolutionError(`DNS-over-HTTPS ${typeName} lookup of ${name}: HTTP ${response.status}`)
      answer = await readBounded(response, MAX_DNS_MESSAGE_BYTES)
    } catch (err) {
      if (deadline.signal.aborted) throw deadline.signal.reason
      if ((err as { code?: string }).code !== undefined) throw err
      throw new DnsResolutionError(`DNS-over-HTTPS ${typeName} lookup of ${name} failed: ${(err as Error).message}`, { cause: err })
    } finally {
      deadline.clear()
    }
    const message = decodeDnsMessage(answer, { maxMessageBytes: MAX_DNS_MESSAGE_BYTES, maxRecords: this.#maxRecords * 2 + 16 })
    const rcode = message.flags & 0x0f
    if (rcode === RCODE_NXDOMAIN) throw new DnsResolutionError(`${name} does not exist (NXDOMAIN)`)
    if (rcode !== 0) throw new DnsResolutionError(`DNS-over-HTTPS ${typeName} lookup of ${name} failed with rcode ${rcode}`)
    const records = answersFor(name, type, message.answers)
    if (records.length === 0) throw new DnsResolutionError(`${name} has no ${typeName} record`)
    if (records.length > this.#maxRecords) throw new DnsAnswerTooLargeError(`${name} has ${records.length} ${typeName} records, more than the limit of ${this.#maxRecords}`)
    return records
  }
}

/** The records of `type` for `name`, following CNAMEs within the answer section. */
function answersFor (name: string, type: number, answers: DnsRecord[]): DnsRecord[] {
  let current = name
  for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
    const direct = answers.filter(r => r.type === type && sameDnsName(r.name, current))
    if (direct.length > 0) return direct
    const alias = answers.find(r => r.type === RecordType.CNAME && sameDnsName(r.name, current))
    if (alias?.target === undefined) return []
    current = alias.target
  }
  return []
}

async function readBounded (response: Response, limit: number): Promise<Uint8Array> {
  const reader = response.body?.getReader()
  if (reader === undefined) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let length = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    length += value.byteLength
    if (length > limit) {
      await reader.cancel().catch(() => {})
      throw new InvalidDnsMessageError(`DNS-over-HTTPS answer larger than ${limit} bytes`)
    }
    chunks.push(value)
  }
  const out = new Uint8Array(length)
  let at = 0
  for (const c of chunks) { out.set(c, at); at += c.byteLength }
  return out
}
