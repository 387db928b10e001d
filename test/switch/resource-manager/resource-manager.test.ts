import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { ResourceManager, ResourceLimitError } from '../../../src/switch/resource-manager/index.ts'
import type { ConnectionResources, StreamResources } from '../../../src/switch/resource-manager/index.ts'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../../src/peer/peer-id.ts'
import type { PeerId } from '../../../src/interface/peer-id.ts'

const addr = (ip: string): ReturnType<typeof multiaddr> => multiaddr(ip.includes(':') ? `/ip6/${ip}/tcp/1` : `/ip4/${ip}/tcp/1`)
const newPeer = async (): Promise<PeerId> => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

function refusedBy (scope: RegExp, limit: string) {
  return (err: unknown): boolean => err instanceof ResourceLimitError && scope.test(err.scope) && err.limit === limit &&
    err.code === 'ERR_RESOURCE_LIMIT_EXCEEDED' && err.message.includes(err.scope) && err.message.includes(limit)
}

describe('resource manager', () => {
  it('the system scope limits connections each way and in total', () => {
    const rm = new ResourceManager({ limits: { system: { connsInbound: 2, connsOutbound: 3, conns: 4 }, ip: { conns: 100, connsInbound: 100 }, subnet: { conns: 100, connsInbound: 100 }, transient: { conns: 100, connsInbound: 100, connsOutbound: 100 } } })
    rm.openConnection('inbound', addr('10.0.0.1'))
    rm.openConnection('inbound', addr('10.0.1.1'))
    assert.throws(() => rm.openConnection('inbound', addr('10.0.2.1')), refusedBy(/^system$/, 'connsInbound'))
    rm.openConnection('outbound', addr('10.0.3.1'))
    rm.openConnection('outbound', addr('10.0.4.1'))
    assert.throws(() => rm.openConnection('outbound', addr('10.0.5.1')), refusedBy(/^system$/, 'conns'))
  })

  it('per-IP (/32, /64) and per-subnet (/24, /48) limits, and the allowlist escapes them', () => {
    const rm = new ResourceManager({ limits: { ip: { conns: 2 }, subnet: { conns: 3 } }, allowlist: ['/ip4/10.9.0.0/ipcidr/16', '192.168.7.7'], limitPrivateSubnets: true })
    rm.openConnection('inbound', addr('10.0.0.1'))
    rm.openConnection('inbound', addr('10.0.0.1'))
    assert.throws(() => rm.openConnection('inbound', addr('10.0.0.1')), refusedBy(/^ip:4\/32:0a000001$/, 'conns'))
    rm.openConnection('inbound', addr('10.0.0.2'))
    assert.throws(() => rm.openConnection('inbound', addr('10.0.0.3')), refusedBy(/^subnet:4\/24:0a0000$/, 'conns'))
    rm.openConnection('inbound', addr('10.0.1.3'))
    for (let i = 0; i < 10; i++) rm.openConnection('inbound', addr('10.9.1.1'))
    rm.openConnection('inbound', addr('192.168.7.7'))
    rm.openConnection('inbound', addr('192.168.7.7'))
    rm.openConnection('inbound', addr('192.168.7.7'))
    assert.equal(rm.allowlistScope.usage.connsInbound, 13)
    rm.openConnection('inbound', addr('2001:db8:1:2::1'))
    rm.openConnection('inbound', addr('2001:db8:1:2::2'))
    assert.throws(() => rm.openConnection('inbound', addr('2001:db8:1:2::3')), refusedBy(/^ip:6\/64:/, 'conns'))
    rm.openConnection('inbound', addr('2001:db8:1:3::1'))
    assert.throws(() => rm.openConnection('inbound', addr('2001:db8:1:4::1')), refusedBy(/^subnet:6\/48:/, 'conns'))
  })

  it('private and link-local ranges are limited per address but not per subnet, unless limitPrivateSubnets', () => {
    const rm = new ResourceManager({ limits: { ip: { conns: 2 }, subnet: { conns: 3 } } })
    // a LAN of 40 peers in one /24 (RFC 1918, CGNAT, IPv6 ULA and link-local) all connect
    for (let i = 1; i <= 40; i++) rm.openConnection('inbound', addr(`192.168.1.${i}`))
    for (let i = 1; i <= 10; i++) rm.openConnection('inbound', addr(`100.64.0.${i}`))
    for (let i = 1; i <= 10; i++) rm.openConnection('inbound', addr(`fd00:1:2:${i}::1`))
    for (let i = 1; i <= 10; i++) rm.openConnection('inbound', addr(`169.254.0.${i}`))
    // ... each still one address's worth
    rm.openConnection('inbound', addr('192.168.1.1'))
    assert.throws(() => rm.openConnection('inbound', addr('192.168.1.1')), refusedBy(/^ip:4\/32:c0a80101$/, 'conns'))
    // a public /24 is still capped
    for (let i = 1; i <= 3; i++) rm.openConnection('inbound', addr(`11.0.0.${i}`))
    assert.throws(() => rm.openConnection('inbound', addr('11.0.0.4')), refusedBy(/^subnet:4\/24:0b0000$/, 'conns'))
    const strict = new ResourceManager({ limits: { ip: { conns: 2 }, subnet: { conns: 3 } }, limitPrivateSubnets: true })
    for (let i = 1; i <= 3; i++) strict.openConnection('inbound', addr(`192.168.1.${i}`))
    assert.throws(() => strict.openConnection('inbound', addr('192.168.1.4')), refusedBy(/^subnet:4\/24:c0a801$/, 'conns'))
  })

  it('transient, peer and protocol scopes limit streams; a stream moves from transient to its protocol', async () => {
    const rm = new ResourceManager({ limits: { transient: { streamsInbound: 2 }, peer: { streamsInbound: 3 }, protocol: { streamsInbound: 1 } } })
    const alice = await newPeer()
    const a = rm.openStream(alice, 'inbound')
    const b = rm.openStream(alice, 'inbound')
    assert.throws(() => rm.openStream(alice, 'inbound'), refusedBy(/^transient$/, 'streamsInbound'))
    a.setProtocol('/echo/1.0.0')
    assert.equal(rm.transient.usage.streamsInbound, 1)
    assert.throws(() => { b.setProtocol('/echo/1.0.0') }, refusedBy(/^protocol:\/echo\/1\.0\.0$/, 'streamsInbound'))
    b.setProtocol('/ping/1.0.0')
    rm.openStream(alice, 'inbound')
    assert.throws(() => rm.openStream(alice, 'inbound'), refusedBy(/^peer:12D3KooW/, 'streamsInbound'))
    assert.equal(rm.peerScope(alice)?.usage.streamsInbound, 3)
    assert.equal(rm.protocolScope('/echo/1.0.0')?.usage.streamsInbound, 1)
  })

  it('a connection moves from transient to its peer scope, limited per peer', async () => {
    const rm = new ResourceManager({ limits: { peer: { conns: 1 }, ip: { conns: 10 }, subnet: { conns: 10 } } })
    const bob = await newPeer()
    const c1 = rm.openConnection('inbound', addr('10.0.0.1'))
    assert.equal(rm.transient.usage.connsInbound, 1)
    c1.setPeer(bob)
    assert.equal(rm.transient.usage.connsInbound, 0)
    assert.equal(rm.peerScope(bob)?.usage.connsInbound, 1)
    const c2 = rm.openConnection('inbound', addr('10.0.0.2'))
    assert.throws(() => { c2.setPeer(bob) }, refusedBy(/^peer:/, 'conns'))
    c2.done()
    assert.equal(rm.transient.usage.connsInbound, 0)
  })

  it('every reservation is released exactly: after many opens, refusals and closes every scope is empty and forgotten', async () => {
    const rm = new ResourceManager({ limits: { ip: { conns: 3 }, subnet: { conns: 5 }, peer: { streams: 4 }, protocol: { streams: 6 } } })
    const peers = await Promise.all([newPeer(), newPeer(), newPeer()])
    const held: Array<ConnectionResources | StreamResources> = []
    let refused = 0
    for (let i = 0; i < 400; i++) {
      try {
        if (i % 3 === 0) {
          const c = rm.openConnection(i % 2 === 0 ? 'inbound' : 'outbound', addr(`10.0.${i % 4}.${i % 7}`))
          held.push(c) // refused below or not, the owner closes it later
          if (i % 5 !== 0) c.setPeer(peers[i % 3])
        } else {
          const s = rm.openStream(peers[i % 3], i % 2 === 0 ? 'inbound' : 'outbound')
          held.push(s)
          if (i % 4 !== 0) s.setProtocol(`/p/${i % 3}`)
        }
      } catch (err) {
        assert.ok(err instanceof ResourceLimitError)
        refused++
      }
      if (i % 7 === 0 && held.length > 0) held.splice(i % held.length, 1)[0].done()
    }
    assert.ok(refused > 0, 'some were refused')
    for (const h of held) { h.done(); h.done() }
    for (const scope of [rm.system, rm.transient, rm.allowlistScope]) assert.ok(scope.isEmpty(), `${scope.name} is empty`)
    assert.equal(rm.scopeCount, 0)
  })

  it('an emptied protocol scope is kept for the next stream of its protocol, at most 64 protocol scopes in all', async () => {
    const rm = new ResourceManager({ limits: { protocol: { streams: 2 } } })
    const peer = await newPeer()
    const first = rm.openStream(peer, 'outbound')
    first.setProtocol('/ping/1.0.0')
    const scope = rm.protocolScope('/ping/1.0.0')
    first.done()
    assert.equal(rm.scopeCount, 0, 'an empty kept scope is not held')
    // the next stream of the protocol reuses it, with its limit intact
    const a = rm.openStream(peer, 'outbound')
    a.setProtocol('/ping/1.0.0')
    const b = rm.openStream(peer, 'outbound')
    b.setProtocol('/ping/1.0.0')
    assert.equal(rm.protocolScope('/ping/1.0.0'), scope)
    const c = rm.openStream(peer, 'outbound')
    assert.throws(() => { c.setProtocol('/ping/1.0.0') }, refusedBy(/^protocol:\/ping\/1\.0\.0$/, 'streams'))
    for (const s of [a, b, c]) s.done()
    // a hundred protocols, one stream each: only 64 scopes stay
    for (let i = 0; i < 100; i++) {
      const s = rm.openStream(peer, 'inbound')
      s.setProtocol(`/p/${i}`)
      s.done()
    }
    let kept = 0
    for (let i = 0; i < 100; i++) if (rm.protocolScope(`/p/${i}`) !== undefined) kept++
    assert.ok(kept + (rm.protocolScope('/ping/1.0.0') !== undefined ? 1 : 0) <= 64, `${kept} kept`)
    assert.equal(rm.scopeCount, 0)
    assert.ok(rm.system.isEmpty() && rm.transient.isEmpty())
  })

  it('reports every refusal through onRefusal; defaults scale with the machine', () => {
    const refusals: ResourceLimitError[] = []
    const rm = new ResourceManager({ limits: { ip: { conns: 1 } }, onRefusal: (err) => { refusals.push(err) } })
    rm.openConnection('inbound', addr('10.0.0.1'))
    assert.throws(() => rm.openConnection('inbound', addr('10.0.0.1')))
    assert.deepEqual(refusals.map(e => [e.scope.split(':')[0], e.limit]), [['ip', 'conns']])
    const small = new ResourceManager({ machine: { memory: 512 * 1024 * 1024, fds: 256 } })
    const big = new ResourceManager({ machine: { memory: 64 * 1024 * 1024 * 1024, fds: 65536 } })
    assert.ok((big.limits.system.conns ?? 0) > (small.limits.system.conns ?? 0))
    assert.ok((small.limits.system.conns ?? 0) >= 128)
  })
})

describe('resource manager on loopback', () => {
  it('exempts loopback from the per-address limits unless limitLoopback is set', () => {
    const relaxed = new ResourceManager({ limits: { ip: { conns: 1 }, subnet: { conns: 1 } } })
    for (let i = 0; i < 5; i++) relaxed.openConnection('inbound', addr('127.0.0.1'))
    relaxed.openConnection('inbound', addr('::1'))
    const strict = new ResourceManager({ limits: { ip: { conns: 1 } }, limitLoopback: true })
    strict.openConnection('inbound', addr('127.0.0.1'))
    assert.throws(() => strict.openConnection('inbound', addr('127.0.0.1')), refusedBy(/^ip:/, 'conns'))
  })
})
