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

  it('announces an observed address only after four observer groups saw it AND it was confirmed; self updates fire on real changes only', async () => {
    const { peerId } = await makePeer()
    let changes = 0
    const listen = multiaddr('/ip4/192.168.1.2/tcp/4001')
    const am = new DefaultAddressManager({ peerId, getBoundAddrs: () => [listen], onChange: () => { changes++ } })
    const observed = multiaddr('/ip4/5.6.7.8/tcp/4001')
    const via = (ip: string): { remoteAddr: Multiaddr, localAddr: Multiaddr } => ({ remoteAddr: multiaddr(`/ip4/${ip}/tcp/5000`), localAddr: listen })
    // three groups: 1.1.1.1 twice is one group; not a candidate yet
    for (const ip of ['1.1.1.1', '1.1.1.1', '2.2.2.2', '3.3.3.3']) am.addObservedAddr(observed, via(ip))
    assert.deepEqual(am.getCandidates().filter(c => c.source === 'observed'), [])
    am.addObservedAddr(observed, via('4.4.4.4'))
    assert.deepEqual(am.getCandidates().map(c => [c.multiaddr.toString(), c.source, c.reachability]), [['/ip4/5.6.7.8/tcp/4001', 'observed', 'unknown']])
    // a candidate is not announced on the observers' word alone
    assert.deepEqual(am.getAddresses().map(String), [`${listen}/p2p/${peerId}`])
    assert.equal(changes, 0)
    am.setAddrReachability(observed, 'public')
    assert.deepEqual(am.getAddresses().map(String), [`${listen}/p2p/${peerId}`, `${observed}/p2p/${peerId}`])
    assert.equal(changes, 1)
    am.setAddrReachability(observed, 'public')
    assert.equal(changes, 1, 'the same verdict again changes nothing')
    am.setAddrReachability(observed, 'private')
    assert.deepEqual(am.getAddresses().map(String), [`${listen}/p2p/${peerId}`])
    assert.equal(changes, 2)
  })

  it('a UPnP-style candidate is announced once confirmed and withdrawn when removed', async () => {
    const { peerId } = await makePeer()
    let changes = 0
    const am = new DefaultAddressManager({ peerId, getBoundAddrs: () => [], onChange: () => { changes++ } })
    const mapped = multiaddr('/ip4/11.0.0.5/tcp/31000')
    am.addCandidate(mapped, 'upnp')
    assert.deepEqual(am.getCandidates().map(c => [c.multiaddr.toString(), c.source, c.reachability]), [[mapped.toString(), 'upnp', 'unknown']])
    assert.deepEqual(am.getAddresses(), [])
    am.setAddrReachability(mapped, 'public')
    assert.deepEqual(am.getAddresses().map(String), [`${mapped}/p2p/${peerId}`])
    am.removeCandidate(mapped)
    assert.deepEqual(am.getAddresses(), [])
    assert.equal(changes, 2)
  })

  it('public listen addresses are candidates; public CIDRs make a private range count', async () => {
    const { peerId } = await makePeer()
    const bound = [multiaddr('/ip4/127.0.0.1/tcp/1'), multiaddr('/ip4/11.0.0.2/tcp/2'), multiaddr('/ip4/8.8.4.4/tcp/3')]
    const plain = new DefaultAddressManager({ peerId, getBoundAddrs: () => bound })
    assert.deepEqual(plain.getCandidates().map(c => c.multiaddr.toString()), ['/ip4/11.0.0.2/tcp/2', '/ip4/8.8.4.4/tcp/3'])
    const lab = new DefaultAddressManager({ peerId, getBoundAddrs: () => bound, publicCidrs: ['127.0.0.0/8'] })
    assert.equal(lab.reachabilityOf(bound[0]), 'public')
    assert.equal(plain.reachabilityOf(bound[0]), 'loopback')
    assert.deepEqual(lab.getCandidates().map(c => c.multiaddr.toString()), bound.map(String))
  })
})
