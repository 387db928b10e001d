/**
 * Circuit relay v2 end to end over real TCP with three ts-libp2p nodes (Noise, Yamux): a relay,
 * a node B listening through it, a node A dialing B's circuit address. The relayed connection
 * is limited (only opted-in protocols run on it), requests for a second hop over it are
 * refused, a relay that is down at start is retried until it is up, and a reservation is made
 * again after the relay drops and the connection comes back.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { RelayReservationEvent } from '../../src/interface/events.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import type { PrivateKey } from '../../src/interface/keys.ts'
import { circuitRelayServer } from '../../src/relay/server.ts'
import { circuitRelayTransport } from '../../src/relay/transport.ts'
import type { CircuitRelayTransportOptions } from '../../src/relay/transport.ts'
import { connectThroughRelay, reserve } from '../../src/relay/hop-client.ts'
import { RelayStatus } from '../../src/relay/messages.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { echo, echoOverStream, ECHO_PROTOCOL } from '../../src/protocols/echo/index.ts'
import { makeNode, stopAll, type TestNode } from '../node/helpers.ts'
import { isRelayed } from '../../src/util/multiaddr.ts'

after(stopAll)

async function relayNode (privateKey?: PrivateKey, listen = '/ip4/127.0.0.1/tcp/0'): Promise<TestNode> {
  return await makeNode({
    privateKey,
    addresses: { listen: [listen] },
    services: { identify: identify(), ping: ping(), relay: circuitRelayServer() }
  })
}

async function clientNode (listen: string[], options: CircuitRelayTransportOptions = {}, extra: Record<string, unknown> = {}): Promise<TestNode> {
  return await makeNode({
    addresses: { listen },
    transports: [tcp(), circuitRelayTransport({ retryInitial: 20, retryMax: 200, ...options })],
    services: { identify: identify(), ping: ping(), echo: echo({ runOnLimitedConnection: true }), ...extra }
  })
}

function nextReservation (node: TestNode, status: RelayReservationEvent['status']): Promise<RelayReservationEvent> {
  return new Promise(resolve => {
    const listener = (evt: CustomEvent<RelayReservationEvent>): void => {
      if (evt.detail.status !== status) return
      node.removeEventListener('relay:reservation', listener)
      resolve(evt.detail)
    }
    node.addEventListener('relay:reservation', listener)
  })
}

const circuitAddrOf = (node: TestNode): Multiaddr | undefined => node.getMultiaddrs().find(isRelayed)

test('B listens through the relay; A dials its circuit address; the connection is limited', async () => {
  const relay = await relayNode()
  const relayAddr = relay.getMultiaddrs()[0]
  const b = await clientNode([`${relayAddr.toString()}/p2p-circuit`])
  const circuit = circuitAddrOf(b)
  assert.ok(circuit !== undefined, `B advertises a circuit address: ${b.getMultiaddrs().map(String).join(' ')}`)
  assert.equal(circuit.toString(), `${relayAddr.toString()}/p2p-circuit/p2p/${b.peerId.toString()}`)

  const a = await clientNode([])
  const connection = await a.dial(circuit)
  assert.ok(connection.remotePeer.equals(b.peerId))
  assert.ok(isRelayed(connection.remoteAddr))
  assert.deepEqual(connection.limits, { seconds: 120, bytes: 131072n })
  assert.equal(connection.encryption, '/noise')

  // ping and echo opted in: they run over the limited connection.
  const rtt = await (a.services.ping as { ping(c: unknown): Promise<number> }).ping(connection)
  assert.ok(rtt >= 0)
  const stream = await connection.newStream(ECHO_PROTOCOL, { runOnLimitedConnection: true })
  assert.equal(new TextDecoder().decode(await echoOverStream(stream, new TextEncoder().encode('through the relay'))), 'through the relay')
  // Without the option, newStream refuses at once with a typed error.
  await assert.rejects(connection.newStream(ECHO_PROTOCOL), { name: 'LimitExceededError' })
  // A protocol B did not opt in is refused on B's side.
  await b.handle('/not-limited/1.0.0', (s) => { void s.close() })
  const refused = await connection.newStream('/not-limited/1.0.0', { runOnLimitedConnection: true })
  await assert.rejects(refused.read(), { name: 'StreamResetError' })

  // B sees the inbound connection as limited and relayed too.
  const inbound = b.getConnections(a.peerId).find(c => isRelayed(c.remoteAddr))
  assert.ok(inbound !== undefined)
  assert.ok(inbound.limits !== undefined)
  await a.stop(); await b.stop(); await relay.stop()
})

test('two nodes that both listen through one relay reach each other through it', async () => {
  const relay = await relayNode()
  const relayAddr = relay.getMultiaddrs()[0]
  const a = await clientNode([`${relayAddr.toString()}/p2p-circuit`])
  const b = await clientNode([`${relayAddr.toString()}/p2p-circuit`])
  // A's own circuit address differs from B's only in the final /p2p: the dialer must not
  // take B's for one of A's own.
  const connection = await a.dial(circuitAddrOf(b)!)
  assert.ok(connection.remotePeer.equals(b.peerId))
  assert.ok(isRelayed(connection.remoteAddr))
  await a.stop(); await b.stop(); await relay.stop()
})

test('peers reaching us through one relay do not count against the relay\'s IP in the resource manager', async () => {
  const relay = await relayNode()
  const relayAddr = relay.getMultiaddrs()[0]
  // At most 2 connections per IP, loopback included: our own connection to the relay takes one.
  const b = await makeNode({
    addresses: { listen: [`${relayAddr.toString()}/p2p-circuit`] },
    transports: [tcp(), circuitRelayTransport()],
    resourceManager: { limitLoopback: true, limits: { ip: { conns: 2, connsInbound: 2 } } },
    services: { identify: identify(), ping: ping(), echo: echo({ runOnLimitedConnection: true }) }
  })
  const circuit = circuitAddrOf(b)!
  const dialers = await Promise.all([1, 2, 3].map(async () => await clientNode([])))
  for (const a of dialers) {
    const connection = await a.dial(circuit)
    const stream = await connection.newStream(ECHO_PROTOCOL, { runOnLimitedConnection: true })
    assert.equal(new TextDecoder().decode(await echoOverStream(stream, new TextEncoder().encode('hi'))), 'hi')
  }
  assert.equal(b.getConnections().filter(c => isRelayed(c.remoteAddr)).length, 3)
  await Promise.all(dialers.map(async a => { await a.stop() }))
  await b.stop(); await relay.stop()
})

test('RESERVE and CONNECT over a relayed connection get PERMISSION_DENIED', async () => {
  const relay = await relayNode()
  const relayAddr = relay.getMultiaddrs()[0]
  // B is itself a relay, reachable here only through the first one.
  const b = await clientNode([`${relayAddr.toString()}/p2p-circuit`], {}, { relay: circuitRelayServer() })
  const a = await clientNode([])
  const connection = await a.dial(circuitAddrOf(b)!)
  await assert.rejects(reserve(connection, { self: a.peerId }), (err: Error & { status?: number }) => err.status === RelayStatus.PERMISSION_DENIED)
  await assert.rejects(connectThroughRelay(connection, relay.peerId), (err: Error & { status?: number }) => err.status === RelayStatus.PERMISSION_DENIED)
  await a.stop(); await b.stop(); await relay.stop()
})

test('a relay that is down at start does not fail the start; the reservation is made once it is up', async () => {
  const key = await generateKeyPair('Ed25519')
  const first = await relayNode(key)
  const relayAddr = first.getMultiaddrs()[0]
  const listen = relayAddr.toString().replace(/\/p2p\/.*$/, '')
  await first.stop()

  const b = await clientNode([`${relayAddr.toString()}/p2p-circuit`])
  assert.equal(circuitAddrOf(b), undefined)
  const reserved = nextReservation(b, 'reserved')
  const relay = await relayNode(key, listen)
  const event = await reserved
  assert.ok(event.relay.equals(relay.peerId))
  assert.equal(event.addrs[0].toString(), `${relayAddr.toString()}/p2p-circuit/p2p/${b.peerId.toString()}`)
  assert.ok(circuitAddrOf(b) !== undefined)
  await b.stop(); await relay.stop()
})

test('the reservation is lost when the relay drops us and made again when we are back', async () => {
  const relay = await relayNode()
  const relayAddr = relay.getMultiaddrs()[0]
  const b = await clientNode([`${relayAddr.toString()}/p2p-circuit`])
  assert.ok(circuitAddrOf(b) !== undefined)
  const lost = nextReservation(b, 'lost')
  const again = nextReservation(b, 'reserved')
  await relay.hangUp(b.peerId)
  await lost
  const event = await again
  assert.ok(event.expires > Date.now())
  assert.ok(circuitAddrOf(b) !== undefined)
  // and it works: A reaches B through the new reservation
  const a = await clientNode([])
  const connection = await a.dial(circuitAddrOf(b)!)
  assert.ok(connection.remotePeer.equals(b.peerId))
  await a.stop(); await b.stop(); await relay.stop()
})

test('a circuit address is dialable only in its one-hop form', async () => {
  const transport = circuitRelayTransport()()
  const relay = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
  const peer = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
  assert.equal(transport.dialFilter([multiaddr(`${relay}/p2p-circuit/p2p/${peer}`)]).length, 1)
  assert.equal(transport.dialFilter([multiaddr(`${relay}/p2p-circuit`)]).length, 0)
  assert.equal(transport.dialFilter([multiaddr(`/p2p-circuit/p2p/${peer}`)]).length, 0)
  assert.equal(transport.dialFilter([multiaddr(`${relay}/p2p-circuit/p2p/${peer}/p2p-circuit/p2p/${peer}`)]).length, 0)
  assert.equal(transport.listenFilter([multiaddr(`${relay}/p2p-circuit`)]).length, 1)
  assert.equal(transport.listenFilter([multiaddr('/ip4/127.0.0.1/tcp/1')]).length, 0)
})
