/**
 * A WebSocket whose TCP socket is destroyed before ws notices (ws learns at the socket's
 * 'close' event) stays OPEN and buffers nothing: a sender looping on resolved writes must
 * still be stopped, or it spins in microtasks forever and the event loop never runs again.
 * Run in a child process so a regression fails by timing out instead of hanging the runner.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CHILD = `
import { WebSocketServer, WebSocket } from 'ws'
import { multiaddr } from '@multiformats/multiaddr'
import { NodeWebSocketConnection } from ${JSON.stringify(fileURLToPath(new URL('../../../src/transport/websockets/connection.node.ts', import.meta.url)))}
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
await new Promise(resolve => wss.on('listening', resolve))
const ws = new WebSocket('ws://127.0.0.1:' + wss.address().port)
await new Promise(resolve => ws.on('open', resolve))
const conn = new NodeWebSocketConnection(ws, ws._socket, 'outbound', { remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/1/ws') })
ws._socket.destroy()
let writes = 0
try {
  for (;;) { await conn.write(new Uint8Array(1024)); writes++ }
} catch (err) {
  console.log(JSON.stringify({ name: err.name, writes }))
}
process.exit(0)
`

test('writes on a WebSocket whose socket is already destroyed fail at once instead of spinning', () => {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], { encoding: 'utf8', timeout: 20_000, cwd: fileURLToPath(new URL('../../../', import.meta.url)) })
  assert.equal(result.signal, null, `the sender spun until killed: ${result.stderr}`)
  const out = JSON.parse(result.stdout.trim()) as { name: string, writes: number }
  assert.equal(out.name, 'StreamClosedError')
  assert.equal(out.writes, 0)
})
