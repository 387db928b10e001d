/**
 * The services' metrics over real TCP nodes: the DHT's routing table size and lookups, and
 * GossipSub's mesh, peers, scores and message outcomes; the relay server's reservations and circuits.
 */
import { afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { makeNode, stopAll } from '../node/helpers.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { kadDHT } from '../../src/dht/index.ts'
import type { KadDHT } from '../../src/dht/index.ts'
import { gossipsub } from '../../src/pubsub/gossipsub/index.ts'
import type { GossipSub } from '../../src/pubsub/gossipsub/index.ts'
import { waitForRoutingTable, type DhtNode } from '../dht/network-helpers.ts'
import { untilSubscribed, collect, untilCount, type PubSubNode } from '../pubsub/helpers.ts'
import { utf8Encode } from '../../src/util/bytes.ts'
import { circuitRelayServer, circuitRelayTransport } from '../../src/relay/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

function sample (text: string, series: string): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(series + ' '))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('service metrics', () => {
  afterEach(stopAll)

  it('the DHT reports its routing table size and each lookup by type and outcome', async () => {
    const dhtOptions = { mode: 'server' as const, initialRefresh: false, refreshInterval: 0 }
    const node = await makeNode({ metrics: true, services: { identify: identify(), dht: kadDHT(dhtOptions) } }) as unknown as DhtNode
    const peer = await makeNode({ services: { identify: identify(), dht: kadDHT(dhtOptions) } }) as unknown as DhtNode
    await node.dial(peer.getMultiaddrs()[0])
    await waitForRoutingTable(node, 1)
    for await (const event of (node.services.dht as KadDHT).getClosestPeers(utf8Encode('some key'))) void event
    const text = node.metrics!.expose()
    assert.equal(sample(text, 'libp2p_kad_dht_routing_table_peers'), 1)
    assert.equal(sample(text, 'libp2p_kad_dht_lookups_total{type="find_node",outcome="finished"}'), 1, text)
    assert.equal(sample(text, 'libp2p_kad_dht_lookup_duration_seconds_count{type="find_node",outcome="finished"}'), 1)
    assert.equal(sample(text, 'libp2p_kad_dht_lookup_requests_total{result="answered"}'), 1)
  })

  it('GossipSub reports mesh sizes, peers, score ranges and message outcomes by topic', async () => {
    const topic = 'metrics-topic'
    const scoring = { scoreParams: { topics: {} }, scoreThresholds: {} }
    const node = await makeNode({ metrics: true, services: { identify: identify(), pubsub: gossipsub(scoring) } }) as unknown as PubSubNode<GossipSub>
    const peer = await makeNode({ services: { identify: identify(), pubsub: gossipsub() } }) as unknown as PubSubNode<GossipSub>
    node.services.pubsub.subscribe(topic)
    peer.services.pubsub.subscribe(topic)
    await node.dial(peer.getMultiaddrs()[0])
    await untilSubscribed(node, peer.peerId, topic)
    const received = collect(node)
    await peer.services.pubsub.publish(topic, utf8Encode('hello'))
    await untilCount(node, received, 1)
    const text = node.metrics!.expose()
    assert.equal(sample(text, `libp2p_gossipsub_messages_total{topic="${topic}",outcome="delivered"}`), 1, text)
    assert.equal(sample(text, 'libp2p_gossipsub_peers'), 1)
    assert.equal(sample(text, `libp2p_gossipsub_mesh_peers{topic="${topic}"}`), node.services.pubsub.mesh.get(topic)?.size ?? 0)
    assert.equal((sample(text, 'libp2p_gossipsub_peers_by_score{range="negative"}') ?? 0) + (sample(text, 'libp2p_gossipsub_peers_by_score{range="zero"}') ?? 0) + (sample(text, 'libp2p_gossipsub_peers_by_score{range="positive"}') ?? 0), 1)
  })
})

describe('relay server metrics', () => {
  afterEach(stopAll)

  it('report the reservations the relay holds and the circuits open through it', { timeout: 30_000 }, async () => {
    const relay = await makeNode({ metrics: true, services: { identify: identify(), relay: circuitRelayServer() } })
    const relayAddr = `${relay.getMultiaddrs()[0].toString()}`
    const target = await makeNode({ transports: [tcp(), circuitRelayTransport()], addresses: { listen: ['/ip4/127.0.0.1/tcp/0', `${relayAddr}/p2p-circuit`] } })
    const circuitAddr = target.getMultiaddrs().find(a => a.toString().includes('/p2p-circuit')) ?? await new Promise<Multiaddr>(resolve => {
      target.addEventListener('relay:reservation', (evt) => { const a = evt.detail.addrs[0]; if (a !== undefined) resolve(a) })
    })
    const dialer = await makeNode({ transports: [tcp(), circuitRelayTransport()] })
    const connection = await dialer.dial(circuitAddr)
    await connection.newStream('/echo/1.0.0', { runOnLimitedConnection: true })
    const text = relay.metrics!.expose()
    assert.equal(sample(text, 'libp2p_relay_server_reservations'), 1, text)
    assert.equal(sample(text, 'libp2p_relay_server_circuits'), 1, text)
  })
})
