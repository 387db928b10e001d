import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { multiaddr } from '@multiformats/multiaddr'
import { enableUserBuffer, resumeUserBufferReads } from '../../../src/transport/tcp/socket-user-buffer.ts'
import { TcpTransport } from '../../../src/transport/tcp/index.ts'
import type { TcpConnection } from '../../../src/transport/tcp/connection.ts'

test('a socket without a libuv stream handle keeps the normal read path', () => {
  const fake = { _handle: {}, readableLength: 0, destroyed: false } as unknown as Socket
  assert.equal(enableUserBuffer(fake, new Uint8Array(16), () => true), false)
  const unconnected = { _handle: null, readableLength: 0, destroyed: false } as unknown as Socket
  assert.equal(enableUserBuffer(unconnected, new Uint8Array(16), () => true), false)
})

test('a live socket switches to the shared buffer, pauses on false and resumes', async () => {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  const accepted = once(server, 'connection')
  const client = connect(port, '127.0.0.1')
  await once(client, 'connect')
  const [socket] = await accepted as [Socket]
  const buffer = new Uint8Array(8)
  const seen: number[] = []
  let pauseOnce = true
  let paused!: () => void
  const pausedOnce = new Promise<void>((resolve) => { paused = resolve })
  assert.equal(enableUserBuffer(socket, buffer, (bytes) => {
    // The bytes are a view of the caller's buffer, not a fresh allocation.
    assert.equal(bytes.buffer, buffer.buffer)
    seen.push(...bytes)
    if (pauseOnce && seen.length >= 8) { pauseOnce = false; paused(); return false }
    return true
  }), true)
  resumeUserBufferReads(socket)
  const payload = Uint8Array.from({ length: 64 }, (_, i) => i)
  client.write(payload)
  await pausedOnce
  // Reading stopped at the first read that crossed 8 bytes (each read takes at most 8).
  assert.ok(seen.length >= 8 && seen.length < 16, `read ${seen.length} bytes before pausing`)
  const ended = once(socket, 'end')
  client.end()
  resumeUserBufferReads(socket)
  await ended
  assert.deepEqual(seen, [...payload])
  socket.destroy()
  client.destroy()
  server.close()
})

test('a TCP connection paused with bytes in Node\'s buffer hands each byte over exactly once when it switches to borrowed reads', async () => {
  // A tiny read high-water mark: the connection pauses the socket after its first chunk, so
  // what follows waits in Node's own buffer.
  const transport = new TcpTransport({ readHighWaterMark: 1024 })
  let onInbound!: (conn: TcpConnection) => void
  const inbound = new Promise<TcpConnection>((resolve) => { onInbound = resolve })
  const listener = transport.createListener({ onConnection: (conn) => { onInbound(conn as never) } })
  await listener.listen(multiaddr('/ip4/127.0.0.1/tcp/0'))
  const dialed = await transport.dial(listener.getAddrs()[0])
  const accepted = await inbound
  await listener.close()
  const payload = Uint8Array.from({ length: 200 * 1024 }, (_, i) => (i * 7 + (i >>> 8)) & 0xff)
  await dialed.write(payload)
  const deadline = Date.now() + 10_000
  while (accepted.socketBufferedForTesting === 0) {
    if (Date.now() > deadline) assert.fail('the socket never held unread bytes')
    await new Promise<void>((resolve) => { setImmediate(resolve) })
  }
  const received: Uint8Array[] = []
  assert.equal(accepted.readBorrowed((bytes) => { received.push(bytes.slice()); return true }), true)
  await dialed.closeWrite()
  assert.equal(await accepted.read(), null)
  const total = received.reduce((n, b) => n + b.length, 0)
  const joined = new Uint8Array(total)
  let offset = 0
  for (const b of received) { joined.set(b, offset); offset += b.length }
  assert.equal(total, payload.length)
  assert.deepEqual(joined, payload)
  dialed.abort(new Error('done'))
  accepted.abort(new Error('done'))
})
