/**
 * Aborting a TCP connection right after its write side was closed (a FIN still pending: a
 * muxer that closed gracefully, then a failure) must still close the socket. libuv refuses an
 * RST while a shutdown is pending and Node then dropped the handle without closing it: the
 * descriptor stayed open and kept the process alive. Run in a child process that must exit on
 * its own once everything is closed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CHILD = `
import { createServer, connect } from 'node:net'
import { once } from 'node:events'
import { multiaddr } from '@multiformats/multiaddr'
import { TcpConnection } from ${JSON.stringify(fileURLToPath(new URL('../../../src/transport/tcp/connection.ts', import.meta.url)))}
const turn = () => new Promise(resolve => setImmediate(resolve))
const server = createServer((socket) => { socket.on('error', () => {}); socket.resume(); socket.on('end', () => socket.end()) })
server.listen(0, '127.0.0.1')
await once(server, 'listening')
const socket = connect(server.address().port, '127.0.0.1')
await once(socket, 'connect')
const conn = new TcpConnection(socket, 'outbound', { remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/1') })
conn.closeWrite().catch(() => {})
conn.abort(new Error('failed after a graceful close began'))
await turn()
await turn()
const sockets = process.getActiveResourcesInfo().filter(r => r === 'TCPSocketWrap').length
server.close()
console.log(JSON.stringify({ sockets }))
`

test('aborting a TCP connection whose FIN is still pending closes the socket', () => {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], { encoding: 'utf8', timeout: 20_000, cwd: fileURLToPath(new URL('../../../', import.meta.url)) })
  assert.equal(result.signal, null, `the child never exited (a socket left open): ${result.stdout} ${result.stderr}`)
  assert.equal(result.status, 0, result.stderr)
  const out = JSON.parse(result.stdout.trim()) as { sockets: number }
  // the server side's socket may still be closing; ours must be gone
  assert.ok(out.sockets <= 1, `${out.sockets} TCP sockets still open after the abort`)
})
