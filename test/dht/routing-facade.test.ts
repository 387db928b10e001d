/**
 * The node's peerRouting / contentRouting facades over the DHT, and the client side's stream
 * reuse (several requests per outbound stream).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createMemoryNode, MemoryNetwork, waitForRoutingTable, type DhtNode } from './network-helpers.ts'
import { generateKeyPair, publicKeyToProtobuf, sha256 } from '../../src/crypto/index.ts'
import { KAD_PROTOCOL, type DhtEvent } from '../../src/dht/index.ts'
import { decodeMessage, encodeMessage, MessageType, type DhtMessage } from '../../src/dht/message.ts'
import { encodeLP, StreamReader } from '../../src/util/stream-reader.ts'
import { utf8Encode } from '../../src/util/bytes.ts'

const SIZE = 10

function findNode (key: Uint8Array): DhtMessage {
  return { type: MessageType.FIND_NODE, key, closerPeers: [], providerPeers: [] }
}

describe('routing facades over the DHT', () => {
  const network = new MemoryNetwork()
  const nodes: DhtNode[] = []

  before(async () => {
    for (let i = 0; i < SIZE; i++) {
      const node = await createMemoryNode({ network })
      if (i > 0) {
        await node.dial(nodes[0].getMultiaddrs()[0])
        await waitForRoutingTable(node, 1)
        await node.services.dht.refreshRoutingTable()
      }
      nodes.push(node)
    }
  })

  after(async () => {
    await Promise.all(nodes.map(async n => { await n.stop() }))
  })

  it('peerRouting.findPeer and getClosestPeers go through the DHT, with progress events', async () => {
    const target = nodes[SIZE - 1]
    await nodes[1].hangUp(target.peerId)
    const events: DhtEvent[] = []
    const info = await nodes[1].peerRouting.findPeer(target.peerId, { onProgress: (e) => { events.push(e as DhtEvent) } })
    assert.ok(info.id.equals(target.peerId))
    assert.deepEqual(info.multiaddrs.map(String), target.getMultiaddrs().map(a => a.decapsulateCode(421).toString()))
    assert.ok(events.some(e => e.type === 'send-query') && events.some(e => e.type === 'query-done'))

    const closest = []
    for await (const peer of nodes[2].peerRouting.getClosestPeers(utf8Encode('a key'))) closest.push(peer)
    assert.ok(closest.length >= SIZE - 2, `only ${closest.length} closest peers`)
    assert.ok(closest.every(p => p.multiaddrs.length > 0))
    assert.equal(new Set(closest.map(p => p.id.toString())).size, closest.length)
  })

  it('contentRouting.provide / findProviders / put / get go through the DHT', async () => {
    const mh = Uint8Array.of(0x12, 0x20, ...sha256(utf8Encode('facade content')))
    await nodes[3].contentRouting.provide({ multihash: { bytes: mh } })
    const found = []
    for await (const provider of nodes[7].contentRouting.findProviders(mh, { count: 1 })) found.push(provider)
    assert.equal(found.length, 1)
    assert.ok(found[0].id.equals(nodes[3].peerId))

    const publicKey = (await generateKeyPair('Ed25519')).publicKey
    const value = publicKeyToProtobuf(publicKey)
    const key = Uint8Array.of(...utf8Encode('/pk/'), 0x12, 0x20, ...sha256(value))
    await nodes[4].contentRouting.put(key, value)
    assert.deepEqual(await nodes[8].contentRouting.get(key), value)
    await assert.rejects(nodes[8].contentRouting.get(utf8Encode('/pk/nothing-here')), { code: 'ERR_NOT_FOUND' })

    await nodes[3].contentRouting.cancelReprovide(mh)
    assert.equal((await nodes[3].services.dht.providers.providedOlderThan(0)).length, 0)
  })

  it('every facade call is abortable', async () => {
    const aborted = AbortSignal.abort(new Error('caller gave up'))
    const key = utf8Encode('whatever')
    await assert.rejects(nodes[5].peerRouting.findPeer(nodes[6].peerId, { signal: aborted }), /caller gave up/)
    await assert.rejects(async () => { for await (const _ of nodes[5].peerRouting.getClosestPeers(key, { signal: aborted })) { /* none */ } }, /caller gave up/)
    await assert.rejects(nodes[5].contentRouting.provide(Uint8Array.of(0x12, 0x20, ...sha256(key)), { signal: aborted }), /caller gave up/)
    await assert.rejects(async () => { for await (const _ of nodes[5].contentRouting.findProviders(Uint8Array.of(0x12, 0x20, ...sha256(key)), { signal: aborted })) { /* none */ } }, /caller gave up/)
    await assert.rejects(nodes[5].contentRouting.get(utf8Encode('/pk/x'), { signal: aborted }), /caller gave up/)
    // aborting mid-lookup: the iteration ends with the reason and no request follows
    const controller = new AbortController()
    let sent = 0
    const iterate = async (): Promise<void> => {
      for await (const _ of nodes[5].peerRouting.getClosestPeers(utf8Encode('another key'), {
        signal: controller.signal,
        onProgress: (e) => { if (e.type === 'send-query' && ++sent === 1) controller.abort(new Error('enough')) }
      })) { /* none expected */ }
    }
    await assert.rejects(iterate(), /enough/)
    const sentAtAbort = sent
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(sentAtAbort, 1)
    assert.equal(sent, sentAtAbort)
  })
})

