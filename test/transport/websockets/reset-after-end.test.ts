/**
 * Aborting a WebSocket connection whose TCP socket was already ended (ws ends it as soon as a
 * Close is exchanged, e.g. when js-libp2p refuses our muxer or /tls and closes) must still
 * close the socket. libuv refuses an RST while a FIN is pending and Node then dropped the
 * handle without closing it: the descriptor stayed open and kept the process alive (doctor
 * never exited). Run in a child process that must exit on its own once everything is closed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CHILD = `
import { WebSocketServer, WebSocket } from 'ws'
import { multiaddr } from '@multiformats/multiaddr'
import { NodeWebSocketConnection } from ${JSON.stringify(fileURLToPath(new URL('../../../src/transport/websockets/connection.node.ts', import.meta.url)))}
const turn = () => new Promise(resolve => setImmediate(resolve))
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
wss.on('connection', (ws) => { ws.on('error', () => {}) })
await new Promise(resolve => wss.on('listening', resolve))
const ws = new WebSocket('ws://127.0.0.1:' + wss.address().port)
await new Promise(resolve => ws.on('open', resolve))
const conn = new NodeWebSocketConnection(ws, ws._socket, 'outbound', { remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/1/ws') })
// the state ws leaves after a Close exchange: our FIN is still pending (libuv's shutdown
// request completes on a later turn of the loop) when the upgrader, failing, aborts
ws._socket.end()
conn.abort(new Error('the upgrade failed'))
await turn()
await turn()
const sockets = process.getActiveResourcesInfo().filter(r => r === 'TCPSocketWrap').length
wss.close()
for (const client of wss.clients) client.terminate()
console.log(JSON.stringify({ sockets }))
`

test('aborting a WebSocket whose socket was already ended closes the socket', () => {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], { encoding: 'utf8', timeout: 20_000, cwd: fileURLToPath(new URL('../../../', import.meta.url)) })
  assert.equal(result.signal, null, `the child never exited (a socket left open): ${result.stdout} ${result.stderr}`)
  assert.equal(result.status, 0, result.stderr)
  const out = JSON.parse(result.stdout.trim()) as { sockets: number }
  // the server side's socket may still be closing; ours must be gone
  assert.ok(out.sockets <= 1, `${out.sockets} TCP sockets still open after the abort`)
})
