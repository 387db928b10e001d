import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { classifyIp, peerIdStringOf, rankAddresses, reachabilityOf, withoutPeerId } from '../../src/switch/address-utils.ts'
import { DialError } from '../../src/switch/errors.ts'
import { TimeoutError } from '../../src/util/errors.ts'

const ID = '12D3KooWRCWvr2v74YL1E24YgeeCACYcJEeXYp9sCRNhAVGUMucb'
const RELAY = '12D3KooWB37ePHfdUWVd2WJGz236gTTaLdNvUroxzZNcXmugBAQR'

describe('address utils', () => {
  it('classifies IPs', () => {
    for (const ip of ['127.0.0.1', '127.9.9.9', '::1']) assert.equal(classifyIp(ip), 'loopback', ip)
    for (const ip of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.0.1', '169.254.1.1', '100.64.0.1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1']) assert.equal(classifyIp(ip), 'private', ip)
    for (const ip of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '2001:db8::1', 'not an ip']) assert.equal(classifyIp(ip), 'public', ip)
    assert.equal(reachabilityOf(multiaddr('/dns4/localhost/tcp/1')), 'loopback')
    assert.equal(reachabilityOf(multiaddr('/dns4/example.com/tcp/1')), 'public')
  })

  it('finds and strips the trailing peer id', () => {
    assert.equal(peerIdStringOf(multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${ID}`)), ID)
    assert.equal(peerIdStringOf(multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${RELAY}/p2p-circuit/p2p/${ID}`)), ID)
    assert.equal(peerIdStringOf(multiaddr('/ip4/1.2.3.4/tcp/1')), undefined)
    assert.equal(withoutPeerId(multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${ID}`)).toString(), '/ip4/1.2.3.4/tcp/1')
    const circuit = multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${RELAY}/p2p-circuit`)
    assert.equal(withoutPeerId(circuit).toString(), circuit.toString())
  })

  it('ranks loopback, private, public; plain TCP before other transports and relays; dedups', () => {
    const ranked = rankAddresses([
      multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${RELAY}/p2p-circuit`),
      multiaddr('/dns4/example.com/tcp/443/wss'),
      multiaddr('/ip4/8.8.8.8/tcp/1'),
      multiaddr('/ip6/2001:db8::1/tcp/1'),
      multiaddr('/ip4/192.168.1.1/tcp/1'),
      multiaddr('/ip4/127.0.0.1/tcp/1/ws'),
      multiaddr('/ip4/127.0.0.1/tcp/1'),
      multiaddr('/ip4/8.8.8.8/tcp/1')
    ]).map(String)
    assert.deepEqual(ranked, [
      '/ip4/127.0.0.1/tcp/1',
      '/ip4/192.168.1.1/tcp/1',
      '/ip4/8.8.8.8/tcp/1',
      '/ip6/2001:db8::1/tcp/1',
      '/ip4/127.0.0.1/tcp/1/ws',
      '/dns4/example.com/tcp/443/wss',
      `/ip4/1.2.3.4/tcp/1/p2p/${RELAY}/p2p-circuit`
    ])
  })

  it('DialError lists each address with its reason and code', () => {
    const err = new DialError('peer', [
      { multiaddr: multiaddr('/ip4/1.2.3.4/tcp/1'), error: new TimeoutError('timed out after 5 ms') },
      { multiaddr: multiaddr('/ip4/1.2.3.4/tcp/2'), error: new Error('boom') }
    ])
    assert.equal(err.name, 'DialError')
    assert.equal(err.code, 'ERR_DIAL_FAILED')
    assert.match(err.message, /\/ip4\/1\.2\.3\.4\/tcp\/1: timed out after 5 ms \(ERR_TIMEOUT\)/)
    assert.match(err.message, /\/ip4\/1\.2\.3\.4\/tcp\/2: boom/)
    assert.match(new DialError('peer', [], 'no addresses known').message, /no addresses known/)
  })
})
