import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EchoService, echoOverStream, serveEcho } from '../../../src/protocols/echo/echo.ts'
import { InvalidMessageError, TimeoutError } from '../../../src/util/errors.ts'
import { FakeRegistrar, FakeStream, connectFakePeers, fakeConnectionManager, fakePeerId, logger } from '../../support/fake-connections.ts'

function setup () {
  const a = { peerId: fakePeerId('A'), registrar: new FakeRegistrar() }
  const b = { peerId: fakePeerId('B'), registrar: new FakeRegistrar() }
  const [ab, ba] = connectFakePeers(a, b)
  const echoA = new EchoService({ registrar: a.registrar, connectionManager: fakeConnectionManager([ab]), logger })
  const echoB = new EchoService({ registrar: b.registrar, connectionManager: fakeConnectionManager([ba]), logger })
  echoB.start()
  return { a, b, ab, ba, echoA, echoB }
}

function pair (hwm = 1024): [FakeStream, FakeStream] {
  const x = new FakeStream('1', 'outbound', '/echo/1.0.0', hwm)
  const y = new FakeStream('1', 'inbound', '/echo/1.0.0', hwm)
  x.peer = y
  y.peer = x
  return [x, y]
}

test('echo returns the bytes sent, small and empty', async () => {
  const { ab, echoA } = setup()
  assert.deepEqual(await echoA.echo(ab, new TextEncoder().encode('hello')), new TextEncoder().encode('hello'))
  assert.deepEqual(await echoA.echo(ab, new Uint8Array(0)), new Uint8Array(0))
})

test('echo of a payload far larger than the buffers does not deadlock', async () => {
  const [client, server] = pair(1024)
  const serving = serveEcho(server)
  const data = crypto.getRandomValues(new Uint8Array(60_000))
  // send it in many small chunks would be the same; one big chunk exercises backpressure
  const out = await echoOverStream(client, data)
  assert.deepEqual(out, data)
  await serving
  await server.closed
  assert.equal(server.status, 'closed')
})

test('the server half-closes only after the client did, and keeps echoing until then', async () => {
  const [client, server] = pair()
  const serving = serveEcho(server)
  await client.write(Uint8Array.of(1, 2, 3))
  assert.deepEqual(await client.read(), Uint8Array.of(1, 2, 3))
  assert.equal(server.writeStatus, 'open')
  await client.closeWrite()
  assert.equal(await client.read(), null)
  await serving
})

test('an idle echo stream is aborted', async () => {
  const [client, server] = pair()
  await assert.rejects(serveEcho(server, 30), TimeoutError)
  await client.closed
  assert.equal(client.status, 'reset')
})

test('a server sending back more than was sent is a typed error', async () => {
  const [client, server] = pair()
  void (async () => {
    await server.read()
    server.send(Uint8Array.of(1, 2, 3, 4))
    await server.closeWrite()
  })()
  await assert.rejects(echoOverStream(client, Uint8Array.of(1, 2)), InvalidMessageError)
})

test('echo is registered only by the service, with the daemon protocol id', () => {
  const { a, b } = setup()
  assert.deepEqual(b.registrar.getProtocols(), ['/echo/1.0.0'])
  assert.deepEqual(a.registrar.getProtocols(), [])
})
