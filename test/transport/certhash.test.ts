import { it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr, CODE_QUIC_V1, CODE_WEBRTC_DIRECT, CODE_WEBTRANSPORT } from '@multiformats/multiaddr'
import { certhashesOf, decodeCerthash, encodeCerthash, parseCerthashAddress } from '../../src/transport/certhash.ts'
import { InvalidMultiaddrError } from '../../src/util/errors.ts'

const ID = '12D3KooWRCWvr2v74YL1E24YgeeCACYcJEeXYp9sCRNhAVGUMucb'
const HASH = encodeCerthash(new Uint8Array(32).fill(7))
const HASH2 = encodeCerthash(new Uint8Array(32).fill(9))
const WT = [CODE_QUIC_V1, CODE_WEBTRANSPORT]

it('a certhash is a base64url sha2-256 multihash, and anything else is a typed error', () => {
  assert.deepEqual(decodeCerthash(HASH), new Uint8Array(32).fill(7))
  assert.throws(() => decodeCerthash('uAAAA'), InvalidMultiaddrError)
  assert.throws(() => decodeCerthash('!nope'), InvalidMultiaddrError)
  const many = `/ip4/1.2.3.4/udp/1/webrtc-direct${`/certhash/${HASH}`.repeat(9)}`
  assert.throws(() => certhashesOf(multiaddr(many)), /more than 8 certhashes/)
})

it('parses dial targets of both transports: host, port, family, hashes in order, the peer id when last', () => {
  const wt = parseCerthashAddress(multiaddr(`/ip6/::1/udp/4433/quic-v1/webtransport/certhash/${HASH}/certhash/${HASH2}/p2p/${ID}`), WT, 'dial')
  assert.deepEqual(wt, { host: '::1', port: 4433, family: 6, certhashes: [new Uint8Array(32).fill(7), new Uint8Array(32).fill(9)], peerId: ID })
  const direct = parseCerthashAddress(multiaddr(`/ip4/10.0.0.1/udp/9/webrtc-direct/certhash/${HASH}`), [CODE_WEBRTC_DIRECT], 'dial')
  assert.equal(direct?.host, '10.0.0.1')
  assert.equal(direct?.peerId, undefined)
})

it('refuses what cannot be dialed or listened on', () => {
  const refused = (addr: string, codes: number[], mode: 'dial' | 'listen'): void => assert.equal(parseCerthashAddress(multiaddr(addr), codes, mode), undefined, `${mode} ${addr}`)
  refused('/ip4/1.2.3.4/udp/1/quic-v1/webtransport', WT, 'dial') // nothing to check the certificate against
  refused(`/ip4/1.2.3.4/udp/0/quic-v1/webtransport/certhash/${HASH}`, WT, 'dial')
  refused(`/ip4/1.2.3.4/udp/1/webrtc-direct/certhash/${HASH}`, WT, 'dial') // another transport
  refused(`/ip4/1.2.3.4/udp/1/quic-v1/certhash/${HASH}`, WT, 'dial')
  refused(`/dns4/example.com/udp/1/quic-v1/webtransport/certhash/${HASH}`, WT, 'dial')
  refused(`/ip4/1.2.3.4/udp/1/quic-v1/webtransport/p2p/${ID}/certhash/${HASH}`, WT, 'dial') // peer id not last
  refused(`/ip4/1.2.3.4/udp/1/quic-v1/webtransport/certhash/${HASH}`, WT, 'listen') // a listener makes its own
  assert.deepEqual(parseCerthashAddress(multiaddr('/ip4/127.0.0.1/udp/0/quic-v1/webtransport'), WT, 'listen'), { host: '127.0.0.1', port: 0, family: 4, certhashes: [], peerId: undefined })
})
