/**
 * Clients that stall on the control socket (issue 12's hostile input, with garbage and oversized
 * frames in server.test.ts): one that sends half a request and stops, and one that sends
 * requests and never reads the answers. Each gets a typed error and is dropped at its limit; the
 * daemon keeps serving the others meanwhile and afterwards.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type Socket } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { MemoryDatastore } from '../../src/store/memory.ts'
import { DaemonServer } from '../../src/daemon/server.ts'
import { DaemonClient } from '../../src/daemon/client.ts'
import { ControlClientStalledError, type ControlLimits } from '../../src/daemon/control-limits.ts'
import { decodeResponse, encodeRequest, RequestType, ResponseType } from '../../src/daemon/messages.ts'
import { encodeLP } from '../../src/util/stream-reader.ts'
import { decodeVarint } from '../../src/util/varint.ts'

async function startDaemon (t: { after: (fn: () => Promise<void>) => void }, limits: Partial<ControlLimits>) {
  const dir = await mkdtemp(join(tmpdir(), 'daemon-hostile-'))
  const path = join(dir, 'control.sock')
  const node = await createLibp2p({
    datastore: new MemoryDatastore(),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
  const errors: Error[] = []
  const errorWaiters: Array<(err: Error) => void> = []
  const server = new DaemonServer(node, {
    listen: multiaddr(`/unix/${encodeURIComponent(path)}`),
    limits,
    onControlError: (err) => { errors.push(err); errorWaiters.shift()?.(err) }
  })
  await server.start()
  const client = new DaemonClient(server.listenAddr)
  t.after(async () => { await client.close(); await server.stop(); await node.stop(); await rm(dir, { recursive: true, force: true }) })
  return {
    node, path, client,
    nextControlError: async () => await new Promise<Error>(resolve => { if (errors.length > 0) resolve(errors.shift() as Error); else errorWaiters.push(resolve) })
  }
}

async function dialControl (path: string): Promise<Socket> {
  const socket = connect({ path })
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  return socket
}

/** Every byte the socket receives until it closes. */
async function readUntilClosed (socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  socket.resume()
  await new Promise<void>((resolve) => { socket.once('close', () => { resolve() }) })
  return Buffer.concat(chunks)
}

/** Splits a buffer of varint-delimited frames; a trailing partial frame is left out. */
function frames (bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  let offset = 0
  for (;;) {
    const r = decodeVarint(bytes, offset)
    if (r === undefined || offset + r[1] + r[0] > bytes.length) return out
    out.push(bytes.subarray(offset + r[1], offset + r[1] + r[0]))
    offset += r[1] + r[0]
  }
}

test('a request that stops half-way (in its body, or in its length prefix) gets an IncompleteRequestError answer and the connection is dropped; others are served meanwhile', async (t) => {
  const d = await startDaemon(t, { frameTimeoutMs: 400 })
  const whole = encodeLP(encodeRequest({ type: RequestType.CONNECT, connect: { peer: d.node.peerId.bytes, addrs: [] } }))
  const halfBody = await dialControl(d.path)
  halfBody.write(whole.subarray(0, Math.floor(whole.length / 2)))
  const halfPrefix = await dialControl(d.path)
  halfPrefix.write(Uint8Array.of(0x80))
  const answers = [readUntilClosed(halfBody), readUntilClosed(halfPrefix)]

  // the stalled requests hold nothing up
  const id = await d.client.identify()
  assert.ok(id.id.equals(d.node.peerId))

  for (const answer of await Promise.all(answers)) {
    const responses = frames(answer)
    assert.equal(responses.length, 1, 'one answer, then the daemon closed')
    const response = decodeResponse(responses[0])
    assert.equal(response.type, ResponseType.ERROR)
    assert.match(response.error?.msg ?? '', /did not arrive whole within 400 ms/)
  }
  assert.ok((await d.client.identify()).id.equals(d.node.peerId), 'the daemon still serves after dropping them')
})

test('a client that sends requests and never reads is dropped with ControlClientStalledError once its answers stop draining; what the daemon buffered for it stays bounded', async (t) => {
  const d = await startDaemon(t, { writeStallTimeoutMs: 400 })
  const requests = 50_000
  const identify = encodeLP(encodeRequest({ type: RequestType.IDENTIFY }))
  const batch = new Uint8Array(identify.length * requests)
  for (let i = 0; i < requests; i++) batch.set(identify, i * identify.length)
  const hostile = await dialControl(d.path)
  hostile.pause()
  hostile.on('error', () => {}) // the daemon's abort may reach our pending writes as EPIPE
  hostile.write(batch)

  // served while the hostile client's answers pile up
  assert.ok((await d.client.identify()).id.equals(d.node.peerId))

  const err = await d.nextControlError()
  assert.ok(err instanceof ControlClientStalledError, `dropped as stalled, not: ${err.name}: ${err.message}`)
  assert.equal((err as ControlClientStalledError).code, 'ERR_DAEMON_CLIENT_STALLED')

  const received = await readUntilClosed(hostile)
  const answered = frames(received).length
  assert.ok(answered < requests, `the daemon stopped answering (${answered} of ${requests})`)
  // its write buffer (1 MiB high-water mark) plus what the kernel's unix socket buffers hold
  assert.ok(received.length < 4 * 1024 * 1024, `${received.length} bytes were buffered for the client`)
  assert.ok((await d.client.identify()).id.equals(d.node.peerId), 'the daemon still serves after dropping it')
})
