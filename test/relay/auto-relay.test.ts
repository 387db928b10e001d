/**
 * Auto-relay over real TCP: a node listening on `/p2p-circuit` finds relays among the peers
 * identify told it about, reserves only once reachability is 'private' (the event AutoNAT
 * emits), replaces a relay that goes away with another, and releases them all on 'public'.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import type { RelayReservationEvent } from '../../src/interface/events.ts'
import { circuitRelayServer } from '../../src/relay/server.ts'
import { circuitRelayTransport, CircuitRelayTransport } from '../../src/relay/transport.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { makeNode, stopAll, type TestNode } from '../node/helpers.ts'
import { isRelayed } from '../../src/util/multiaddr.ts'
import { kadDHT, type KadDHT } from '../../src/dht/index.ts'

after(stopAll)

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

function identified (node: TestNode, peer: TestNode): Promise<void> {
  return new Promise(resolve => {
    const listener = (evt: CustomEvent<{ peerId: { equals(p: unknown): boolean } }>): void => {
      if (!evt.detail.peerId.equals(peer.peerId)) return
      node.removeEventListener('peer:identify', listener as never)
      resolve()
    }
    node.addEventListener('peer:identify', listener as never)
  })
}

const relayServices = () => ({ identify: identify(), ping: ping(), relay: circuitRelayServer() })

test('auto-relay: reserves once private, replaces a relay that goes away, releases all once public', async () => {
  const relay1 = await makeNode({ services: relayServices() })
  const relay2 = await makeNode({ services: relayServices() })
  const node = await makeNode({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0', '/p2p-circuit'] },
    transports: [tcp(), circuitRelayTransport({ retryInitial: 50, autoRelay: { reservations: 1 } })],
    services: { identify: identify(), ping: ping() }
  })
  const transport = node.transportManager.transports.find(t => t instanceof CircuitRelayTransport) as CircuitRelayTransport
  // Meet both relays: identify puts their hop protocol in the peer store.
  const seen = Promise.all([identified(node, relay1), identified(node, relay2)])
  await node.dial(relay1.getMultiaddrs())
  await node.dial(relay2.getMultiaddrs())
  await seen
  assert.deepEqual(transport.autoRelay.relays, [], 'nothing reserved while reachability is unknown')
  assert.equal(node.getMultiaddrs().filter(isRelayed).length, 0)

  const reserved = nextReservation(node, 'reserved')
  node.safeDispatch('reachability', { status: 'private', addrs: [] })
  const first = await reserved
  assert.equal(transport.autoRelay.relays.length, 1, 'one reservation, as configured')
  assert.equal(node.getMultiaddrs().filter(isRelayed).length, 1)
  const [firstRelay, otherRelay] = first.relay.equals(relay1.peerId) ? [relay1, relay2] : [relay2, relay1]

  // The relay goes away: auto-relay takes the other one.
  const replaced = nextReservation(node, 'reserved')
  await firstRelay.stop()
  const second = await replaced
  assert.ok(second.relay.equals(otherRelay.peerId))
  assert.deepEqual(transport.autoRelay.relays, [otherRelay.peerId.toString()])
  assert.ok(node.getMultiaddrs().filter(isRelayed)[0].toString().includes(`/p2p/${otherRelay.peerId.toString()}/p2p-circuit`))

  // Publicly reachable: the relays are released.
  const lost = nextReservation(node, 'lost')
  node.safeDispatch('reachability', { status: 'public', addrs: [] })
  await lost
  assert.deepEqual(transport.autoRelay.relays, [])
  assert.equal(node.getMultiaddrs().filter(isRelayed).length, 0)
})

test('auto-relay: with no relay in the peer store, a random walk of a real DHT meets one and reserves on it', async () => {
  const dhtOptions = { initialRefresh: false, refreshInterval: 0 }
  // A DHT of three ts nodes: the relay and another server both known to the entry node only.
  const entry = await makeNode({ services: { identify: identify(), ping: ping(), dht: kadDHT({ ...dhtOptions, mode: 'server' }) } })
  const relay = await makeNode({ services: { ...relayServices(), dht: kadDHT({ ...dhtOptions, mode: 'server' }) } })
  const other = await makeNode({ services: { identify: identify(), ping: ping(), dht: kadDHT({ ...dhtOptions, mode: 'server' }) } })
  const entryTable = (entry.services as unknown as { dht: KadDHT }).dht.routingTable
  await relay.dial(entry.getMultiaddrs())
  await other.dial(entry.getMultiaddrs())
  await until(() => entryTable.size >= 2, 'the entry node learns both servers')

  const node = await makeNode({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0', '/p2p-circuit'] },
    transports: [tcp(), circuitRelayTransport({ autoRelay: { reservations: 1, onlyWhenPrivate: false, discoveryInterval: 200 } })],
    services: { identify: identify(), ping: ping(), dht: kadDHT({ ...dhtOptions, mode: 'client' }) }
  })
  const reserved = nextReservation(node, 'reserved')
  await node.dial(entry.getMultiaddrs())
  const hopPeersBefore = await node.peerStore.all({ filter: p => p.protocols.includes('/libp2p/circuit/relay/0.2.0/hop') })
  assert.deepEqual(hopPeersBefore, [], 'the peer store knows no relay: only the walk can find one')
  const event = await reserved
  assert.ok(event.relay.equals(relay.peerId))
  assert.ok(node.getMultiaddrs().some(a => isRelayed(a) && a.toString().includes(`/p2p/${relay.peerId.toString()}/p2p-circuit`)))
})

/** Waits (bounded) for a condition that events of several nodes make true. */
async function until (check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise(resolve => setImmediate(resolve))
  }
}
