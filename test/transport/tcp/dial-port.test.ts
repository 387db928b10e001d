/**
 * The shared dial port (src/transport/tcp/dial-port.ts): outgoing dials leave from one local
 * port, fall back to an ephemeral port only for a destination the port is busy with, and
 * choose another port when another program holds it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { TcpTransport } from '../../../src/transport/tcp/index.ts'
import type { RawConnection } from '../../../src/interface/transport.ts'

async function listenOn (port = 0): Promise<Server> {
  const server = createServer(socket => { socket.on('error', () => {}) })
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve) })
  return server
}
const portOf = (server: Server): number => (server.address() as { port: number }).port
const localPort = (conn: RawConnection): number => Number(conn.localAddr!.toString().split('/').pop())

test('dials to different destinations share one local port; a second dial to the same one falls back', async () => {
  const [one, two] = [await listenOn(), await listenOn()]
  const transport = new TcpTransport()
  const conns: RawConnection[] = []
  try {
    conns.push(await transport.dial(multiaddr(`/ip4/127.0.0.1/tcp/${portOf(one)}`)))
    conns.push(await transport.dial(multiaddr(`/ip4/127.0.0.1/tcp/${portOf(two)}`)))
    conns.push(await transport.dial(multiaddr(`/ip4/127.0.0.1/tcp/${portOf(one)}`)))
    assert.equal(transport.dialPort, localPort(conns[0]))
    assert.equal(localPort(conns[1]), transport.dialPort)
    // same 4-tuple is impossible: this one came from an ephemeral port, and it works
    assert.notEqual(localPort(conns[2]), transport.dialPort)
  } finally {
    for (const c of conns) c.abort(new Error('test over'))
    one.close(); two.close()
  }
})

test('a given dial port held by a listener: that dial goes out from an ephemeral port', async () => {
  const blocker = await listenOn()
  const target = await listenOn()
  // Given ports are kept even when busy: that dial goes out ephemeral.
  const fixed = new TcpTransport({ dialPort: portOf(blocker) })
  const conn = await fixed.dial(multiaddr(`/ip4/127.0.0.1/tcp/${portOf(target)}`))
  try {
    assert.equal(fixed.dialPort, portOf(blocker))
    assert.notEqual(localPort(conn), portOf(blocker))
  } finally {
    conn.abort(new Error('test over'))
    blocker.close(); target.close()
  }
})

test('dialPort: false dials from ephemeral ports, like plain node:net', async () => {
  const target = await listenOn()
  const transport = new TcpTransport({ dialPort: false })
  const a = await transport.dial(multiaddr(`/ip4/127.0.0.1/tcp/${portOf(target)}`))
  const b = await transport.dial(multiaddr(`/ip4/127.0.0.1/tcp/${portOf(target)}`))
  try {
    assert.equal(transport.dialPort, undefined)
    assert.notEqual(localPort(a), localPort(b))
  } finally {
    a.abort(new Error('test over')); b.abort(new Error('test over'))
    target.close()
  }
})
