import { test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { encodeQuery, encodeResponse, readMessage, MAX_ADDRS_PER_PEER } from '../../src/discovery/mdns/records.ts'
import { decodeDnsMessage, encodeDnsMessage, FLAG_RESPONSE, RecordType } from '../../src/dns/message.ts'
import { InvalidDnsMessageError } from '../../src/dns/errors.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'

const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()

test('a query asks _p2p._udp.local PTR and reads back as a query', () => {
  const q = decodeDnsMessage(encodeQuery())
  assert.deepEqual(q.questions, [{ name: '_p2p._udp.local', type: RecordType.PTR, unicastResponse: false }])
  assert.deepEqual(readMessage(encodeQuery()), { kind: 'query' })
  assert.deepEqual(readMessage(encodeQuery('_other._udp.local')), { kind: 'other' })
})

test('a response carries PTR, TXT dnsaddr=, SRV and A/AAAA, and reads back as the peer', () => {
  const addrs = [multiaddr(`/ip4/10.0.0.2/tcp/4001/p2p/${id}`), multiaddr(`/ip6/fe80::1/udp/4001/quic-v1/p2p/${id}`)]
  const bytes = encodeResponse({ peerName: 'abc', addrs, ttl: 120 })!
  const m = decodeDnsMessage(bytes)
  assert.equal(m.answers[0].target, 'abc._p2p._udp.local')
  assert.deepEqual(m.additionals.map(r => r.type).sort((x, y) => x - y), [RecordType.A, RecordType.TXT, RecordType.AAAA, RecordType.SRV])
  assert.equal(m.additionals.find(r => r.type === RecordType.SRV)?.port, 4001)
  const read = readMessage(bytes)
  assert.equal(read.kind, 'response')
  assert.deepEqual(read.kind === 'response' && read.peers.map(p => ({ id: p.id, addrs: p.addrs.map(String), ttl: p.ttl })), [{ id, addrs: addrs.map(String), ttl: 120 }])
  assert.equal(encodeResponse({ peerName: 'abc', addrs: [], ttl: 1 }), undefined)
})

test('hostile responses: bad strings are skipped, counts are bounded, malformed bytes are typed errors', () => {
  const many = Array.from({ length: 100 }, (_, i) => `dnsaddr=/ip4/10.0.${i >> 8}.${i & 0xff}/tcp/1/p2p/${id}`)
  const bytes = encodeDnsMessage({
    flags: FLAG_RESPONSE,
    answers: [{ name: '_p2p._udp.local', type: RecordType.PTR, ttl: 5, target: 'x._p2p._udp.local' }],
    additionals: [{ name: 'x._p2p._udp.local', type: RecordType.TXT, ttl: 5, txt: ['dnsaddr=/garbage', 'dnsaddr=/ip4/10.0.0.1/tcp/1', 'hello', ...many] }]
  })
  const read = readMessage(bytes)
  assert.ok(read.kind === 'response')
  assert.equal(read.peers.length, 1)
  assert.equal(read.peers[0].addrs.length, MAX_ADDRS_PER_PEER)
  assert.throws(() => readMessage(new Uint8Array(20_000)), InvalidDnsMessageError)
  assert.throws(() => readMessage(bytes.subarray(0, bytes.length - 3)), InvalidDnsMessageError)
  // a response with no PTR for our service is nobody we know
  assert.deepEqual(readMessage(encodeDnsMessage({ flags: FLAG_RESPONSE, answers: [{ name: 'printer.local', type: RecordType.A, ttl: 1, ip: '10.0.0.9' }] })), { kind: 'other' })
})
