import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { rankAddresses } from '../../src/switch/address-ranking.ts'
import { DialError } from '../../src/switch/errors.ts'
import { TimeoutError } from '../../src/util/errors.ts'

const ID = '12D3KooWRCWvr2v74YL1E24YgeeCACYcJEeXYp9sCRNhAVGUMucb'
const RELAY = '12D3KooWB37ePHfdUWVd2WJGz236gTTaLdNvUroxzZNcXmugBAQR'

describe('address ranking', () => {
  it('ranks loopback, private, link-local, public; plain TCP before other transports and relays; dedups', () => {
    const ranked = rankAddresses([
      multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${RELAY}/p2p-circuit`),
      multiaddr('/dns4/example.com/tcp/443/wss'),
      multiaddr('/ip4/8.8.8.8/tcp/1'),
      multiaddr('/ip6/2001:db8::1/tcp/1'),
      multiaddr('/ip4/169.254.7.7/tcp/1'),
      multiaddr('/ip4/192.168.1.1/tcp/1'),
      multiaddr('/ip4/127.0.0.1/tcp/1/ws'),
      multiaddr('/ip4/127.0.0.1/tcp/1'),
      multiaddr('/ip4/8.8.8.8/tcp/1')
    ]).map(String)
    assert.deepEqual(ranked, [
      '/ip4/127.0.0.1/tcp/1',
      '/ip4/192.168.1.1/tcp/1',
      '/ip4/169.254.7.7/tcp/1',
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
