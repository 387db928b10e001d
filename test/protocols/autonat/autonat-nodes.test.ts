/**
 * AutoNAT between real ts nodes on loopback (real TCP, Noise, Yamux). Loopback counts as
 * public through `publicCidrs`, as a lab or private network would configure it.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { makeNode, stopAll, type TestNode } from '../../node/helpers.ts'
import { identify } from '../../../src/protocols/identify/index.ts'
import { autoNAT, AutoNATService } from '../../../src/protocols/autonat/index.ts'
import type { AutoNATOptions } from '../../../src/protocols/autonat/index.ts'
import type { ReachabilityUpdate } from '../../../src/interface/events.ts'
import { withDeadline } from '../../../src/util/deadline.ts'
import { forwardTcpPort, unusedTcpPort } from '../../support/ports.ts'

const NEVER = 24 * 60 * 60_000

async function autonatNode (options: AutoNATOptions = {}, publicCidrs = ['127.0.0.0/8'], listen = ['/ip4/127.0.0.1/tcp/0']): Promise<TestNode> {
  return await makeNode({
    addresses: { listen, publicCidrs },
    services: { identify: identify(), autonat: autoNAT({ bootDelay: NEVER, ...options }) }
  })
}

const autonatOf = (node: TestNode): AutoNATService => node.services.autonat as AutoNATService

/** Dials each server and waits until identify told us it serves AutoNAT. */
async function connectAll (client: TestNode, servers: TestNode[]): Promise<void> {
  await Promise.all(servers.map(async server => {
    const identified = new Promise<void>(resolve => {
      const listener = (evt: CustomEvent): void => {
        if ((evt.detail as { peerId: { equals(o: unknown): boolean } }).peerId.equals(server.peerId)) {
          client.removeEventListener('peer:identify', listener)
          resolve()
        }
      }
      client.addEventListener('peer:identify', listener)
    })
    await client.dial(server.getMultiaddrs()[0])
    await withDeadline(5_000, undefined, 'identify did not finish', async (signal) => {
      await new Promise<void>((resolve, reject) => {
        signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
        void identified.then(resolve)
      })
    })
  }))
}

