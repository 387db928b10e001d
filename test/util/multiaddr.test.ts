import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { classifyIp, ipOf, parsePublicRanges, isLinkLocalIPv6, isLoopbackIp, isRelayed, isWildcardIp, peerIdStringOf, reachabilityOf, unmapIPv4, withoutPeerId } from '../../src/util/multiaddr.ts'

const ID = '12D3KooWRCWvr2v74YL1E24YgeeCACYcJEeXYp9sCRNhAVGUMucb'
const RELAY = '12D3KooWB37ePHfdUWVd2WJGz236gTTaLdNvUroxzZNcXmugBAQR'

describe('multiaddr helpers', () => {
  it('classifies IPs', () => {
    for (const ip of ['127.0.0.1', '127.9.9.9', '::1']) assert.equal(classifyIp(ip), 'loopback', ip)
    for (const ip of ['::ffff:127.0.0.1', '0:0:0:0:0:0:0:1', '0000:0000::0001']) assert.equal(classifyIp(ip), 'loopback', ip)
    for (const ip of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.0.1', '100.64.0.1', '0.1.2.3', 'fd00::1', 'FC12::1', '::', '::ffff:10.0.0.1']) assert.equal(classifyIp(ip), 'private', ip)
    for (const ip of ['169.254.1.1', 'fe80::1', 'FEBF::1', '::ffff:169.254.0.9']) assert.equal(classifyIp(ip), 'link-local', ip)
    for (const ip of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '169.255.0.1', '192.0.0.64', '192.0.3.1', '198.17.255.255', '198.20.0.0', '223.255.255.255', '2606:4700::1', '3fff::1', '64:ff9b::808:808', '64:ff9b:1::1', '::ffff:8.8.8.8', 'not an ip']) assert.equal(classifyIp(ip), 'public', ip)
    // The ranges go-libp2p's manet also never counts as public (its "unroutable" list), and IPv6 outside global unicast.
    for (const ip of ['192.0.0.1', '192.0.2.1', '198.51.100.7', '203.0.113.255', '192.88.99.1', '198.18.0.1', '198.19.255.255', '224.0.0.251', '239.255.255.250', '240.0.0.1', '255.255.255.255', '2001:db8::1', '2001:db8:ffff::1', 'ff02::fb', 'fec0::1', '64:ff9b:2::1', '::ffff:203.0.113.1']) assert.equal(classifyIp(ip), 'unroutable', ip)
    assert.equal(classifyIp('203.0.113.9', parsePublicRanges(['203.0.113.0/24'])), 'public')
    assert.equal(reachabilityOf(multiaddr('/dns4/localhost/tcp/1')), 'loopback')
    assert.equal(reachabilityOf(multiaddr('/dns4/example.com/tcp/1')), 'public')
    assert.equal(reachabilityOf(multiaddr('/ip6/fe80::1/tcp/1')), 'link-local')
  })

  it('reads the IP of an address\'s host', () => {
    assert.equal(ipOf(multiaddr('/ip4/1.2.3.4/tcp/1/ws')), '1.2.3.4')
    assert.equal(ipOf(multiaddr('/ip6zone/eth0/ip6/fe80::1/tcp/1')), 'fe80::1')
    assert.equal(ipOf(multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${RELAY}/p2p-circuit/p2p/${ID}`)), '1.2.3.4')
    assert.equal(ipOf(multiaddr('/dns4/example.com/tcp/1')), undefined)
    assert.equal(ipOf(multiaddr('/memory/abc')), undefined)
  })

  it('finds and strips the trailing peer id', () => {
    assert.equal(peerIdStringOf(multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${ID}`)), ID)
    assert.equal(peerIdStringOf(multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${RELAY}/p2p-circuit/p2p/${ID}`)), ID)
    assert.equal(peerIdStringOf(multiaddr('/ip4/1.2.3.4/tcp/1')), undefined)
    assert.equal(withoutPeerId(multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${ID}`)).toString(), '/ip4/1.2.3.4/tcp/1')
    const circuit = multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${RELAY}/p2p-circuit`)
    assert.equal(withoutPeerId(circuit).toString(), circuit.toString())
  })

  it('a bare circuit address names no target peer; relayed addresses are recognised', () => {
    const circuit = multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${RELAY}/p2p-circuit`)
    assert.equal(peerIdStringOf(circuit), undefined)
    assert.equal(isRelayed(circuit), true)
    assert.equal(isRelayed(multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${ID}`)), false)
  })

  it('recognises wildcard, loopback and link-local IPs and unmaps IPv4-in-IPv6', () => {
    for (const ip of ['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '0::0']) assert.equal(isWildcardIp(ip), true, ip)
    for (const ip of ['127.0.0.1', '::1', 'not an ip']) assert.equal(isWildcardIp(ip), false, ip)
    assert.equal(isLoopbackIp('127.1.2.3'), true)
    assert.equal(isLoopbackIp('128.0.0.1'), false)
    assert.equal(isLinkLocalIPv6('fe80::1'), true)
    assert.equal(isLinkLocalIPv6('fec0::1'), false)
    assert.equal(isLinkLocalIPv6('169.254.0.1'), false)
    assert.deepEqual(unmapIPv4('::ffff:10.0.0.1'), { ip: '10.0.0.1', family: 4 })
    assert.deepEqual(unmapIPv4('::1'), { ip: '::1', family: 6 })
  })

  it('public ranges (--public-cidr) make private and loopback IPs public, and nothing else', () => {
    const ranges = parsePublicRanges(['11.0.0.0/8', '10.1.0.0/16', '127.0.0.0/8', 'fd00::/8'])
    assert.equal(classifyIp('10.1.2.3', ranges), 'public')
    assert.equal(classifyIp('10.2.2.3', ranges), 'private')
    assert.equal(classifyIp('127.0.0.1', ranges), 'public')
    assert.equal(classifyIp('fd12::1', ranges), 'public')
    assert.equal(classifyIp('fc12::1', ranges), 'private')
    assert.equal(reachabilityOf(multiaddr('/ip4/10.1.0.9/tcp/1'), ranges), 'public')
    assert.equal(reachabilityOf(multiaddr('/ip4/10.1.0.9/tcp/1')), 'private')
    assert.throws(() => parsePublicRanges(['11.0.0.0/33']), { name: 'InvalidParametersError' })
  })
})
