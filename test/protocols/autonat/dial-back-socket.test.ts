/**
 * The dial-back's socket (`separateSocket`, what both AutoNAT servers ask for): over QUIC and
 * over TCP the dial leaves from a port of its own, not the listen port nor the shared dial port
 * earlier traffic left from, so a NAT's filter cannot let it through on the strength of that
 * traffic. The socket goes with its connection.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { quic, QuicTransport } from '../../../src/transport/quic/index.ts'
import { tcp, TcpTransport } from '../../../src/transport/tcp/index.ts'
import { makeNode, stopAll } from '../../node/helpers.ts'

after(stopAll)

const portOf = (addr: { toString(): string } | undefined): number => Number(/\/(?:tcp|udp)\/(\d+)/.exec(String(addr))?.[1])

test('QUIC: a separate-socket dial leaves from an ephemeral port, not the listen socket, which closes with the connection', async () => {
  const server = await makeNode({ addresses: { listen: ['/ip4/127.0.0.1/udp/0/quic-v1'] }, transports: [quic()] })
  const client = await makeNode({ addresses: { listen: ['/ip4/127.0.0.1/udp/0/quic-v1'] }, transports: [quic()] })
  const listenPort = portOf(server.getMultiaddrs()[0])
  const shared = await server.connectionManager.openConnection(client.getMultiaddrs(), { force: true })
  assert.equal(portOf(shared.localAddr), listenPort, 'an ordinary QUIC dial leaves from the listen socket')
  const separate = await server.connectionManager.openConnection(client.getMultiaddrs(), { force: true, separateSocket: true })
  assert.ok(portOf(separate.localAddr) !== listenPort && portOf(separate.localAddr) > 0, String(separate.localAddr))
  const transport = server.transportManager.transports.find(t => t instanceof QuicTransport) as QuicTransport
  const before = transport.connectionCount
  await separate.close()
  assert.ok(transport.connectionCount < before)
  assert.equal(shared.status, 'open')
})

test('TCP: a separate-socket dial leaves from an ephemeral port, not the shared dial port', async () => {
  const server = await makeNode({ transports: [tcp()] })
  const client = await makeNode({ transports: [tcp()] })
  const transport = server.transportManager.transports.find(t => t instanceof TcpTransport) as TcpTransport
  const other = await makeNode({ transports: [tcp()] })
  const viaDialPort = await server.connectionManager.openConnection(other.getMultiaddrs(), { force: true })
  assert.equal(portOf(viaDialPort.localAddr), transport.dialPort, 'an ordinary TCP dial leaves from the shared dial port')
  const separate = await server.connectionManager.openConnection(client.getMultiaddrs(), { force: true, separateSocket: true })
  assert.ok(portOf(separate.localAddr) !== transport.dialPort && portOf(separate.localAddr) !== portOf(server.getMultiaddrs()[0]), String(separate.localAddr))
})
