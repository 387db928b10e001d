import { test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { isTcpDialAddress, isTcpListenAddress, parseIpTcp, toMultiaddr } from '../../src/transport/multiaddr-utils.ts'
import { isWildcardIp, unmapIPv4 } from '../../src/util/multiaddr.ts'

test('parseIpTcp splits host, port, family and the rest', () => {
  assert.deepEqual(parseIpTcp(multiaddr('/ip4/1.2.3.4/tcp/80')), { host: '1.2.3.4', port: 80, family: 4, rest: [] })
  assert.deepEqual(parseIpTcp(multiaddr('/ip6/::1/tcp/0')), { host: '::1', port: 0, family: 6, rest: [] })
  const ws = parseIpTcp(multiaddr('/dns4/example.com/tcp/443/wss'))
  assert.equal(ws?.host, 'example.com')
  assert.equal(ws?.family, 0)
  assert.deepEqual(ws?.rest.map(c => c.name), ['wss'])
  assert.equal(parseIpTcp(multiaddr('/ip6zone/eth0/ip6/fe80::1/tcp/1'))?.host, 'fe80::1%eth0')
  assert.equal(parseIpTcp(multiaddr('/ip4/1.2.3.4/udp/80')), undefined)
  assert.equal(parseIpTcp(multiaddr('/ip4/1.2.3.4')), undefined)
  assert.equal(parseIpTcp(multiaddr('/p2p-circuit')), undefined)
  assert.equal(parseIpTcp(multiaddr('/ip6zone/eth0/ip4/1.2.3.4/tcp/1')), undefined)
})

test('dial and listen address shapes', () => {
  assert.equal(isTcpDialAddress(multiaddr('/ip6zone/eth0/ip6/fe80::1/tcp/1')), true)
  assert.equal(isTcpDialAddress(multiaddr('/ip4/1.2.3.4/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit')), false)
  assert.equal(isTcpListenAddress(multiaddr('/ip4/1.2.3.4/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN')), false)
})

test('toMultiaddr builds what sockets report, unmapping IPv4-in-IPv6', () => {
  assert.equal(toMultiaddr('127.0.0.1', 5, 'IPv4').toString(), '/ip4/127.0.0.1/tcp/5')
  assert.equal(toMultiaddr('::1', 5, 'IPv6').toString(), '/ip6/::1/tcp/5')
  assert.equal(toMultiaddr('::ffff:10.0.0.1', 7, 'IPv6').toString(), '/ip4/10.0.0.1/tcp/7')
  assert.equal(toMultiaddr('fe80::1%eth0', 7, 6).toString(), '/ip6zone/eth0/ip6/fe80::1/tcp/7')
  assert.equal(toMultiaddr('2001:db8::1', 1).toString(), '/ip6/2001:db8::1/tcp/1')
  assert.deepEqual(unmapIPv4('::FFFF:1.2.3.4'), { ip: '1.2.3.4', family: 4 })
  assert.equal(isWildcardIp('::'), true)
  assert.equal(isWildcardIp('0.0.0.0'), true)
  assert.equal(isWildcardIp('127.0.0.1'), false)
})
