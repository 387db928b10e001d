import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { closestPeersOf, createMemoryNode, MemoryNetwork, waitForRoutingTable, type DhtNode } from './network-helpers.ts'
import { generateKeyPair, publicKeyToProtobuf } from '../../src/crypto/index.ts'
import { MemoryDatastore } from '../../src/store/memory.ts'
import { KAD_PROTOCOL } from '../../src/dht/index.ts'
import { encodeMessage, decodeMessage, MessageType } from '../../src/dht/message.ts'
import { encodeLP, StreamReader } from '../../src/util/stream-reader.ts'
import { sha256 } from '../../src/crypto/index.ts'
import { utf8Encode } from '../../src/util/bytes.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { multiaddr } from '@multiformats/multiaddr'

const SIZE = 25

function concat (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}

/** A /pk/ record for a fresh RSA-sized (sha256-hashed) id, valid for go, js and us. */
async function pkRecord (): Promise<{ key: Uint8Array, value: Uint8Array }> {
  const pk = await generateKeyPair('Ed25519')
  const value = publicKeyToProtobuf(pk.publicKey)
  return { key: concat(utf8Encode('/pk/'), Uint8Array.of(0x12, 0x20), sha256(value)), value }
}

describe('Kademlia DHT over the memory transport', () => {
  const network = new MemoryNetwork()
  const nodes: DhtNode[] = []
  let client: DhtNode

  before(async () => {
    for (let i = 0; i < SIZE; i++) {
      const node = await createMemoryNode({ network })
      if (i > 0) {
        for (let j = 0; j < Math.min(i, 2); j++) await node.dial(nodes[j].getMultiaddrs()[0])
        await waitForRoutingTable(node, 1)
        await node.services.dht.refreshRoutingTable()
      }
      nodes.push(node)
    }
    client = await createMemoryNode({ network, dht: { mode: 'client' } })
    await client.dial(nodes[0].getMultiaddrs()[0])
    await waitForRoutingTable(client, 1)
    await client.services.dht.refreshRoutingTable()
  })

  after(async () => {
    await Promise.all([...nodes, client].map(async n => { await n.stop() }))
  })

  it('servers advertise the protocol, clients do not, and only servers enter routing tables', async () => {
    assert.ok(nodes[0].getProtocols().includes(KAD_PROTOCOL))
    assert.ok(!client.getProtocols().includes(KAD_PROTOCOL))
    assert.ok(client.services.dht.routingTable.size >= 3)
    for (const node of nodes) assert.ok(!node.services.dht.routingTable.has(client.peerId), 'a client entered a routing table')
    assert.ok(nodes.every(n => n.services.dht.routingTable.size >= 3))
  })

  it('every node finds every other one by findPeer over the network', async () => {
    for (let i = 0; i < SIZE; i++) {
      const from = nodes[i]
      const to = nodes[(i * 7 + 3) % SIZE]
      if (from === to) continue
      const info = await from.services.dht.findPeer(to.peerId, { useLocal: false })
      assert.deepEqual(info.multiaddrs.map(String), to.getMultiaddrs().map(a => a.toString().replace(/\/p2p\/.*$/, '')))
    }
    const info = await client.services.dht.findPeer(nodes[SIZE - 1].peerId, { useLocal: false })
    assert.ok(info.id.equals(nodes[SIZE - 1].peerId))
  })

  it('getClosestPeers yields progress events and the k closest answering peers', async () => {
    const key = utf8Encode('some key')
    const types = new Set<string>()
    const finals = []
    for await (const evt of nodes[3].services.dht.getClosestPeers(key)) {
      types.add(evt.type)
      if (evt.type === 'final-peer') finals.push(evt.peer)
    }
    assert.ok(types.has('send-query') && types.has('peer-response') && types.has('query-done'))
    assert.equal(finals.length, 20)
  })

  it('put by one node is read by another; unknown namespaces and bad /pk/ values are rejected', async () => {
    const { key, value } = await pkRecord()
    const accepted = await nodes[1].services.dht.put(key, value)
    assert.ok(accepted >= 3)
    assert.deepEqual(await nodes[SIZE - 2].services.dht.get(key), value)
    assert.deepEqual(await client.services.dht.get(key), value)
    await assert.rejects(nodes[1].services.dht.put(utf8Encode('/nobody/x'), Uint8Array.of(1)), { code: 'ERR_INVALID_MESSAGE' })
    const other = await pkRecord()
    await assert.rejects(nodes[1].services.dht.put(key, other.value), { code: 'ERR_INVALID_MESSAGE' })
  })

  it('a provider record added by one node is found by the others', async () => {
    const mh = concat(Uint8Array.of(0x12, 0x20), sha256(utf8Encode('content')))
    await nodes[4].services.dht.provide({ multihash: { bytes: mh } })
    for (const node of [nodes[9], nodes[SIZE - 1], client]) {
      const found = []
      for await (const provider of node.services.dht.findProviders(mh, { count: 1 })) found.push(provider)
      assert.equal(found.length, 1)
      assert.ok(found[0].id.equals(nodes[4].peerId))
      assert.ok(found[0].multiaddrs.length > 0, `no addresses for the provider at ${nodes.indexOf(node)}`)
    }
  })

  it('a malformed request resets that stream only; several requests share one stream', async () => {
    const target = nodes[5]
    const connection = await nodes[6].dial(target.peerId)
    const stream = await connection.newStream(KAD_PROTOCOL)
    const reader = new StreamReader(stream)
    for (let i = 0; i < 3; i++) {
      await stream.write(encodeLP(encodeMessage({ type: MessageType.FIND_NODE, key: nodes[i].peerId.bytes, closerPeers: [], providerPeers: [] })))
      const reply = decodeMessage((await reader.readLP({ maxLength: 1 << 20 }))!)
      assert.equal(reply.type, MessageType.FIND_NODE)
      assert.ok(reply.closerPeers.length > 0)
    }
    const bad = await connection.newStream(KAD_PROTOCOL)
    await bad.write(Uint8Array.of(5, 0x08, 0x63, 0xff, 0xff, 0xff))
    await assert.rejects(new StreamReader(bad).readLP({ maxLength: 1 << 20 }), { code: 'ERR_STREAM_RESET' })
    const oversized = await connection.newStream(KAD_PROTOCOL)
    await oversized.write(Uint8Array.of(0xff, 0xff, 0xff, 0x7f))
    await assert.rejects(new StreamReader(oversized).readLP({ maxLength: 1 << 20 }), { code: 'ERR_STREAM_RESET' })
    assert.equal(connection.status, 'open')
    // the first stream still works
    await stream.write(encodeLP(encodeMessage({ type: MessageType.FIND_NODE, key: nodes[9].peerId.bytes, closerPeers: [], providerPeers: [] })))
    assert.equal(decodeMessage((await reader.readLP({ maxLength: 1 << 20 }))!).type, MessageType.FIND_NODE)
    await stream.close()
  })

  it('ADD_PROVIDER for someone else is ignored', async () => {
    const mh = concat(Uint8Array.of(0x12, 0x20), sha256(utf8Encode('forged')))
    const stream = await nodes[7].dialProtocol(nodes[8].peerId, KAD_PROTOCOL)
    await stream.write(encodeLP(encodeMessage({ type: MessageType.ADD_PROVIDER, key: mh, closerPeers: [], providerPeers: [{ id: nodes[2].peerId.bytes, addrs: [], connection: 0 }] })))
    await stream.close()
    await stream.closed
    // a request on a second stream is answered after the first was handled
    await closestPeersOf(nodes[7].services.dht, nodes[8].peerId.bytes)
    assert.deepEqual(await nodes[8].services.dht.providers.getProviders(mh), [])
  })

  it('operations are abortable', async () => {
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await assert.rejects(nodes[2].services.dht.findPeer(nodes[20].peerId, { useLocal: false, signal: controller.signal }), /stop/)
    await assert.rejects(nodes[2].services.dht.get(utf8Encode('/pk/none'), { signal: controller.signal }), /stop/)
  })
})

