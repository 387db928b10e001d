/**
 * What createLibp2p() runs without `services`: identify and ping offline (the switch is on in
 * every test), plus the public network's services when not offline. Nodes here are built but
 * never started, so nothing dials the public bootstrap peers.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../src/index.ts'
import { PUBLIC_BOOTSTRAP_LIST } from '../../src/discovery/public-bootstrap.ts'
import { Bootstrap } from '../../src/discovery/bootstrap.ts'
import { KadDHT } from '../../src/dht/kad-dht.ts'

test('offline (as in every test): the default services are identify and ping only', async () => {
  const node = await createLibp2p({ start: false })
  assert.deepEqual(Object.keys(node.services).sort(), ['identify', 'ping'])
})

test('online: the public bootstrap list, the Amino DHT as a client until AutoNAT says public, AutoNAT, mDNS, a DHT random walk', async () => {
  const node = await createLibp2p({ start: false, offline: false })
  const services = node.services as Record<string, unknown>
  assert.deepEqual(Object.keys(services).sort(), ['autonat', 'bootstrap', 'dht', 'identify', 'mdns', 'ping', 'randomWalk'])
  const dht = services.dht as KadDHT
  assert.ok(dht instanceof KadDHT)
  assert.equal(dht.protocol, '/ipfs/kad/1.0.0')
  assert.equal(dht.mode, 'client')
  assert.ok(services.bootstrap instanceof Bootstrap)
  assert.deepEqual((services.bootstrap as Bootstrap).peers.map(String), PUBLIC_BOOTSTRAP_LIST.map(a => a.split('/p2p/')[1]))
})

test('the public bootstrap list holds /dnsaddr/bootstrap.libp2p.io names only, no literal addresses', () => {
  assert.equal(PUBLIC_BOOTSTRAP_LIST.length, 4)
  for (const addr of PUBLIC_BOOTSTRAP_LIST) assert.match(addr, /^\/dnsaddr\/bootstrap\.libp2p\.io\/p2p\/Qm[1-9A-HJ-NP-Za-km-z]{44}$/)
})
