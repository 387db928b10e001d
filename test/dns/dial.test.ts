/**
 * The dialer resolves host-named addresses before dialing: two real nodes on loopback, the
 * dialing one with a resolver whose zone lives in the test (the DNS server itself is tested in
 * dnsmasq.test.ts; here the subject is the dialer).
 */
import { afterEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { makeNode, stopAll } from '../node/helpers.ts'
import type { DnsResolver } from '../../src/dns/index.ts'
import { DnsResolutionError } from '../../src/dns/index.ts'
import { DialError } from '../../src/switch/errors.ts'

afterEach(stopAll)

function zoneResolver (txt: Record<string, string[]>, a: Record<string, string[]> = {}): DnsResolver & { asked: string[] } {
  const asked: string[] = []
  const lookup = async (table: Record<string, string[]>, name: string): Promise<string[]> => {
    asked.push(name)
    const records = table[name]
    if (records === undefined) throw new DnsResolutionError(`${name} has no record`)
    return records
  }
  return {
    asked,
    resolve4: async name => await lookup(a, name),
    resolve6: async name => await lookup({}, name),
    resolveTxt: async name => await lookup(txt, name)
  }
}

test('dialing /dnsaddr/<host>/p2p/<id> connects to the peer its records name', async () => {
  const target = await makeNode()
  const other = await makeNode()
  const [addr] = target.getMultiaddrs()
  const port = addr.toString().split('/')[4]
  const dns = zoneResolver({
    '_dnsaddr.peers.test': [`dnsaddr=/dnsaddr/other.test/p2p/${other.peerId.toString()}`, `dnsaddr=/dnsaddr/target.test/p2p/${target.peerId.toString()}`],
    '_dnsaddr.target.test': [`dnsaddr=/dns4/host.test/tcp/${port}/p2p/${target.peerId.toString()}`]
  }, { 'host.test': ['127.0.0.1'] })
  const dialer = await makeNode({ dns })
  const connection = await dialer.dial(multiaddr(`/dnsaddr/peers.test/p2p/${target.peerId.toString()}`))
  assert.ok(connection.remotePeer.equals(target.peerId))
  assert.equal(connection.remoteAddr.toString(), `/ip4/127.0.0.1/tcp/${port}`)
  // the other peer's branch was never looked up: its record was filtered out first
  assert.deepEqual(dns.asked, ['_dnsaddr.peers.test', '_dnsaddr.target.test', 'host.test'])
})

test('a name that does not resolve is one failure of the DialError', async () => {
  const target = await makeNode()
  const dialer = await makeNode({ dns: zoneResolver({}) })
  await assert.rejects(dialer.dial(multiaddr(`/dnsaddr/missing.test/p2p/${target.peerId.toString()}`)), (err: Error) => {
    assert.ok(err instanceof DialError, String(err))
    assert.match(err.message, /_dnsaddr\.missing\.test has no record/)
    return true
  })
})

test('localhost names are loopback and never asked of DNS (RFC 6761)', async () => {
  const target = await makeNode()
  const port = target.getMultiaddrs()[0].toString().split('/')[4]
  const dns = zoneResolver({})
  const dialer = await makeNode({ dns })
  const connection = await dialer.dial(multiaddr(`/dns4/localhost/tcp/${port}/p2p/${target.peerId.toString()}`))
  assert.ok(connection.remotePeer.equals(target.peerId))
  assert.deepEqual(dns.asked, [])
})