describe('DHT persistence', () => {
  it('records and provider records survive a restart on the same datastore', async () => {
    const network = new MemoryNetwork()
    const datastore = new MemoryDatastore()
    const privateKey = await generateKeyPair('Ed25519')
    const node = await createMemoryNode({ network, datastore, privateKey })
    const { key, value } = await pkRecord()
    await node.services.dht.records.put(key, value)
    const mh = concat(Uint8Array.of(0x12, 0x20), sha256(utf8Encode('kept')))
    await node.services.dht.providers.addProvider(mh, node.peerId)
    await node.services.dht.providers.markProvided(mh)
    await node.stop()
    const again = await createMemoryNode({ network, datastore, privateKey })
    try {
      assert.deepEqual(await again.services.dht.get(key, { quorum: 1 }), value)
      assert.deepEqual((await again.services.dht.providers.getProviders(mh)).map(String), [again.peerId.toString()])
      assert.equal((await again.services.dht.providers.providedOlderThan(0)).length, 1)
    } finally {
      await again.stop()
    }
  })

  it('expired provider records are not served and are swept', async () => {
    const datastore = new MemoryDatastore()
    const node = await createMemoryNode({ network: new MemoryNetwork(), datastore, dht: { provideValidity: 1 } })
    try {
      const mh = concat(Uint8Array.of(0x12, 0x20), sha256(utf8Encode('short')))
      await node.services.dht.providers.addProvider(mh, node.peerId)
      await new Promise(resolve => setTimeout(resolve, 5))
      assert.deepEqual(await node.services.dht.providers.getProviders(mh), [])
      assert.equal(await node.services.dht.providers.sweep(), 1)
    } finally {
      await node.stop()
    }
  })
})

