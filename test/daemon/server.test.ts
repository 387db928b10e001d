import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { MemoryDatastore } from '../../src/store/memory.ts'
import { DaemonServer } from '../../src/daemon/server.ts'
import { DaemonClient, DaemonRequestError } from '../../src/daemon/client.ts'
import { decodeResponse, encodeRequest, ResponseType } from '../../src/daemon/messages.ts'
import { encodeLP } from '../../src/util/stream-reader.ts'
import type { ByteStream } from '../../src/interface/stream.ts'

async function startDaemon (controlAddr: string) {
  const node = await createLibp2p({
    datastore: new MemoryDatastore(),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  const server = new DaemonServer(node, { listen: multiaddr(controlAddr) })
  await server.start()
  return { node, server, client: new DaemonClient(server.listenAddr), async stop () { await server.stop(); await node.stop() } }
}

async function readAll (stream: ByteStream): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const chunk of stream) parts.push(chunk.slice())
  return Buffer.concat(parts).toString()
}

test('two daemons: identify, connect, list peers, stream open to a handler that serves every stream, half-close carried through', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'daemon-test-'))
  const a = await startDaemon(`/unix/${encodeURIComponent(join(dir, 'a.sock'))}`)
  const b = await startDaemon('/ip4/127.0.0.1/tcp/0')
  t.after(async () => { await a.client.close(); await b.client.close(); await a.stop(); await b.stop(); await rm(dir, { recursive: true, force: true }) })

  const idB = await b.client.identify()
  assert.ok(idB.id.equals(b.node.peerId))
  assert.ok(idB.addrs.length > 0)
  assert.ok(idB.addrs.every(ma => !ma.toString().includes('/p2p/')), 'identify addresses carry no /p2p')
  assert.deepEqual(await a.client.listPeers(), [])

  await a.client.connect(idB.id, idB.addrs)
  const peers = await a.client.listPeers()
  assert.equal(peers.length, 1)
  assert.ok(peers[0].id.equals(b.node.peerId))

  // B's handler upper-cases what it reads, answers after the writer half-closes, then closes
  let served = 0
  await b.client.registerStreamHandler(['/upper/1.0.0'], (stream, info) => {
    served++
    assert.ok(info.peer.equals(a.node.peerId))
    assert.equal(info.protocol, '/upper/1.0.0')
    readAll(stream).then(async (text) => {
      await stream.write(new TextEncoder().encode(text.toUpperCase()))
      await stream.closeWrite()
    }).catch((err: Error) => { stream.abort(err) })
  })
  for (const word of ['hello', 'again']) {
    const { stream, info } = await a.client.openStream(b.node.peerId, ['/upper/1.0.0'])
    assert.equal(info.protocol, '/upper/1.0.0')
    await stream.write(new TextEncoder().encode(word))
    await stream.closeWrite()
    assert.equal(await readAll(stream), word.toUpperCase())
    await stream.close()
  }
  assert.equal(served, 2, 'the handler served both streams')

  await assert.rejects(a.client.openStream(b.node.peerId, ['/nobody/1.0.0']), DaemonRequestError)

  await a.client.disconnect(b.node.peerId)
  assert.deepEqual(await a.client.listPeers(), [])
})

async function rawRequest (addr: string, frame: Uint8Array) {
  const ma = multiaddr(addr).getComponents()
  const socket = connect({ host: ma[0].value, port: Number(ma[1].value) })
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  socket.write(frame)
  socket.end()
  await new Promise<void>((resolve, reject) => { socket.once('close', () => { resolve() }); socket.once('error', reject) })
  return Buffer.concat(chunks)
}

test('hostile control input: unknown type, garbage, oversized length each get an error response; the daemon keeps serving', async (t) => {
  const d = await startDaemon('/ip4/127.0.0.1/tcp/0')
  t.after(async () => { await d.stop() })
  const addr = d.server.listenAddr.toString()

  const unknown = await rawRequest(addr, encodeLP(encodeRequest({ type: 77 })))
  const r1 = decodeResponse(unknown.subarray(1 + (unknown[0] >= 0x80 ? 1 : 0)))
  assert.equal(r1.type, ResponseType.ERROR)
  assert.match(r1.error?.msg ?? '', /unknown request type 77/)

  const garbage = await rawRequest(addr, encodeLP(Uint8Array.of(0xff, 0xff, 0xff)))
  assert.equal(decodeResponse(garbage.subarray(1)).type, ResponseType.ERROR)

  // a length prefix of 1 GiB: refused from the prefix alone
  const oversized = await rawRequest(addr, Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x04))
  assert.match(decodeResponse(oversized.subarray(1)).error?.msg ?? '', /limit/)

  const id = await d.client.identify()
  assert.ok(id.id.equals(d.node.peerId))
})

test('STREAM_HANDLER replaces a handler the node already had (p2pd: echo is replaced by a client handler)', async (t) => {
  const a = await startDaemon('/ip4/127.0.0.1/tcp/0')
  const b = await startDaemon('/ip4/127.0.0.1/tcp/0')
  t.after(async () => { await b.client.close(); await a.stop(); await b.stop() })
  await b.node.handle('/taken/1.0.0', (stream) => { stream.abort(new Error('the node handler must not run')) })
  const idB = await b.client.identify()
  await a.client.connect(idB.id, idB.addrs)
  await b.client.registerStreamHandler(['/taken/1.0.0'], (stream) => {
    stream.write(new TextEncoder().encode('client')).then(async () => { await stream.close() }).catch((err: Error) => { stream.abort(err) })
  })
  const { stream } = await a.client.openStream(b.node.peerId, ['/taken/1.0.0'])
  await stream.closeWrite()
  assert.equal(await readAll(stream), 'client')
})
