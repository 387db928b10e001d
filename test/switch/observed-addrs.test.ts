/** Observed addresses: distinct observer groups, thin-waist matching, refusals and bounds. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { ObservedAddrs, observerGroup } from '../../src/switch/observed-addrs.ts'

const tcpListen = multiaddr('/ip4/192.168.1.2/tcp/4001')
const wsListen = multiaddr('/ip4/192.168.1.2/tcp/4002/ws')
const from = (remote: string, local: Multiaddr = tcpListen): { remoteAddr: Multiaddr, localAddr: Multiaddr } => ({ remoteAddr: multiaddr(remote), localAddr: local })

function manager (options: { now?: () => number, maxTracked?: number } = {}): ObservedAddrs {
  return new ObservedAddrs({ getListenAddrs: () => [tcpListen, wsListen], ...options })
}

describe('ObservedAddrs', () => {
  it('needs four distinct IPv4 observers; many connections from one IP count once', () => {
    const m = manager()
    const observed = multiaddr('/ip4/5.6.7.8/tcp/31000')
    for (let port = 1; port <= 10; port++) assert.equal(m.record(observed, from(`/ip4/1.1.1.1/tcp/${port}`)), true)
    m.record(observed, from('/ip4/1.1.1.2/tcp/1'))
    m.record(observed, from('/ip4/1.1.1.3/tcp/1'))
    assert.deepEqual(m.candidates(), [])
    m.record(observed, from('/ip4/1.1.1.4/tcp/1'))
    assert.deepEqual(m.candidates().map(String), ['/ip4/5.6.7.8/tcp/31000'])
  })

  it('groups IPv6 observers by /56', () => {
    assert.equal(observerGroup(multiaddr('/ip6/2001:db8:0:1::1/tcp/1')), observerGroup(multiaddr('/ip6/2001:db8:0:ff::9/tcp/1')))
    assert.notEqual(observerGroup(multiaddr('/ip6/2001:db8:0:100::1/tcp/1')), observerGroup(multiaddr('/ip6/2001:db8:0:1::1/tcp/1')))
    const m = manager()
    const observed = multiaddr('/ip4/5.6.7.8/tcp/31000')
    for (let i = 0; i < 20; i++) m.record(observed, from(`/ip6/2001:db8:0:${i.toString(16)}::1/tcp/1`))
    assert.deepEqual(m.candidates(), [], 'twenty hosts in one /56 are one observer')
  })

  it('takes the port from the observation and the protocol stack from our listen address', () => {
    const m = manager()
    for (let i = 1; i <= 4; i++) m.record(multiaddr('/ip4/5.6.7.8/tcp/40000'), from(`/ip4/1.1.1.${i}/tcp/1`, multiaddr('/ip4/192.168.1.2/tcp/4002/ws')))
    assert.deepEqual(m.candidates().map(String), ['/ip4/5.6.7.8/tcp/40000/ws'])
  })

  it('refuses relayed observations, port 0, non-IP addresses and connections not on a listen address', () => {
    const m = manager()
    assert.equal(m.record(multiaddr('/ip4/5.6.7.8/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit'), from('/ip4/1.1.1.1/tcp/1')), false)
    assert.equal(m.record(multiaddr('/ip4/5.6.7.8/tcp/0'), from('/ip4/1.1.1.1/tcp/1')), false)
    assert.equal(m.record(multiaddr('/dns4/example.com/tcp/1'), from('/ip4/1.1.1.1/tcp/1')), false)
    // an outgoing connection from an ephemeral port: its NAT port means nothing to dialers
    assert.equal(m.record(multiaddr('/ip4/5.6.7.8/tcp/1'), from('/ip4/1.1.1.1/tcp/1', multiaddr('/ip4/192.168.1.2/tcp/53211'))), false)
    assert.equal(m.record(multiaddr('/ip4/5.6.7.8/tcp/1'), { remoteAddr: multiaddr('/ip4/1.1.1.1/tcp/1') }), false)
    // a UDP observation for a TCP listener
    assert.equal(m.record(multiaddr('/ip4/5.6.7.8/udp/1/quic-v1'), from('/ip4/1.1.1.1/tcp/1')), false)
    assert.deepEqual(m.all(), [])
  })

  it('a wildcard listen address matches any local IP on its port', () => {
    const m = new ObservedAddrs({ getListenAddrs: () => [multiaddr('/ip4/0.0.0.0/tcp/4001')] })
    assert.equal(m.record(multiaddr('/ip4/5.6.7.8/tcp/2'), from('/ip4/1.1.1.1/tcp/1', multiaddr('/ip4/10.1.2.3/tcp/4001'))), true)
  })

  it('keeps at most three candidates per listen address, the most observed', () => {
    const m = manager()
    for (let a = 0; a < 5; a++) {
      for (let i = 0; i < 4 + a; i++) m.record(multiaddr(`/ip4/5.6.7.${a}/tcp/1000`), from(`/ip4/1.1.${a}.${i}/tcp/1`))
    }
    assert.deepEqual(m.candidates().map(String), ['/ip4/5.6.7.4/tcp/1000', '/ip4/5.6.7.3/tcp/1000', '/ip4/5.6.7.2/tcp/1000'])
  })

  it('stays bounded: tracked addresses and observers per address', () => {
    const m = manager({ maxTracked: 8 })
    for (let i = 0; i < 1000; i++) m.record(multiaddr(`/ip4/9.9.${i >> 8}.${i & 255}/tcp/1`), from(`/ip4/1.1.${i >> 8}.${i & 255}/tcp/1`))
    assert.equal(m.all().length, 8)
    const one = manager()
    for (let i = 0; i < 1000; i++) one.record(multiaddr('/ip4/9.9.9.9/tcp/1'), from(`/ip4/1.1.${i >> 8}.${i & 255}/tcp/1`))
    assert.deepEqual(one.all().map(o => o.observers), [16])
  })

  it('an observation expires after the TTL, and with it the candidate', () => {
    let now = 1_000_000
    const m = manager({ now: () => now })
    for (let i = 1; i <= 4; i++) m.record(multiaddr('/ip4/5.6.7.8/tcp/1'), from(`/ip4/1.1.1.${i}/tcp/1`))
    assert.equal(m.candidates().length, 1)
    now += 30 * 60_000 - 1
    m.record(multiaddr('/ip4/5.6.7.8/tcp/1'), from('/ip4/1.1.1.1/tcp/1'))
    now += 2
    assert.deepEqual(m.candidates(), [], 'three of four reports expired')
    assert.deepEqual(m.all().map(o => o.observers), [1])
    now += 30 * 60_000
    assert.deepEqual(m.all(), [])
  })
})