describe('DHT client: several requests per outbound stream', () => {
  it('sequential requests to one peer share a stream; the server answers each', async () => {
    const network = new MemoryNetwork()
    const server = await createMemoryNode({ network })
    const client = await createMemoryNode({ network })
    try {
      await client.dial(server.getMultiaddrs()[0])
      const net = client.services.dht.network
      const reusedBefore = net.streamsReused
      const handledBefore = server.services.dht.requestsHandled
      for (let i = 0; i < 5; i++) {
        const reply = await net.sendRequest(server.peerId, findNode(Uint8Array.of(i, 1, 2)))
        assert.equal(reply.type, MessageType.FIND_NODE)
      }
      assert.equal(net.streamsReused - reusedBefore, 4)
      assert.equal(server.services.dht.requestsHandled - handledBefore, 5)
      assert.equal(net.idleStreams, 1)
      const kadStreams = client.getConnections(server.peerId).flatMap(c => c.streams).filter(s => s.protocol === KAD_PROTOCOL)
      assert.equal(kadStreams.length, 1)
      // the parked stream goes away with its connection
      await client.hangUp(server.peerId)
      assert.equal(net.idleStreams, 0)
    } finally {
      await Promise.all([server, client].map(async n => { await n.stop() }))
    }
  })

  it('a reused stream the server closed is retried once on a new stream', async () => {
    const network = new MemoryNetwork()
    const server = await createMemoryNode({ network })
    const client = await createMemoryNode({ network })
    // a server that answers one request per stream and closes the stream on the second,
    // without answering (as a server that does not keep streams would)
    let streams = 0
    let frames = 0
    await server.unhandle(KAD_PROTOCOL)
    await server.handle(KAD_PROTOCOL, async (stream) => {
      streams++
      const reader = new StreamReader(stream)
      const first = await reader.readLP({ maxLength: 1 << 20 })
      if (first === null) return
      frames++
      await stream.write(encodeLP(encodeMessage({ ...decodeMessage(first), closerPeers: [] })))
      if (await reader.readLP({ maxLength: 1 << 20 }) !== null) frames++
      await stream.close()
    })
    try {
      await client.dial(server.getMultiaddrs()[0])
      const net = client.services.dht.network
      await net.sendRequest(server.peerId, findNode(Uint8Array.of(1)))
      const reply = await net.sendRequest(server.peerId, findNode(Uint8Array.of(2)))
      assert.deepEqual(reply.key, Uint8Array.of(2))
      assert.equal(net.streamsReused, 1)
      assert.equal(streams, 2)
      assert.equal(frames, 3)
    } finally {
      await Promise.all([server, client].map(async n => { await n.stop() }))
    }
  })
})
