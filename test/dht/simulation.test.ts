/**
 * Simulation: many ts-libp2p DHT nodes in one process over the memory transport. Nodes join
 * one after the other through three bootstrap nodes and look themselves up (the standard
 * Kademlia join); then random findPeer and findProviders lookups must all succeed. Reports
 * the median and p99 hops and messages per lookup.
 *
 * DHT_SIM_NODES (default 300 in `npm test`; the 2,000 with DHT_SIM_NODES=2000) and
 * DHT_SIM_LOOKUPS (default 200 of each kind) size it.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createMemoryNode, MemoryNetwork, waitForRoutingTable, type DhtNode } from './network-helpers.ts'
import { sha256 } from '../../src/crypto/index.ts'
import type { DhtEvent } from '../../src/dht/index.ts'

const NODES = Number(process.env.DHT_SIM_NODES ?? 300)
const LOOKUPS = Number(process.env.DHT_SIM_LOOKUPS ?? 200)
const BOOTSTRAP = 3

function quantile (values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
}

/** Deterministic choices, so a failure can be replayed. */
function rng (seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    return x / 0x100000000
  }
}

describe(`DHT simulation: ${NODES} nodes over the memory transport`, { timeout: 1_800_000 }, () => {
  const network = new MemoryNetwork()
  const nodes: DhtNode[] = []
  const random = rng(Number(process.env.DHT_SIM_SEED ?? 0x5eed))
  const pick = (): DhtNode => nodes[Math.floor(random() * nodes.length)]

  before(async () => {
    const started = Date.now()
    for (let i = 0; i < NODES; i++) {
      const node = await createMemoryNode({ network, dht: { requestTimeout: 5_000 } })
      for (let j = 0; j < Math.min(i, BOOTSTRAP); j++) await node.dial(nodes[j].getMultiaddrs()[0])
      if (i > 0) {
        await waitForRoutingTable(node, 1)
        await node.services.dht.closestPeers(node.peerId.bytes)
      }
      nodes.push(node)
    }
    const sizes = nodes.map(n => n.services.dht.routingTable.size)
    console.log(`# joined ${NODES} nodes in ${Date.now() - started} ms; routing table size median ${quantile(sizes, 0.5)}, min ${Math.min(...sizes)}; rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`)
  }, { timeout: 1_500_000 })

  after(async () => {
    await Promise.all(nodes.map(async n => { await n.stop() }))
  })

  function report (t: { diagnostic(m: string): void }, what: string, hops: number[], messages: number[], ms: number): void {
    const line = `${what}: ${hops.length} lookups in ${ms} ms; hops median ${quantile(hops, 0.5)} p99 ${quantile(hops, 0.99)}; messages median ${quantile(messages, 0.5)} p99 ${quantile(messages, 0.99)}`
    t.diagnostic(line)
    console.log(`# ${line}`)
  }

  it(`${LOOKUPS} random findPeer lookups all succeed`, async (t) => {
    const hops: number[] = []
    const messages: number[] = []
    const failures: string[] = []
    const started = Date.now()
    for (let i = 0; i < LOOKUPS; i++) {
      const from = pick()
      let to = pick()
      while (to === from) to = pick()
      let done: Extract<DhtEvent, { type: 'query-done' }> | undefined
      try {
        const info = await from.services.dht.findPeer(to.peerId, { useLocal: false, onProgress: (e) => { if (e.type === 'query-done') done = e } })
        assert.ok(info.id.equals(to.peerId))
        hops.push(done?.doneAtHop ?? 0)
        messages.push(done?.queried ?? 0)
      } catch (err) {
        failures.push(`${nodes.indexOf(from)} -> ${nodes.indexOf(to)}: ${(err as Error).message}`)
      }
    }
    report(t, 'findPeer', hops, messages, Date.now() - started)
    assert.deepEqual(failures, [])
  })

  it(`${LOOKUPS} random findProviders lookups all succeed`, async (t) => {
    const providers = new Map<string, { key: Uint8Array, provider: DhtNode }>()
    for (let i = 0; i < 20; i++) {
      const provider = pick()
      const key = Uint8Array.of(0x12, 0x20, ...sha256(Uint8Array.of(i, 0xd4, 0x7)))
      await provider.services.dht.provide(key)
      providers.set(String(i), { key, provider })
    }
    const entries = [...providers.values()]
    const hops: number[] = []
    const messages: number[] = []
    const failures: string[] = []
    const started = Date.now()
    for (let i = 0; i < LOOKUPS; i++) {
      const { key, provider } = entries[Math.floor(random() * entries.length)]
      let from = pick()
      while (from === provider) from = pick()
      let done: Extract<DhtEvent, { type: 'query-done' }> | undefined
      const found = []
      for await (const p of from.services.dht.findProviders(key, { count: 1, onProgress: (e) => { if (e.type === 'query-done') done = e } })) found.push(p)
      if (found.length === 0 || !found[0].id.equals(provider.peerId)) {
        failures.push(`${nodes.indexOf(from)} did not find provider ${nodes.indexOf(provider)}`)
        continue
      }
      // a provider record held by the asking node itself costs no lookup
      hops.push(done?.doneAtHop ?? 0)
      messages.push(done?.queried ?? 0)
    }
    report(t, 'findProviders', hops, messages, Date.now() - started)
    assert.deepEqual(failures, [])
  })
})
