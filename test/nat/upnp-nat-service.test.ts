/**
 * The uPnPNAT service in a real node (TCP on loopback) against the scripted IGD and NAT-PMP
 * gateways of test/support/fake-gateways.ts: it maps the listen port after start, offers the
 * mapped address as a candidate, removes the mapping on stop, and maps nothing behind a double
 * NAT. The real router (miniupnpd in a namespace) is in miniupnpd-lab.test.ts.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { MemoryDatastore } from '../../src/store/memory.ts'
import { uPnPNAT, type UPnPNATOptions, type UPnPNATService } from '../../src/nat/index.ts'
import { envelope, fakeIgd, fakePmp } from '../support/fake-gateways.ts'
import type { NodeComponents } from '../../src/interface/components.ts'

async function natNode (options: UPnPNATOptions) {
  return await createLibp2p({
    datastore: new MemoryDatastore(),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    services: {
      nat: uPnPNAT({ discoveryTimeout: 3000, ...options }),
      // Hands the test the node's address manager (where AutoNAT would confirm candidates).
      probe: (components: NodeComponents) => ({ addressManager: components.addressManager })
    }
  })
}

async function nextEvent (service: UPnPNATService, type: string, match: (detail: any) => boolean = () => true): Promise<any> {
  return await new Promise(resolve => {
    const listener = (evt: Event): void => {
      const detail = (evt as CustomEvent).detail
      if (!match(detail)) return
      service.removeEventListener(type, listener)
      resolve(detail)
    }
    service.addEventListener(type, listener)
  })
}

const igdAnswers = (externalIp: string) => (action: string): [number, string] => action === 'GetExternalIPAddress'
  ? [200, envelope(`<u:GetExternalIPAddressResponse xmlns:u="x"><NewExternalIPAddress>${externalIp}</NewExternalIPAddress></u:GetExternalIPAddressResponse>`)]
  : [200, envelope(`<u:${action}Response xmlns:u="x"/>`)]

test('uPnPNAT: maps the listen port on the IGD after start and removes it on stop', async () => {
  const igd = await fakeIgd(igdAnswers('11.0.0.1'))
  const node = await natNode({ protocols: ['upnp'], ssdpAddress: { host: '127.0.0.1', port: igd.ssdpPort } })
  try {
    const service = node.services.nat
    assert.deepEqual(service.serviceCapabilities, ['@libp2p/nat'])
    const mapped = service.mappings.length > 0 ? { external: service.mappings[0].external, gateway: 'upnp' } : await nextEvent(service, 'mapped')
    const port = node.getMultiaddrs()[0].getComponents()[1].value
    assert.equal(mapped.external.toString(), `/ip4/11.0.0.1/tcp/${port}`)
    assert.equal(mapped.gateway, 'upnp')
    assert.equal(service.state, 'mapped')
    const add = igd.actions.find(a => a.action === 'AddPortMapping')!
    assert.ok(add.body.includes(`<NewInternalPort>${port}</NewInternalPort>`) && add.body.includes('<NewInternalClient>127.0.0.1</NewInternalClient>'))
    // A candidate, not an announced address, until someone (AutoNAT) confirms it.
    const addresses = node.services.probe.addressManager
    assert.ok(addresses.getCandidates().some(c => c.multiaddr.equals(mapped.external) && c.source === 'upnp'))
    assert.ok(!node.getMultiaddrs().some(a => a.toString().startsWith(mapped.external.toString())), 'not announced before confirmation')
    addresses.setAddrReachability(mapped.external, 'public')
    assert.ok(node.getMultiaddrs().some(a => a.toString().startsWith(mapped.external.toString())), 'announced once confirmed')
    await node.stop()
    assert.ok(igd.actions.some(a => a.action === 'DeletePortMapping'), 'the mapping is removed on stop')
    assert.ok(!addresses.getCandidates().some(c => c.multiaddr.equals(mapped.external)), 'and is no candidate any more')
  } finally {
    await node.stop()
    await igd.close()
  }
})

test('uPnPNAT: behind a double NAT (CGNAT external address) nothing is mapped', async () => {
  const igd = await fakeIgd(igdAnswers('100.64.3.4'))
  const node = await natNode({ protocols: ['upnp'], ssdpAddress: { host: '127.0.0.1', port: igd.ssdpPort } })
  try {
    const service = node.services.nat
    const detail = service.state === 'double-nat' ? { error: service.lastError } : await nextEvent(service, 'state', d => d.state === 'double-nat')
    assert.equal(detail.error.name, 'DoubleNatError')
    assert.equal(igd.actions.filter(a => a.action === 'AddPortMapping').length, 0)
    assert.equal(service.mappings.length, 0)
  } finally {
    await node.stop()
    await igd.close()
  }
})

test('uPnPNAT: NAT-PMP at a configured gateway; the granted port is the one announced', async () => {
  const pmp = await fakePmp((req) => {
    if (req[1] === 0) return Uint8Array.of(0, 128, 0, 0, 0, 0, 0, 1, 11, 0, 0, 1)
    const out = Buffer.alloc(16)
    out[1] = 128 + req[1]
    out.writeUInt16BE(req.readUInt16BE(4), 8)
    out.writeUInt16BE(req.readUInt32BE(8) === 0 ? 0 : 45678, 10)
    out.writeUInt32BE(req.readUInt32BE(8), 12)
    return out
  })
  const node = await natNode({ protocols: ['nat-pmp'], gateway: '127.0.0.1', natPmpPort: pmp.port })
  try {
    const service = node.services.nat
    const mapped = service.mappings.length > 0 ? { external: service.mappings[0].external, gateway: 'nat-pmp' } : await nextEvent(service, 'mapped')
    assert.equal(mapped.external.toString(), '/ip4/11.0.0.1/tcp/45678')
    assert.equal(mapped.gateway, 'nat-pmp')
  } finally {
    await node.stop()
    pmp.close()
  }
  const last = pmp.requests[pmp.requests.length - 1]
  assert.equal(last[1], 2)
  assert.equal(last.readUInt32BE(8), 0, 'stop sends a lifetime-0 request: the mapping is removed')
})

test('uPnPNAT: a node listening only on loopback looks for no gateway unless one is configured', async () => {
  const node = await natNode({})
  try {
    const service = node.services.nat
    const detail = service.state === 'no-gateway' ? { error: service.lastError } : await nextEvent(service, 'state', d => d.state === 'no-gateway')
    assert.match(detail.error.message, /no IPv4 listen address on a private network/)
  } finally {
    await node.stop()
  }
})

test('uPnPNAT: a node started again after stop maps again', async () => {
  const igd = await fakeIgd(igdAnswers('11.0.0.1'))
  const node = await natNode({ protocols: ['upnp'], ssdpAddress: { host: '127.0.0.1', port: igd.ssdpPort } })
  try {
    const service = node.services.nat
    if (service.mappings.length === 0) await nextEvent(service, 'mapped')
    await node.stop()
    assert.equal(service.state, 'stopped')
    const adds = igd.actions.filter(a => a.action === 'AddPortMapping').length
    const again = nextEvent(service, 'mapped')
    await node.start()
    await again
    assert.equal(service.state, 'mapped')
    assert.equal(igd.actions.filter(a => a.action === 'AddPortMapping').length, adds + 1)
  } finally {
    await node.stop()
    await igd.close()
  }
})
