import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { MemoryDatastore } from '../../src/store/memory.ts'
import { DaemonServer } from '../../src/daemon/server.ts'
import { DaemonClient, DaemonRequestError } from '../../src/daemon/client.ts'
import { DAEMON_TAG, type Watermarks } from '../../src/daemon/conn-manager.ts'
import { decodeResponse, encodeRequest, RequestType, ResponseType } from '../../src/daemon/messages.ts'
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

async function startDaemon (watermarks: Watermarks) {
  const node = await plainNode()
  const server = new DaemonServer(node, { listen: multiaddr('/ip4/127.0.0.1/tcp/0'), watermarks })
  await server.start()
  const client = new DaemonClient(server.listenAddr)
  return { node, server, client, async stop () { await client.close(); await server.stop(); await node.stop() } }
}

async function withPeers (n: number): Promise<Libp2p[]> {
  return await Promise.all(Array.from({ length: n }, async () => await plainNode()))
}

test('CONNMANAGER: TAG_PEER keeps the valued peer through TRIM, the others are closed down to the low watermark; UNTAG_PEER takes the value away', async (t) => {
  const d = await startDaemon({ lowWater: 1, highWater: 100, gracePeriodMs: 0 })
  const peers = await withPeers(3)
  t.after(async () => { await d.stop(); await Promise.all(peers.map(async p => { await p.stop() })) })
  for (const p of peers) await d.client.connect(p.peerId, p.getMultiaddrs())
  assert.equal((await d.client.listPeers()).length, 3)

  await d.client.connManagerTagPeer(peers[1].peerId, 'app', 5)
  await d.client.connManagerTagPeer(peers[1].peerId, 'more', 1000)
  assert.equal(d.server.connManager.value(peers[1].peerId), 1005)
  assert.equal((await d.node.peerStore.get(peers[1].peerId)).tags.get(DAEMON_TAG)?.value, 100, 'mirrored into the peer store, clamped')
  await d.client.connManagerTrim()
  const left = await d.client.listPeers()
  assert.deepEqual(left.map(p => p.id.toString()), [peers[1].peerId.toString()], 'only the tagged peer stays')

  // untagged again it is worth no more than a fresh peer: the newer one (tagged) survives instead
  await d.client.connManagerUntagPeer(peers[1].peerId, 'app')
  await d.client.connManagerUntagPeer(peers[1].peerId, 'more')
  assert.equal(d.server.connManager.value(peers[1].peerId), 0)
  assert.equal((await d.node.peerStore.get(peers[1].peerId)).tags.has(DAEMON_TAG), false)
  await d.client.connect(peers[2].peerId, peers[2].getMultiaddrs())
  await d.client.connManagerTagPeer(peers[2].peerId, 'app', 1)
  await d.client.connManagerTrim()
  assert.deepEqual((await d.client.listPeers()).map(p => p.id.toString()), [peers[2].peerId.toString()])
})

test('CONNMANAGER: peers inside the grace period are not trimmed; above the high watermark the daemon trims by itself', async (t) => {
  const graced = await startDaemon({ lowWater: 1, highWater: 100, gracePeriodMs: 3_600_000 })
  const auto = await startDaemon({ lowWater: 1, highWater: 2, gracePeriodMs: 0 })
  const peers = await withPeers(3)
  t.after(async () => { await graced.stop(); await auto.stop(); await Promise.all(peers.map(async p => { await p.stop() })) })
  for (const p of peers) await graced.client.connect(p.peerId, p.getMultiaddrs())
  await graced.client.connManagerTrim()
  assert.equal((await graced.client.listPeers()).length, 3, 'all three are in their grace period')

  await auto.client.connManagerTagPeer(peers[0].peerId, 'keep', 10)
  await auto.client.connect(peers[0].peerId, peers[0].getMultiaddrs())
  await auto.client.connect(peers[1].peerId, peers[1].getMultiaddrs())
  let disconnects = 0
  const bothClosed = new Promise<void>(resolve => {
    auto.node.addEventListener('peer:disconnect', () => { if (++disconnects === 2) resolve() })
  })
  // the third connection takes the count above 2: the trim may close it before CONNECT answers
  await auto.client.connect(peers[2].peerId, peers[2].getMultiaddrs()).catch((err: Error) => {
    assert.match(err.message, /closed/)
  })
  await bothClosed
  const left = auto.node.getConnections().filter(c => c.status === 'open')
  assert.deepEqual(left.map(c => c.remotePeer.toString()), [peers[0].peerId.toString()], 'trimmed to the low watermark, the tagged peer kept')
})

test('CONNMANAGER: a tag without a name, a request without its field, an unknown type are error responses', async (t) => {
  const d = await startDaemon({ lowWater: 1, highWater: 2, gracePeriodMs: 0 })
  t.after(async () => { await d.stop() })
  await assert.rejects(d.client.connManagerTagPeer(d.node.peerId, '', 1), (err: Error) => err instanceof DaemonRequestError && /missing tag/.test(err.message))
  for (const [request, pattern] of [
    [{ type: RequestType.CONNMANAGER }, /missing parameters/],
    [{ type: RequestType.CONNMANAGER, connManager: { type: 9 } }, /unknown CONNMANAGER request type 9/],
    [{ type: RequestType.CONNMANAGER, connManager: { type: 0, tag: 'x' } }, /missing peer/]
  ] as const) {
    const response = await rawCall(d.server.listenAddr.toString(), encodeRequest(request))
    assert.equal(response.type, ResponseType.ERROR)
    assert.match(response.error?.msg ?? '', pattern)
  }
  assert.ok((await d.client.identify()).id.equals(d.node.peerId), 'still serving')
})

async function rawCall (addr: string, body: Uint8Array) {
  const { connect } = await import('node:net')
  const { encodeLP, StreamReader } = await import('../../src/util/stream-reader.ts')
  const { wrapSocket } = await import('../../src/daemon/local-socket.ts')
  const ma = multiaddr(addr)
  const parts = ma.getComponents()
  const socket = connect({ host: parts[0].value, port: Number(parts[1].value) })
  await once(socket, 'connect')
  const stream = wrapSocket(socket, ma, 'outbound')
  await stream.write(encodeLP(body))
  const bytes = await new StreamReader(stream).readLP({ maxLength: 1 << 20 })
  stream.abort(new Error('done'))
  assert.ok(bytes !== null)
  return decodeResponse(bytes)
}
