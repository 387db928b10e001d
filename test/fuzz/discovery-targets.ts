/**
 * Fuzz targets of peer discovery: DNS messages (mDNS packets from the LAN, DNS-over-HTTPS
 * answers), the mDNS reader on top of them, rendezvous messages and pubsub peer announcements.
 * Joined into targets.ts's list and seeds.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { decodeDnsMessage, encodeDnsMessage, FLAG_RESPONSE, RecordType } from '../../src/dns/message.ts'
import { encodeQuery, encodeResponse, readMessage } from '../../src/discovery/mdns/records.ts'
import { decodeRendezvousMessage, encodeRendezvousMessage, MAX_RESPONSE_SIZE, MessageType } from '../../src/discovery/rendezvous/messages.ts'
import { decodeDiscoveryPeer, encodeDiscoveryPeer } from '../../src/discovery/pubsub-peer-discovery.ts'
import type { FuzzTarget } from './target.ts'

export const discoveryTargets: FuzzTarget[] = [
  { name: 'dns-message', run: (b) => { decodeDnsMessage(b) } },
  { name: 'mdns-message', run: (b) => { readMessage(b) } },
  { name: 'rendezvous-message', run: (b) => { decodeRendezvousMessage(b, MAX_RESPONSE_SIZE) } },
  { name: 'pubsub-discovery-peer', run: (b) => { decodeDiscoveryPeer(b) } }
]

export function discoverySeeds (peerId: string, signedPeerRecord: Uint8Array, publicKey: Uint8Array): Record<string, Uint8Array[]> {
  const addrs = [multiaddr(`/ip4/10.0.0.2/tcp/4001/p2p/${peerId}`), multiaddr(`/ip6/fe80::1/udp/4001/quic-v1/p2p/${peerId}`)]
  const response = encodeResponse({ peerName: 'fuzzpeer', addrs, ttl: 120 })!
  return {
    'dns-message': [
      response,
      encodeDnsMessage({ id: 1, flags: FLAG_RESPONSE, questions: [{ name: '_dnsaddr.example.com', type: RecordType.TXT }], answers: [{ name: '_dnsaddr.example.com', type: RecordType.TXT, ttl: 60, txt: [`dnsaddr=/ip4/1.2.3.4/tcp/1/p2p/${peerId}`] }, { name: 'a.example.com', type: RecordType.CNAME, ttl: 1, target: 'b.example.com' }] }),
      // a compressed name (a pointer back to the question's name)
      Uint8Array.of(0, 1, 0x80, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 97, 1, 98, 0, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4)
    ],
    'mdns-message': [response, encodeQuery()],
    'rendezvous-message': [
      encodeRendezvousMessage({ type: MessageType.REGISTER, register: { ns: 'fuzz', signedPeerRecord, ttl: 7200n } }),
      encodeRendezvousMessage({ type: MessageType.DISCOVER_RESPONSE, discoverResponse: { registrations: [{ ns: 'fuzz', signedPeerRecord, ttl: 60n }], cookie: new Uint8Array(20), status: 0 } }),
      encodeRendezvousMessage({ type: MessageType.DISCOVER, discover: { ns: 'fuzz', limit: 10n, cookie: new Uint8Array(16) } })
    ],
    'pubsub-discovery-peer': [encodeDiscoveryPeer(publicKey, addrs.map(a => a.bytes))]
  }
}
