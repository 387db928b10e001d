/**
 * The mDNS messages of libp2p peer discovery (discovery/mdns.md), built and read; no sockets
 * here, so the hostile-input suite can feed the reader directly. Browser-safe.
 *
 * - The query asks `_p2p._udp.local PTR`.
 * - The response answers `_p2p._udp.local PTR <peer-name>._p2p._udp.local` and adds, for
 *   DNS-SD browsers such as go-libp2p's (zeroconf wants SRV plus an address record before it
 *   reports an instance), `<peer-name>._p2p._udp.local SRV <port> <peer-name>.local`, the
 *   TXT record with one `dnsaddr=<multiaddr>/p2p/<id>` string per address, and A/AAAA records
 *   for `<peer-name>.local`. The peer name is random, not the peer id: it is a DNS label, at
 *   most 63 octets, which a peer id does not always fit.
 * - Reading a response keeps only what the TXT `dnsaddr=` strings say (the other records are
 *   for DNS-SD tools), bounded: instances per message, addresses per peer, string lengths.
 */
import { multiaddr, CODE_IP4, CODE_IP6, CODE_TCP } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { decodeDnsMessage, encodeDnsMessage, FLAG_AUTHORITATIVE, FLAG_RESPONSE, RecordType, sameDnsName } from '../../dns/message.ts'
import type { DnsRecord } from '../../dns/message.ts'
import { peerIdStringOf } from '../../util/multiaddr.ts'

export const SERVICE_TAG = '_p2p._udp.local'
const DNSADDR_PREFIX = 'dnsaddr='
/** A TXT character-string holds at most 255 octets; longer addresses are not advertised. */
const MAX_TXT_STRING = 255
/** RFC 6762 9000-byte ceiling for mDNS messages. */
export const MAX_MDNS_MESSAGE_BYTES = 9000
/** Records of one received message, all sections (a response of ours has ~10). */
export const MAX_MDNS_RECORDS = 128
/** Peer instances read from one response. */
const MAX_INSTANCES_PER_MESSAGE = 16
/** Addresses kept per peer from one response. */
export const MAX_ADDRS_PER_PEER = 32

export interface MdnsPeer {
  /** Peer id text, from the `/p2p/` of its addresses. */
  id: string
  addrs: Multiaddr[]
  /** Seconds the answer says the records live. */
  ttl: number
}

export function encodeQuery (serviceTag: string = SERVICE_TAG): Uint8Array {
  return encodeDnsMessage({ questions: [{ name: serviceTag, type: RecordType.PTR }] })
}

export interface ResponseInit {
  peerName: string
  /** Our addresses, each ending in /p2p/<our id>. */
  addrs: Multiaddr[]
  ttl: number
  serviceTag?: string
}

/** Our answer to a query, or undefined when we have no address worth advertising. */
export function encodeResponse (init: ResponseInit): Uint8Array | undefined {
  const serviceTag = init.serviceTag ?? SERVICE_TAG
  const instance = `${init.peerName}.${serviceTag}`
  const host = `${init.peerName}.local`
  const txt = init.addrs.map(a => DNSADDR_PREFIX + a.toString()).filter(s => new TextEncoder().encode(s).byteLength <= MAX_TXT_STRING)
  if (txt.length === 0) return undefined
  const additionals: DnsRecord[] = [{ name: instance, type: RecordType.TXT, ttl: init.ttl, cacheFlush: true, txt }]
  const port = firstTcpPort(init.addrs)
  additionals.push({ name: instance, type: RecordType.SRV, ttl: init.ttl, cacheFlush: true, port, target: host })
  const ips = new Set<string>()
  for (const addr of init.addrs) {
    const c = addr.getComponents()[0]
    if ((c?.code !== CODE_IP4 && c?.code !== CODE_IP6) || c.value === undefined || ips.has(c.value)) continue
    ips.add(c.value)
    additionals.push({ name: host, type: c.code === CODE_IP4 ? RecordType.A : RecordType.AAAA, ttl: init.ttl, cacheFlush: true, ip: c.value.split('%')[0] })
  }
  return encodeDnsMessage({
    flags: FLAG_RESPONSE | FLAG_AUTHORITATIVE,
    answers: [{ name: serviceTag, type: RecordType.PTR, ttl: init.ttl, target: instance }],
    additionals
  })
}

function firstTcpPort (addrs: Multiaddr[]): number {
  for (const addr of addrs) {
    const tcp = addr.getComponents().find(c => c.code === CODE_TCP)
    if (tcp?.value !== undefined) return Number(tcp.value)
  }
  return 4001
}

/** What a received message is to us. Throws InvalidDnsMessageError on a malformed or oversized one. */
export type MdnsMessageKind = { kind: 'query' } | { kind: 'response', peers: MdnsPeer[] } | { kind: 'other' }

export function readMessage (bytes: Uint8Array, serviceTag: string = SERVICE_TAG): MdnsMessageKind {
  const message = decodeDnsMessage(bytes, { maxMessageBytes: MAX_MDNS_MESSAGE_BYTES, maxRecords: MAX_MDNS_RECORDS })
  if ((message.flags & FLAG_RESPONSE) === 0) {
    const asksUs = message.questions.some(q => (q.type === RecordType.PTR || q.type === RecordType.ANY) && sameDnsName(q.name, serviceTag))
    return asksUs ? { kind: 'query' } : { kind: 'other' }
  }
  const records = [...message.answers, ...message.additionals]
  const instances = records
    .filter(r => r.type === RecordType.PTR && r.target !== undefined && sameDnsName(r.name, serviceTag))
    .slice(0, MAX_INSTANCES_PER_MESSAGE)
  if (instances.length === 0) return { kind: 'other' }
  const peers = new Map<string, MdnsPeer>()
  for (const ptr of instances) {
    for (const txt of records) {
      if (txt.type !== RecordType.TXT || !sameDnsName(txt.name, ptr.target!)) continue
      for (const text of txt.txt ?? []) {
        if (!text.startsWith(DNSADDR_PREFIX)) continue
        let addr: Multiaddr
        try {
          addr = multiaddr(text.slice(DNSADDR_PREFIX.length))
        } catch {
          continue // one bad string does not spoil the rest
        }
        const id = peerIdStringOf(addr)
        if (id === undefined) continue
        let peer = peers.get(id)
        if (peer === undefined) {
          if (peers.size >= MAX_INSTANCES_PER_MESSAGE) continue
          peer = { id, addrs: [], ttl: Math.min(ptr.ttl, txt.ttl) }
          peers.set(id, peer)
        }
        if (peer.addrs.length < MAX_ADDRS_PER_PEER && !peer.addrs.some(a => a.equals(addr))) peer.addrs.push(addr)
      }
    }
  }
  return { kind: 'response', peers: [...peers.values()] }
}

/** A peer name: 32 random lower-case letters and digits, a valid DNS label (go-libp2p draws 32-63). */
export function randomPeerName (): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  let name = ''
  for (const b of bytes) name += alphabet[b % alphabet.length]
  return name
}
