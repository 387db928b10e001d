import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cidrContains, parseCidr, parseIp, prefixKey } from '../../src/util/ip.ts'

test('parseIp reads IPv4, IPv6 (compressed, embedded IPv4, zones) and refuses the rest', () => {
  assert.deepEqual([...parseIp('10.1.2.3')!], [10, 1, 2, 3])
  assert.deepEqual([...parseIp('::ffff:10.1.2.3')!], [10, 1, 2, 3])
  assert.deepEqual([...parseIp('::1')!], [...new Uint8Array(15), 1])
  assert.deepEqual([...parseIp('2001:db8::8:800:200c:417a')!], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 8, 8, 0, 0x20, 0x0c, 0x41, 0x7a])
  assert.deepEqual([...parseIp('fe80::1%eth0')!].slice(0, 2), [0xfe, 0x80])
  assert.deepEqual([...parseIp('::1.2.3.4')!].slice(12), [1, 2, 3, 4])
  for (const bad of ['', '1.2.3', '1.2.3.256', '1.2.3.4.5', 'a.b.c.d', '1::2::3', '12345::', ':::', '1:2:3:4:5:6:7:8:9', 'g::1']) assert.equal(parseIp(bad), undefined, bad)
})

test('prefix keys group /24 and /64 neighbours and separate the rest', () => {
  assert.equal(prefixKey(parseIp('10.1.2.3')!, 24), prefixKey(parseIp('10.1.2.200')!, 24))
  assert.notEqual(prefixKey(parseIp('10.1.2.3')!, 24), prefixKey(parseIp('10.1.3.3')!, 24))
  assert.notEqual(prefixKey(parseIp('10.1.2.3')!, 32), prefixKey(parseIp('10.1.2.4')!, 32))
  assert.equal(prefixKey(parseIp('2001:db8:1:2::1')!, 64), prefixKey(parseIp('2001:db8:1:2:ffff::9')!, 64))
  assert.notEqual(prefixKey(parseIp('2001:db8:1:2::1')!, 64), prefixKey(parseIp('2001:db8:1:3::1')!, 64))
  assert.equal(prefixKey(parseIp('2001:db8:1:2::1')!, 48), prefixKey(parseIp('2001:db8:1:3::1')!, 48))
  assert.notEqual(prefixKey(parseIp('10.0.0.1')!, 32), prefixKey(parseIp('::a00:1')!, 128).slice(0, 0) + 'x')
})

test('CIDR ranges contain what they should, including bit-level prefixes', () => {
  const ten = parseCidr('10.0.0.0/8')
  assert.equal(cidrContains(ten, parseIp('10.255.0.1')!), true)
  assert.equal(cidrContains(ten, parseIp('11.0.0.1')!), false)
  const odd = parseCidr('172.16.0.0/12')
  assert.equal(cidrContains(odd, parseIp('172.31.255.255')!), true)
  assert.equal(cidrContains(odd, parseIp('172.32.0.0')!), false)
  assert.equal(cidrContains(parseCidr('2001:db8::/32'), parseIp('2001:db8:ffff::1')!), true)
  assert.equal(cidrContains(parseCidr('2001:db8::/32'), parseIp('10.0.0.1')!), false)
  assert.equal(cidrContains(parseCidr('127.0.0.1'), parseIp('127.0.0.1')!), true)
  for (const bad of ['10.0.0.0/33', 'x/8', '10.0.0.0/-1', '::/129']) assert.throws(() => parseCidr(bad), { code: 'ERR_INVALID_PARAMETERS' })
})
