/**
 * Rendezvous, ts to ts, both roles, over TCP on loopback (the rust-libp2p peer arrives with the
 * interop-framework issue, 18; until then these are the tests): registration and discovery,
 * cookies, TTL bounds and expiry, per-peer limits, authorization, persistence across a restart
 * of the point, unregister, and peer:discovery plus the peer store on the discovering side.
 */
import { afterEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { makeNode, stopAll, type TestNode } from '../node/helpers.ts'
import { rendezvous, rendezvousServer, RendezvousClient, RendezvousServer, ResponseStatus, RENDEZVOUS_PROTOCOL } from '../../src/discovery/rendezvous/index.ts'
import type { RendezvousServerOptions } from '../../src/discovery/rendezvous/index.ts'
import { MemoryDatastore } from '../../src/store/memory.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { createSignedPeerRecord } from '../../src/peer/peer-record.ts'
import { decodeRendezvousMessage, encodeRendezvousMessage, MessageType } from '../../src/discovery/rendezvous/messages.ts'
import { StreamReader, writeLP } from '../../src/util/stream-reader.ts'
import type { PeerInfo } from '../../src/interface/routing.ts'
import type { PrivateKey } from '../../src/interface/keys.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'

afterEach(stopAll)

async function point (options: RendezvousServerOptions = {}, datastore = new MemoryDatastore()): Promise<{ node: TestNode, server: RendezvousServer, addr: string }> {
  const node = await makeNode({ datastore, services: { identify: identify(), rendezvousServer: rendezvousServer({ minTtl: 1, ...options }) } })
  return { node, server: node.services.rendezvousServer as RendezvousServer, addr: node.getMultiaddrs()[0].toString() }
}

async function client (privateKey?: PrivateKey): Promise<{ node: TestNode, rv: RendezvousClient }> {
  const node = await makeNode({ privateKey, services: { identify: identify(), rendezvous: rendezvous() } })
  return { node, rv: node.services.rendezvous as RendezvousClient }
}

test('a peer registers, another discovers it: addresses into the peer store, a peer:discovery event', async () => {
  const rp = await point()
  const a = await client()
  const b = await client()
  assert.equal(await a.rv.register(rp.addr, 'my-app', { ttl: 3600 }), 3600)
  const events: PeerInfo[] = []
  b.node.addEventListener('peer:discovery', evt => { events.push((evt as CustomEvent<PeerInfo>).detail) })
  const { peers, cookie } = await b.rv.discover(rp.addr, 'my-app')
  assert.equal(peers.length, 1)
  assert.ok(peers[0].id.equals(a.node.peerId))
  assert.deepEqual(peers[0].multiaddrs.map(String), a.node.getMultiaddrs().map(m => m.toString().replace(`/p2p/${a.node.peerId.toString()}`, '')))
  assert.ok(cookie !== undefined)
  assert.equal(events.length, 1)
  const stored = await b.node.peerStore.get(a.node.peerId)
  assert.ok(stored.addresses.length > 0 && stored.addresses.every(x => x.expires !== undefined))
  // and b can now dial a by peer id alone
  const connection = await b.node.dial(a.node.peerId)
  assert.ok(connection.remotePeer.equals(a.node.peerId))
})

test('cookies page through a namespace and then return only what is new', async () => {
  const rp = await point()
  const [a, c, d] = [await client(), await client(), await client()]
  await a.rv.register(rp.addr, 'ns')
  await c.rv.register(rp.addr, 'ns')
  const first = await d.rv.discover(rp.addr, 'ns', { limit: 1 })
  assert.equal(first.peers.length, 1)
  const second = await d.rv.discover(rp.addr, 'ns', { limit: 1, cookie: first.cookie })
  assert.equal(second.peers.length, 1)
  assert.notEqual(second.peers[0].id.toString(), first.peers[0].id.toString())
  const third = await d.rv.discover(rp.addr, 'ns', { cookie: second.cookie })
  assert.equal(third.peers.length, 0)
  const e = await client()
  await e.rv.register(rp.addr, 'ns')
  const fourth = await d.rv.discover(rp.addr, 'ns', { cookie: third.cookie })
  assert.deepEqual(fourth.peers.map(p => p.id.toString()), [e.node.peerId.toString()])
  await assert.rejects(d.rv.discover(rp.addr, 'other', { cookie: third.cookie }), (err: { status?: number }) => err.status === ResponseStatus.E_INVALID_COOKIE)
})

test('TTL bounds, namespace length and the per-peer limit are refused with their status', async () => {
  const rp = await point({ minTtl: 60, maxTtl: 120, maxPerPeer: 2 })
  const a = await client()
  await assert.rejects(a.rv.register(rp.addr, 'x', { ttl: 10 }), (err: { status?: number }) => err.status === ResponseStatus.E_INVALID_TTL)
  await assert.rejects(a.rv.register(rp.addr, 'x', { ttl: 121 }), (err: { status?: number }) => err.status === ResponseStatus.E_INVALID_TTL)
  await assert.rejects(a.rv.register(rp.addr, 'n'.repeat(256), { ttl: 60 }), (err: { status?: number }) => err.status === ResponseStatus.E_INVALID_NAMESPACE)
  await a.rv.register(rp.addr, 'one', { ttl: 60 })
  await a.rv.register(rp.addr, 'two', { ttl: 60 })
  await a.rv.register(rp.addr, 'two', { ttl: 90 }) // a renewal is not a new registration
  await assert.rejects(a.rv.register(rp.addr, 'three', { ttl: 60 }), (err: { status?: number }) => err.status === ResponseStatus.E_UNAVAILABLE)
})

test('registrations expire with their TTL and an unregister removes one at once', async () => {
  let now = Date.now()
  const rp = await point({ now: () => now })
  const [a, b, c] = [await client(), await client(), await client()]
  await a.rv.register(rp.addr, 'ns', { ttl: 5 })
  await b.rv.register(rp.addr, 'ns', { ttl: 3600 })
  assert.equal((await c.rv.discover(rp.addr, 'ns')).peers.length, 2)
  now += 6_000
  assert.deepEqual((await c.rv.discover(rp.addr, 'ns')).peers.map(p => p.id.toString()), [b.node.peerId.toString()])
  await b.rv.unregister(rp.addr, 'ns')
  // the unregister has no answer: a discover on the same connection comes after it
  assert.equal((await c.rv.discover(rp.addr, 'ns')).peers.length, 0)
  assert.equal(rp.server.registrations, 1) // a's, expired, until the sweep
})

test('registrations persist in the datastore across a restart of the rendezvous point', async () => {
  const datastore = new MemoryDatastore()
  const rp = await point({}, datastore)
  const a = await client()
  await a.rv.register(rp.addr, 'kept', { ttl: 3600 })
  await rp.node.stop()
  const again = await point({}, datastore)
  const b = await client()
  const found = await b.rv.discover(again.addr, 'kept')
  assert.deepEqual(found.peers.map(p => p.id.toString()), [a.node.peerId.toString()])
})

test('a peer cannot register another peer\'s record (E_NOT_AUTHORIZED), nor a broken one', async () => {
  const rp = await point()
  const aKey = await generateKeyPair('Ed25519')
  const a = await client(aKey)
  const b = await client()
  const aRecord = await createSignedPeerRecord(aKey, a.node.getMultiaddrs())
  const ask = async (signedPeerRecord: Uint8Array): Promise<number | undefined> => {
    const stream = await b.node.dialProtocol(multiaddr(rp.addr), RENDEZVOUS_PROTOCOL)
    await writeLP(stream, encodeRendezvousMessage({ type: MessageType.REGISTER, register: { ns: 'x', signedPeerRecord, ttl: 3600n } }))
    const reader = new StreamReader(stream)
    const answer = decodeRendezvousMessage((await reader.readLP({ maxLength: 4096 }))!)
    reader.release()
    await stream.close()
    return answer.registerResponse?.status
  }
  assert.equal(await ask(aRecord), ResponseStatus.E_NOT_AUTHORIZED)
  const broken = aRecord.slice()
  broken[broken.length - 1] ^= 1
  assert.equal(await ask(broken), ResponseStatus.E_INVALID_SIGNED_PEER_RECORD)
  assert.equal(rp.server.registrations, 0)
})

test('with points and namespaces the client registers and discovers by itself', async () => {
  const rp = await point()
  const a = await makeNode({ services: { identify: identify(), rendezvous: rendezvous({ points: [rp.addr], namespaces: ['auto'], discoverInterval: 100 }) } })
  const b = await makeNode({ services: { identify: identify(), rendezvous: rendezvous({ points: [rp.addr], namespaces: ['auto'], discoverInterval: 100 }) } })
  const found = await new Promise<PeerInfo>(resolve => {
    a.addEventListener('peer:discovery', evt => {
      const info = (evt as CustomEvent<PeerInfo>).detail
      if (info.id.equals(b.peerId)) resolve(info)
    })
  })
  assert.ok(found.multiaddrs.length > 0)
})
