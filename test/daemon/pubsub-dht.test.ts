import { test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { floodsub } from '../../src/pubsub/floodsub/index.ts'
import { kadDHT } from '../../src/dht/index.ts'
import { MemoryDatastore } from '../../src/store/memory.ts'
import { DaemonServer } from '../../src/daemon/server.ts'
import { DaemonClient, DaemonRequestError } from '../../src/daemon/client.ts'

async function startDaemon (withServices: boolean) {
  const node = await createLibp2p({
    datastore: new MemoryDatastore(),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: withServices ? { identify: identify(), pubsub: floodsub(), dht: kadDHT({ mode: 'server' }) } : { identify: identify() }
  })
  const server = new DaemonServer(node, { listen: multiaddr('/ip4/127.0.0.1/tcp/0') })
  await server.start()
  return { node, client: new DaemonClient(server.listenAddr), async stop () { await server.stop(); await node.stop() } }
}

test('PUBSUB through two daemons: subscribe streams bare PSMessages, topics, peers, publish', async (t) => {
  const a = await startDaemon(true)
  const b = await startDaemon(true)
  t.after(async () => { await a.stop(); await b.stop() })
  const idB = await b.client.identify()
  await a.client.connect(idB.id, idB.addrs)

  const controller = new AbortController()
  const received = b.client.pubsubSubscribe('news', controller.signal)
  const first = received.next()
  // wait until A sees B's subscription (a readiness signal, polled through the control protocol)
  while (!(await a.client.pubsubListPeers('news')).some(p => p.equals(b.node.peerId))) await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(await b.client.pubsubGetTopics(), ['news'])
  await a.client.pubsubPublish('news', new TextEncoder().encode('hello'))
  const msg = (await first).value
  assert.ok(msg !== undefined)
  assert.equal(new TextDecoder().decode(msg.data), 'hello')
  assert.deepEqual(msg.topics, ['news'])
  assert.ok(msg.from?.equals(a.node.peerId))
  controller.abort()
  await received.return(undefined)
})

test('DHT through the daemon: FIND_PEER, the streaming GET_CLOSEST_PEERS answer; disabled services are errors', async (t) => {
  const a = await startDaemon(true)
  const b = await startDaemon(true)
  const plain = await startDaemon(false)
  t.after(async () => { await a.stop(); await b.stop(); await plain.stop() })
  const idB = await b.client.identify()
  await a.client.connect(idB.id, idB.addrs)

  const found = await a.client.dhtFindPeer(b.node.peerId)
  assert.ok(found.id.equals(b.node.peerId))
  assert.ok(found.addrs.length > 0)
  const closest = []
  for await (const p of a.client.dhtGetClosestPeers(new TextEncoder().encode('some key'))) closest.push(p)
  assert.ok(closest.some(p => p.equals(b.node.peerId)), 'the closest peers include B')

  await assert.rejects(plain.client.dhtFindPeer(a.node.peerId), (err: Error) => err instanceof DaemonRequestError && /DHT not enabled/.test(err.message))
  await assert.rejects(plain.client.pubsubGetTopics(), /PubSub not enabled/)
})
