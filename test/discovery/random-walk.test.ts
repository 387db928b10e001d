/**
 * The DHT random walk on a network of real ts-libp2p DHT nodes (memory transport): a newcomer
 * that knows one node walks and reports peers beyond it as peer:discovery and into its peer
 * store. (Dialing discovered peers below minConnections is the connection manager's, shown with
 * mDNS in mdns-lan.test.ts and with rendezvous in test/cli/rendezvous.test.ts.)
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { kadDHT } from '../../src/dht/index.ts'
import { MemoryNetwork } from '../../src/transport/memory/index.ts'
import { createMemoryNode } from '../support/memory-node.ts'
import { createMemoryNode as createDhtNode, waitForRoutingTable, type DhtNode } from '../dht/network-helpers.ts'
import { randomWalk, RandomWalk } from '../../src/discovery/random-walk.ts'
import type { PeerInfo } from '../../src/interface/routing.ts'
import type { Libp2p } from '../../src/interface/libp2p.ts'

const nodes: Libp2p[] = []
after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

test('a walk finds peers beyond the one the node knows and records them', async () => {
  const network = new MemoryNetwork()
  const others: DhtNode[] = []
  for (let i = 0; i < 12; i++) {
    const node = await createDhtNode({ network, dht: { mode: 'server' } })
    nodes.push(node)
    others.push(node)
    if (i > 0) {
      await node.dial(others[0].getMultiaddrs()[0])
      await node.dial(others[i - 1].getMultiaddrs()[0])
    }
  }
  await waitForRoutingTable(others[0], 11)
  const walker = await createMemoryNode({
    network,
    services: { dht: kadDHT({ mode: 'server', initialRefresh: false, refreshInterval: 0 }), randomWalk: randomWalk({ interval: 3_600_000, fastInterval: 3_600_000 }) }
  })
  nodes.push(walker)
  const found = new Set<string>()
  walker.addEventListener('peer:discovery', evt => { found.add((evt as CustomEvent<PeerInfo>).detail.id.toString()) })
  await walker.dial(others[0].getMultiaddrs()[0])
  await waitForRoutingTable(walker as unknown as DhtNode, 1)
  const reported = await (walker.services.randomWalk as RandomWalk).walk()
  assert.ok(reported >= 5, `reported ${reported}`)
  const beyond = [...found].filter(id => id !== others[0].peerId.toString())
  assert.ok(beyond.length >= 5, `found ${beyond.length} peers beyond the first`)
  for (const id of beyond.slice(0, 3)) {
    const peer = await walker.peerStore.get(others.find(o => o.peerId.toString() === id)!.peerId)
    assert.ok(peer.addresses.length > 0)
  }
})