describe('DHT hostile peers', () => {
  it('a peer answering with thousands of fake closer peers costs bounded work', async () => {
    const network = new MemoryNetwork()
    const honest = await createMemoryNode({ network })
    const asker = await createMemoryNode({ network, dht: { maxPeersQueried: 60, requestTimeout: 2_000 } })
    // a "server" whose DHT handler is replaced by one that floods every reply with fake peers
    const liar = await createMemoryNode({ network })
    const fakes = await Promise.all(Array.from({ length: 3000 }, async (_, i) => ({
      id: peerIdFromPrivateKey(await generateKeyPair('Ed25519')).bytes,
      addrs: [multiaddr(`/memory/nobody-${i}`).bytes],
      connection: 0 as const
    })))
    await liar.unhandle(KAD_PROTOCOL)
    let lies = 0
    await liar.handle(KAD_PROTOCOL, async (stream) => {
      const reader = new StreamReader(stream)
      const frame = await reader.readLP({ maxLength: 1 << 20 })
      if (frame === null) return
      const request = decodeMessage(frame)
      lies++
      await stream.write(encodeLP(encodeMessage({ type: request.type, key: request.key, closerPeers: fakes, providerPeers: [] })))
      await stream.close()
    })
    try {
      await asker.dial(liar.getMultiaddrs()[0])
      await asker.dial(honest.getMultiaddrs()[0])
      await waitForRoutingTable(asker, 2)
      let done: { queried: number, failed: number } | undefined
      const closest = await closestPeersOf(asker.services.dht, utf8Encode('anything'), { onProgress: (e) => { if (e.type === 'query-done') done = e } })
      assert.ok(lies >= 1)
      assert.ok(done !== undefined && done.queried <= 60, `queried ${done?.queried}`)
      assert.ok(closest.length <= 20)
      // the honest peer is still found despite the noise
      const info = await asker.services.dht.findPeer(honest.peerId, { useLocal: false })
      assert.ok(info.id.equals(honest.peerId))
    } finally {
      await Promise.all([honest, asker, liar].map(async n => { await n.stop() }))
    }
  })
})
