/**
 * The UPnP and NAT-PMP clients over real sockets against small scripted gateways on loopback
 * (the real miniupnpd runs in test/nat/miniupnpd-lab.test.ts): discovery, actions, faults, and
 * what a hostile gateway can try (oversized, slow, silent, pointing elsewhere).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { envelope, fakeIgd, fakePmp, fault } from '../support/fake-gateways.ts'
import { discoverIgd, UPnPGatewayClient } from '../../src/nat/upnp/igd-client.node.ts'
import { connectNatPmp } from '../../src/nat/pmp/pmp-client.node.ts'
import { WAN_IP_CONNECTION_V1 } from '../../src/nat/upnp/device-description.ts'
import { withDeadline } from '../../src/util/deadline.ts'

const soapOk = (action: string, body: string): [number, string] => {
  if (action === 'GetExternalIPAddress') return [200, envelope('<u:GetExternalIPAddressResponse xmlns:u="x"><NewExternalIPAddress>11.0.0.1</NewExternalIPAddress></u:GetExternalIPAddressResponse>')]
  if (action === 'AddPortMapping' && body.includes('<NewExternalPort>4001<')) return [500, fault(718)]
  return [200, envelope(`<u:${action}Response xmlns:u="x"/>`)]
}

test('upnp: discovery over SSDP, the description, and GetExternalIPAddress / AddPortMapping / DeletePortMapping with faults', async () => {
  const igd = await fakeIgd(soapOk)
  try {
    const client = await withDeadline(5000, undefined, undefined, async (signal) => await discoverIgd({ signal, searchAddress: { host: '127.0.0.1', port: igd.ssdpPort } }))
    assert.equal(client.gateway, '127.0.0.1')
    assert.equal(client.localAddress, '127.0.0.1')
    assert.equal(client.service.controlUrl.href, `http://127.0.0.1:${igd.port}/ctl`)
    const signal = AbortSignal.any([])
    assert.equal(await client.externalAddress({ signal }), '11.0.0.1')
    await assert.rejects(client.map({ protocol: 'tcp', internalHost: '127.0.0.1', internalPort: 4001, externalPort: 4001, lifetimeSeconds: 60, description: 'ts-libp2p' }, { signal }),
      (err: any) => err.name === 'UPnPActionError' && err.upnpErrorCode === 718)
    const mapping = await client.map({ protocol: 'udp', internalHost: '127.0.0.1', internalPort: 4001, externalPort: 4100, lifetimeSeconds: 60, description: 'ts-libp2p' }, { signal })
    assert.deepEqual(mapping, { protocol: 'udp', internalPort: 4001, externalPort: 4100, lifetimeSeconds: 60 })
    await client.unmap(mapping, { signal })
    const add = igd.actions.find(a => a.action === 'AddPortMapping' && a.body.includes('4100'))!.body
    for (const part of ['<NewRemoteHost></NewRemoteHost>', '<NewExternalPort>4100</NewExternalPort>', '<NewProtocol>UDP</NewProtocol>', '<NewInternalPort>4001</NewInternalPort>',
      '<NewInternalClient>127.0.0.1</NewInternalClient>', '<NewEnabled>1</NewEnabled>', '<NewLeaseDuration>60</NewLeaseDuration>']) assert.ok(add.includes(part), part)
    assert.ok(igd.actions.some(a => a.action === 'DeletePortMapping' && a.body.includes('<NewExternalPort>4100<') && a.body.includes('<NewProtocol>UDP<')))
  } finally {
    await igd.close()
  }
})

test('upnp: a device that only does permanent leases (725) gets lease 0', async () => {
  const igd = await fakeIgd((action, body) => action === 'AddPortMapping' && !body.includes('<NewLeaseDuration>0<') ? [500, fault(725)] : soapOk(action, body))
  try {
    const client = await withDeadline(5000, undefined, undefined, async (signal) => await UPnPGatewayClient.fromLocation(new URL(`http://127.0.0.1:${igd.port}/d.xml`), { signal }))
    const mapping = await client.map({ protocol: 'tcp', internalHost: '127.0.0.1', internalPort: 5, externalPort: 4200, lifetimeSeconds: 60, description: 'x' }, { signal: AbortSignal.any([]) })
    assert.equal(mapping.lifetimeSeconds, 0)
  } finally {
    await igd.close()
  }
})

test('upnp: SSDP answers pointing at another host are ignored: no gateway found', async () => {
  const igd = await fakeIgd(soapOk, { location: (port) => `http://127.0.0.2:${port}/rootDesc.xml` })
  try {
    await assert.rejects(withDeadline(1500, undefined, undefined, async (signal) => await discoverIgd({ signal, searchAddress: { host: '127.0.0.1', port: igd.ssdpPort } })),
      (err: any) => err.name === 'GatewayNotFoundError' && /points at 127\.0\.0\.2/.test(err.message))
  } finally {
    await igd.close()
  }
})

test('upnp: an oversized description or SOAP answer is cut off; a silent gateway times out', async () => {
  const huge = '<root>' + '<x>'.repeat(10) + ' '.repeat(200_000) + '</root>'
  const igd = await fakeIgd((action) => action === 'GetExternalIPAddress' ? [200, envelope(' '.repeat(100_000))] : [200, ''], { description: huge })
  const silent = createServer(() => {})
  await new Promise<void>(resolve => { silent.listen(0, '127.0.0.1', resolve) })
  try {
    await assert.rejects(withDeadline(5000, undefined, undefined, async (signal) => await UPnPGatewayClient.fromLocation(new URL(`http://127.0.0.1:${igd.port}/d.xml`), { signal })), { name: 'MessageTooLargeError' })
    const client = new UPnPGatewayClient({ serviceType: WAN_IP_CONNECTION_V1, controlUrl: new URL(`http://127.0.0.1:${igd.port}/ctl`) }, '127.0.0.1')
    await assert.rejects(client.externalAddress({ signal: AbortSignal.any([]) }), { name: 'MessageTooLargeError' })
    const quiet = new UPnPGatewayClient({ serviceType: WAN_IP_CONNECTION_V1, controlUrl: new URL(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/ctl`) }, '127.0.0.1')
    await assert.rejects(withDeadline(300, undefined, 'silent gateway', async (signal) => await quiet.externalAddress({ signal })), { name: 'TimeoutError' })
    await assert.rejects(UPnPGatewayClient.fromLocation(new URL('http://8.8.8.8/d.xml'), { signal: AbortSignal.any([]) }), { name: 'UntrustedGatewayError' })
  } finally {
    silent.closeAllConnections()
    silent.close()
    await igd.close()
  }
})

test('nat-pmp: external address, a mapping the gateway moves to another port, removal, refusals', async () => {
  const pmp = await fakePmp((req) => {
    if (req[1] === 0) return Uint8Array.of(0, 128, 0, 0, 0, 0, 0, 7, 11, 0, 0, 1)
    const internal = req.readUInt16BE(4)
    if (internal === 9) return Uint8Array.of(0, 128 + req[1], 0, 2, 0, 0, 0, 7, 0, 9, 0, 0, 0, 0, 0, 0) // not authorized
    const lifetime = req.readUInt32BE(8)
    const out = Buffer.alloc(16)
    out[1] = 128 + req[1]
    out.writeUInt32BE(7, 4)
    out.writeUInt16BE(internal, 8)
    out.writeUInt16BE(lifetime === 0 ? 0 : 40001, 10)
    out.writeUInt32BE(Math.min(lifetime, 30), 12)
    return out
  })
  const client = await connectNatPmp('127.0.0.1', { signal: AbortSignal.any([]), port: pmp.port })
  try {
    const signal = AbortSignal.any([])
    assert.equal(await client.externalAddress({ signal }), '11.0.0.1')
    const mapping = await client.map({ protocol: 'tcp', internalHost: '127.0.0.1', internalPort: 4001, externalPort: 4001, lifetimeSeconds: 720, description: '' }, { signal })
    assert.deepEqual(mapping, { protocol: 'tcp', internalPort: 4001, externalPort: 40001, lifetimeSeconds: 30 })
    await client.unmap(mapping, { signal })
    assert.deepEqual([...pmp.requests[2]], [0, 2, 0, 0, 0x0f, 0xa1, 0, 0, 0, 0, 0, 0])
    await assert.rejects(client.map({ protocol: 'udp', internalHost: '', internalPort: 9, externalPort: 9, lifetimeSeconds: 60, description: '' }, { signal }),
      (err: any) => err.name === 'NatPmpResultError' && err.resultCode === 2)
  } finally {
    client.close()
    pmp.close()
  }
})

test('nat-pmp: retransmits at 250 ms doubling; garbage is a typed error; a silent gateway ends with the signal', async () => {
  let answered = false
  const pmp = await fakePmp((req) => {
    if (req[1] === 0 && !answered && pmp.requests.length < 3) return undefined // drop the first two
    answered = true
    return req[1] === 0 ? Uint8Array.of(0, 128, 0, 0, 0, 0, 0, 7, 11, 0, 0, 1) : Uint8Array.of(0, 2, 0)
  })
  const client = await connectNatPmp('127.0.0.1', { signal: AbortSignal.any([]), port: pmp.port })
  try {
    const started = performance.now()
    assert.equal(await client.externalAddress({ signal: AbortSignal.any([]) }), '11.0.0.1')
    assert.equal(pmp.requests.length, 3)
    assert.ok(performance.now() - started >= 700, 'second retry after 250 + 500 ms')
    await assert.rejects(client.map({ protocol: 'tcp', internalHost: '', internalPort: 1, externalPort: 1, lifetimeSeconds: 1, description: '' }, { signal: AbortSignal.any([]) }), { name: 'InvalidMessageError' })
  } finally {
    client.close()
    pmp.close()
  }
  const silent = await fakePmp(() => undefined)
  const quiet = await connectNatPmp('127.0.0.1', { signal: AbortSignal.any([]), port: silent.port })
  try {
    await assert.rejects(withDeadline(600, undefined, 'no answer', async (signal) => await quiet.externalAddress({ signal })), { name: 'TimeoutError' })
  } finally {
    quiet.close()
    silent.close()
  }
})
