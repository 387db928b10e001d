import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { enableUserBuffer, resumeUserBufferReads } from '../../src/transport/socket-user-buffer-node.ts'

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
