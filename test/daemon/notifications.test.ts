import { test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { MemoryDatastore } from '../../src/store/memory.ts'
import { DaemonServer } from '../../src/daemon/server.ts'
import { DaemonClient, type DaemonEvent } from '../../src/daemon/client.ts'
import { decodeNotifyRequest, encodeNotifyRequest } from '../../src/daemon/event-messages.ts'
import type { Libp2p } from '../../src/interface/libp2p.ts'

async function plainNode (): Promise<Libp2p> {
  return await createLibp2p({
    datastore: new MemoryDatastore(),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
}

test('NOTIFY: the open connections first, then connect, stream opened both ways, disconnect, in order', async (t) => {
  const node = await plainNode()
  const server = new DaemonServer(node, { listen: multiaddr('/ip4/127.0.0.1/tcp/0') })
  await server.start()
  const client = new DaemonClient(server.listenAddr)
  const [early, late] = await Promise.all([plainNode(), plainNode()])
  const controller = new AbortController()
  t.after(async () => { controller.abort(); await client.close(); await server.stop(); await Promise.all([node, early, late].map(async n => { await n.stop() })) })
  await late.handle('/late/1.0.0', (stream) => { stream.close().catch(() => {}) })

  await client.connect(early.peerId, early.getMultiaddrs())
  const events: DaemonEvent[] = []
  const waiters: Array<() => void> = []
  const next = async (n: number): Promise<DaemonEvent[]> => {
    while (events.length < n) await new Promise<void>(resolve => waiters.push(resolve))
    return events.slice(0, n)
  }
  const subscription = await client.notifications({ signal: controller.signal })
  const reading = (async () => {
    for await (const e of subscription) {
      events.push(e)
      for (const w of waiters.splice(0)) w()
    }
  })().catch(() => {})

  const [snapshot] = await next(1)
  assert.equal(snapshot.type, 'CONNECTED')
  assert.ok(snapshot.peer.equals(early.peerId), 'the connection open before the subscription comes first')
  assert.equal(snapshot.direction, 'outbound')

  await client.connect(late.peerId, late.getMultiaddrs())
  const { stream } = await client.openStream(late.peerId, ['/late/1.0.0'])
  await stream.close()
  await client.registerStreamHandler(['/to-daemon/1.0.0'], (s) => { s.close().catch(() => {}) })
  const inbound = await late.dialProtocol(node.peerId, '/to-daemon/1.0.0')
  await inbound.close()
  await client.disconnect(late.peerId)

  const all = await next(5)
  assert.deepEqual(all.map(e => [e.type, e.peer.toString(), e.direction, e.protocol]), [
    ['CONNECTED', early.peerId.toString(), 'outbound', undefined],
    ['CONNECTED', late.peerId.toString(), 'outbound', undefined],
    ['STREAM_OPENED', late.peerId.toString(), 'outbound', '/late/1.0.0'],
    ['STREAM_OPENED', late.peerId.toString(), 'inbound', '/to-daemon/1.0.0'],
    ['DISCONNECTED', late.peerId.toString(), 'outbound', undefined]
  ])
  assert.equal(all[1].addr.toString(), late.getMultiaddrs()[0].toString().replace(/\/p2p\/.*$/, ''))
  controller.abort()
  await reading
})

test('NOTIFY: a type filter; the request decoder refuses unknown types and too many of them', async (t) => {
  assert.deepEqual(decodeNotifyRequest(encodeNotifyRequest({ types: [0, 1] })).types, [0, 1])
  assert.throws(() => decodeNotifyRequest(encodeNotifyRequest({ types: [7] })), /unknown event type 7/)
  assert.throws(() => decodeNotifyRequest(encodeNotifyRequest({ types: new Array(17).fill(0) })), (err: Error & { code?: string }) => err.code === 'ERR_MESSAGE_TOO_LARGE' || /event types/.test(err.message))

  const node = await plainNode()
  const server = new DaemonServer(node, { listen: multiaddr('/ip4/127.0.0.1/tcp/0') })
  await server.start()
  const client = new DaemonClient(server.listenAddr)
  const peer = await plainNode()
  const controller = new AbortController()
  t.after(async () => { controller.abort(); await client.close(); await server.stop(); await node.stop(); await peer.stop() })
  const onlyDisconnects = await client.notifications({ types: ['DISCONNECTED'], signal: controller.signal })
  assert.equal(server.notifier.subscriberCount, 1, 'subscribed once the OK is read')
  const first = onlyDisconnects.next()
  await client.connect(peer.peerId, peer.getMultiaddrs())
  await client.disconnect(peer.peerId)
  const { value } = await first
  assert.equal(value?.type, 'DISCONNECTED', 'the CONNECTED event was filtered out')
  assert.ok(value?.peer.equals(peer.peerId))
})