describe('AutoNAT between ts nodes on loopback', () => {
  after(stopAll)

  it('v2 proves a listen address public with two servers; the node says public and announces nothing new', async () => {
    const servers = await Promise.all([1, 2, 3].map(async () => await autonatNode({ client: false })))
    const client = await autonatNode({ v1: false })
    await connectAll(client, servers)
    const events: ReachabilityUpdate[] = []
    client.addEventListener('reachability', (evt) => { events.push(evt.detail) })
    const listen = client.getMultiaddrs()[0].decapsulateCode(421)
    let status = await autonatOf(client).checkNow()
    // threshold 2: two servers' successes decide (three were asked about the one address at most)
    assert.equal(autonatOf(client).getAddrReachability(listen), 'public')
    assert.equal(status.status, 'public')
    assert.deepEqual(status.addrs.map(String), [listen.toString()])
    assert.deepEqual(events.map(e => e.status), ['public'])
    // held: another round changes nothing and fires nothing
    status = await autonatOf(client).checkNow()
    assert.equal(status.status, 'public')
    assert.equal(events.length, 1)
  })

  it('v2 finds an unreachable candidate private after paying the dial-data cost (its IP is not the observed one), and never announces it', async () => {
    const servers = await Promise.all([1, 2, 3].map(async () => await autonatNode({ client: false })))
    // only 127.0.0.3 counts as public for the client, so its loopback listen address is no candidate
    const client = await autonatNode({ v1: false }, ['127.0.0.3/32'])
    await connectAll(client, servers)
    const unreachable = multiaddr(`/ip4/127.0.0.3/tcp/${await unusedTcpPort()}`)
    client.addressManager.addCandidate(unreachable, 'upnp')
    const reachability = new Promise<ReachabilityUpdate>(resolve => {
      client.addEventListener('reachability', (evt) => { resolve(evt.detail) }, { once: true })
    })
    await autonatOf(client).checkNow()
    assert.equal(autonatOf(client).getAddrReachability(unreachable), 'private')
    const update = await reachability
    assert.equal(update.status, 'private')
    assert.deepEqual(update.addrs.map(String), [unreachable.toString()])
    assert.ok(!client.getMultiaddrs().some(a => a.toString().startsWith(unreachable.toString())))
  })

  it('a port-forwarded candidate (as UPnP would add) is announced once confirmed, and self:peer:update carries it', async () => {
    const servers = await Promise.all([1, 2].map(async () => await autonatNode({ client: false })))
    // only 127.0.0.2 counts as public for the client; a TCP forwarder on 127.0.0.2 plays the
    // router's port mapping to the client's real listener on 127.0.0.1
    const client = await autonatNode({ v1: false }, ['127.0.0.2/32'])
    const forwarder = await forwardTcpPort('127.0.0.2', Number(client.transportManager.getAddrs()[0].getComponents()[1].value))
    after(() => { forwarder.close() })
    const mapped = multiaddr(`/ip4/127.0.0.2/tcp/${forwarder.port}`)
    await connectAll(client, servers)
    client.addressManager.addCandidate(mapped, 'upnp')
    assert.ok(!client.getMultiaddrs().some(a => a.toString().startsWith(mapped.toString())), 'not announced before it is confirmed')
    const updated = new Promise<Multiaddr[]>(resolve => {
      client.addEventListener('self:peer:update', (evt) => { resolve(evt.detail.addrs) })
    })
    await autonatOf(client).checkNow()
    assert.equal(autonatOf(client).getAddrReachability(mapped), 'public')
    const addrs = await updated
    assert.ok(addrs.some(a => a.toString() === `${mapped.toString()}/p2p/${client.peerId.toString()}`), addrs.map(String).join(' '))
    forwarder.close()
  })

  it('v1 says public when the server can dial us back on our observed IP, private when it cannot', async () => {
    const server = await autonatNode({ client: false, v2: false })
    const client = await autonatNode({ v2: false })
    await connectAll(client, [server])
    const status = await autonatOf(client).checkNow()
    assert.equal(status.status, 'public')

    // a client that announces a port nothing listens on (as behind a NAT without a mapping)
    const hidden = await makeNode({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'], announce: [`/ip4/127.0.0.1/tcp/${await unusedTcpPort()}`] },
      services: { identify: identify(), autonat: autoNAT({ bootDelay: NEVER, v2: false }) }
    })
    await connectAll(hidden, [server])
    const verdict = await autonatOf(hidden).checkNow()
    assert.equal(verdict.status, 'private')
  })

  it('the dial-back is a fresh connection from the server, not from its listen port', async () => {
    const server = await autonatNode({ client: false })
    const client = await autonatNode({ v1: false })
    await connectAll(client, [server])
    const inbound: string[] = []
    client.addEventListener('connection:open', (evt) => {
      if (evt.detail.direction === 'inbound' && evt.detail.remotePeer.equals(server.peerId)) inbound.push(evt.detail.remoteAddr.toString())
    })
    const request = client.getConnections(server.peerId)[0]
    const result = await autonatOf(client).v2Client.check(request, [client.transportManager.getAddrs()[0]])
    assert.equal(result.reachability, 'public')
    assert.equal(inbound.length, 1, 'one dial-back connection')
    const serverListenPort = server.transportManager.getAddrs()[0].getComponents()[1].value
    assert.notEqual(multiaddr(inbound[0]).getComponents()[1].value, serverListenPort)
    assert.equal(request.status, 'open', 'the request connection stays')
  })

  it('rate limits per peer: the second request inside a minute is rejected (E_REQUEST_REJECTED)', async () => {
    const server = await autonatNode({ client: false, v2Server: { rateLimits: { perPeerPerMinute: 1 } } })
    const client = await autonatNode({ v1: false })
    await connectAll(client, [server])
    const connection = client.getConnections(server.peerId)[0]
    const listen = client.transportManager.getAddrs()[0]
    const first = await autonatOf(client).v2Client.check(connection, [listen])
    assert.equal(first.reachability, 'public')
    await assert.rejects(autonatOf(client).v2Client.check(connection, [listen]), { name: 'AutoNATResponseError', status: 100 })
  })

  it('the server refuses to dial private addresses (E_DIAL_REFUSED) when no public range covers them', async () => {
    const server = await autonatNode({ client: false }, [])
    const client = await autonatNode({ v1: false })
    await connectAll(client, [server])
    const connection = client.getConnections(server.peerId)[0]
    await assert.rejects(autonatOf(client).v2Client.check(connection, [client.transportManager.getAddrs()[0]]), { name: 'AutoNATResponseError', status: 101 })
  })

  it('the whole pipeline: peers observe us at a NAT\'s address, it becomes a candidate, AutoNAT confirms it, it is announced', async () => {
    // A TCP forwarder on 127.0.0.2 plays a NAT's port mapping to the client's listener on
    // 127.0.0.1; servers dial the client through it, so identify tells the client it was seen
    // at 127.0.0.2:<mapped port>, over a connection that arrived on its listen address.
    const client = await makeNode({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'], publicCidrs: ['127.0.0.2/32'], observed: { minObservers: 1 } },
      services: { identify: identify(), autonat: autoNAT({ bootDelay: NEVER, v1: false, server: false }) }
    })
    const forwarder = await forwardTcpPort('127.0.0.2', Number(client.transportManager.getAddrs()[0].getComponents()[1].value))
    after(() => { forwarder.close() })
    const mapped = `/ip4/127.0.0.2/tcp/${forwarder.port}`
    const servers = await Promise.all([1, 2].map(async () => await autonatNode({ client: false })))
    // both servers identified (the client knows they serve AutoNAT, and both observed it)
    const observed = new Promise<void>(resolve => {
      const seen = new Set<string>()
      client.addEventListener('peer:identify', (evt) => {
        seen.add(evt.detail.peerId.toString())
        if (seen.size === servers.length) resolve()
      })
    })
    // the servers dial in through the "NAT"; the client learns the servers serve AutoNAT
    await Promise.all(servers.map(async server => await server.dial(multiaddr(`${mapped}/p2p/${client.peerId.toString()}`))))
    await observed
    assert.equal(client.addressManager.getCandidates().find(c => c.multiaddr.toString() === mapped)?.source, 'observed')
    assert.ok(!client.getMultiaddrs().some(a => a.toString().startsWith(mapped)), 'observed but not yet confirmed: not announced')
    const announced = new Promise<Multiaddr[]>(resolve => {
      client.addEventListener('self:peer:update', (evt) => { resolve(evt.detail.addrs) })
    })
    const status = await autonatOf(client).checkNow()
    assert.equal(status.status, 'public')
    assert.deepEqual(status.addrs.map(String), [mapped])
    assert.ok((await announced).some(a => a.toString() === `${mapped}/p2p/${client.peerId.toString()}`))
    forwarder.close()
  })

  it('an inbound connection records what the dialer saw (our listen address); an outbound one records nothing', async () => {
    const a = await makeNode({ services: { identify: identify() } })
    const b = await makeNode({ services: { identify: identify() } })
    const identified = new Promise<void>(resolve => { a.addEventListener('peer:identify', () => { resolve() }, { once: true }) })
    const identifiedB = new Promise<void>(resolve => { b.addEventListener('peer:identify', () => { resolve() }, { once: true }) })
    await b.dial(a.getMultiaddrs()[0])
    await Promise.all([identified, identifiedB])
    const listen = a.transportManager.getAddrs()[0].toString()
    assert.deepEqual(a.addressManager.getObservedAddrs().map(o => [o.multiaddr.toString(), o.observers]), [[listen, 1]])
    assert.deepEqual(b.addressManager.getObservedAddrs(), [], 'b dialed from an ephemeral port')
  })
})
