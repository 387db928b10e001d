import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { DefaultAddressManager } from '../../src/switch/address-manager.ts'
import { makePeer } from './doubles.ts'

describe('DefaultAddressManager', () => {
  it('announces bound addresses with /p2p, honouring announce and noAnnounce', async () => {
    const { peerId } = await makePeer()
    let bound: Multiaddr[] = [multiaddr('/ip4/127.0.0.1/tcp/4001'), multiaddr('/ip4/192.168.1.2/tcp/4001')]
    const am = new DefaultAddressManager({ peerId, listen: ['/ip4/0.0.0.0/tcp/4001'], noAnnounce: ['/ip4/192.168.1.2/tcp/4001'], getBoundAddrs: () => bound })
    assert.deepEqual(am.getListenAddrs().map(String), ['/ip4/0.0.0.0/tcp/4001'])
    assert.deepEqual(am.getAddresses().map(String), [`/ip4/127.0.0.1/tcp/4001/p2p/${peerId}`])
    bound = []
    assert.deepEqual(am.getAddresses(), [])
    const announcing = new DefaultAddressManager({ peerId, announce: [`/dns4/example.com/tcp/443/wss/p2p/${peerId}`], appendAnnounce: ['/ip4/1.2.3.4/tcp/1'], getBoundAddrs: () => [multiaddr('/ip4/127.0.0.1/tcp/1')] })
    assert.deepEqual(announcing.getAddresses().map(String), [`/dns4/example.com/tcp/443/wss/p2p/${peerId}`, `/ip4/1.2.3.4/tcp/1/p2p/${peerId}`])
  })

  it('announces an observed address once two distinct peers confirmed it', async () => {
    const { peerId } = await makePeer()
    const { peerId: r1 } = await makePeer()
    const { peerId: r2 } = await makePeer()
    let changes = 0
    const am = new DefaultAddressManager({ peerId, getBoundAddrs: () => [], onChange: () => { changes++ } })
    const observed = multiaddr('/ip4/5.6.7.8/tcp/4001')
    am.addObservedAddr(observed, r1)
    am.addObservedAddr(observed, r1)
    assert.deepEqual(am.getAddresses(), [])
    am.addObservedAddr(observed, r2)
    assert.deepEqual(am.getAddresses().map(String), [`${observed}/p2p/${peerId}`])
    assert.equal(changes, 1)
    am.removeObservedAddr(observed)
    assert.deepEqual(am.getAddresses(), [])
    assert.equal(changes, 2)
  })

  it('bounds the observed address table', async () => {
    const { peerId } = await makePeer()
    const am = new DefaultAddressManager({ peerId, getBoundAddrs: () => [], maxObservedAddrs: 4 })
    for (let i = 0; i < 100; i++) am.addObservedAddr(multiaddr(`/ip4/9.9.9.${i}/tcp/1`))
    const kept = am.getObservedAddrs()
    assert.equal(kept.length, 4)
    assert.deepEqual(kept.map(o => o.multiaddr.toString()), [96, 97, 98, 99].map(i => `/ip4/9.9.9.${i}/tcp/1`))
  })
})
