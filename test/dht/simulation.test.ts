/**
 * Simulation: 2,000 ts-libp2p DHT nodes in one process over the memory transport; 200 random
 * findPeer and 200 random findProviders lookups must all succeed. Reports the median and p99
 * hops and messages (requests sent) per lookup.
 *
 * The network is built converged (test/dht/sim-network.ts): routing tables and peer stores
 * are pre-seeded from the global view of all ids as join + refresh would leave them (every
 * bucket holds up to k peers of its part of the keyspace, the k closest always in), because
 * joining 2,000 nodes one by one takes many minutes. That is still a fair lookup test: nothing
 * about the targets is seeded (no connections, no provider records; providers announce with
 * the real provide()), and every lookup step is a real RPC over a fresh or reused memory
 * connection (yamux, multistream, identify) answered from the remote node's own table, so a
 * routing or termination bug fails lookups exactly as it would after real joins. The join
 * path is covered by kad-dht.test.ts, and by DHT_SIM_JOIN=3 here (joins through 3 nodes).
 *
 * After each lookup (and provide) the asking node closes its connections, as a connection
 * manager trims idle ones, so memory stays flat instead of growing by ~60 KB per connection;
 * each lookup thus dials the peers it asks, as a lookup for a random key mostly does anyway.
 *
 * DHT_SIM_NODES (default 2000), DHT_SIM_LOOKUPS (default 200 of each kind) and DHT_SIM_SEED
 * size and replay it; the same seed builds the same ids and tables.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { sha256 } from '../../src/crypto/index.ts'
import type { DhtEvent } from '../../src/dht/index.ts'
import { createSimNetwork, type SimNetwork } from './sim-network.ts'
import { quantile } from '../support/stats.ts'
import { rng } from '../support/random.ts'
import type { DhtNode } from './network-helpers.ts'

const NODES = Number(process.env.DHT_SIM_NODES ?? 2000)
const LOOKUPS = Number(process.env.DHT_SIM_LOOKUPS ?? 200)
const SEED = Number(process.env.DHT_SIM_SEED ?? 0x5eed)
const JOIN = process.env.DHT_SIM_JOIN !== undefined ? Number(process.env.DHT_SIM_JOIN) : undefined
const PROVIDED_KEYS = 20

type QueryDone = Extract<DhtEvent, { type: 'query-done' }>

describe(`DHT simulation: ${NODES} nodes over the memory transport`, { timeout: 1_800_000 }, () => {
  let sim: SimNetwork
  let nodes: DhtNode[] = []
  const random = rng(SEED ^ 0x10c4)
  const pick = (): DhtNode => nodes[Math.floor(random() * nodes.length)]

  before(async () => {
    const started = Date.now()
    sim = await createSimNetwork({ size: NODES, seed: SEED, join: JOIN, dht: { requestTimeout: 10_000 } })
    nodes = sim.nodes
    const sizes = nodes.map(n => n.services.dht.routingTable.size)
    console.log(`# ${JOIN !== undefined ? 'joined' : 'built (seeded)'} ${NODES} nodes in ${Date.now() - started} ms; routing table size median ${quantile(sizes, 0.5)}, min ${Math.min(...sizes)}; rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`)
  }, { timeout: 1_500_000 })

  after(async () => {
    await sim?.stop()
  })

  /** Closes `node`'s connections (both ends go away: memory connections are in-process). */
  async function hangUpAll (node: DhtNode): Promise<void> {
    await Promise.all(node.getConnections().map(async c => { await c.close().catch((err: Error) => { c.abort(err) }) }))
  }

  function report (t: { diagnostic(m: string): void }, what: string, hops: number[], messages: number[], ms: number): void {
    const line = `${what}: ${hops.length} lookups in ${ms} ms; hops median ${quantile(hops, 0.5)} p99 ${quantile(hops, 0.99)}; messages median ${quantile(messages, 0.5)} p99 ${quantile(messages, 0.99)}; ${nodes.reduce((n, x) => n + x.getConnections().length, 0)} connection ends open; rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`
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
      let done: QueryDone | undefined
      try {
        const info = await from.services.dht.findPeer(to.peerId, { useLocal: false, onProgress: (e) => { if (e.type === 'query-done') done = e } })
        assert.ok(info.id.equals(to.peerId))
        assert.deepEqual(info.multiaddrs.map(String), to.getMultiaddrs().map(a => a.decapsulateCode(421).toString()))
        assert.ok(done !== undefined, 'no query-done event')
        hops.push(done.doneAtHop)
        messages.push(done.queried)
      } catch (err) {
        failures.push(`${nodes.indexOf(from)} -> ${nodes.indexOf(to)}: ${(err as Error).message}`)
      }
      await hangUpAll(from)
    }
    report(t, 'findPeer', hops, messages, Date.now() - started)
    assert.deepEqual(failures, [])
  })

  it(`${LOOKUPS} random findProviders lookups all succeed`, async (t) => {
    const entries: Array<{ key: Uint8Array, provider: DhtNode }> = []
    for (let i = 0; i < PROVIDED_KEYS; i++) {
      const provider = pick()
      const key = Uint8Array.of(0x12, 0x20, ...sha256(Uint8Array.of(i, 0xd4, 0x7)))
      await provider.services.dht.provide(key)
      await hangUpAll(provider)
      entries.push({ key, provider })
    }
    const hops: number[] = []
    const messages: number[] = []
    const failures: string[] = []
    const started = Date.now()
    for (let i = 0; i < LOOKUPS; i++) {
      const { key, provider } = entries[Math.floor(random() * entries.length)]
      let from = pick()
      while (from === provider) from = pick()
      let done: QueryDone | undefined
      const found = []
      for await (const p of from.services.dht.findProviders(key, { count: 1, onProgress: (e) => { if (e.type === 'query-done') done = e } })) found.push(p)
      await hangUpAll(from)
      if (found.length === 0 || !found[0].id.equals(provider.peerId)) {
        failures.push(`${nodes.indexOf(from)} did not find provider ${nodes.indexOf(provider)}`)
        continue
      }
      // a provider record held by the asking node itself costs no lookup: 0 hops, 0 messages
      hops.push(done?.doneAtHop ?? 0)
      messages.push(done?.queried ?? 0)
    }
    report(t, 'findProviders', hops, messages, Date.now() - started)
    assert.deepEqual(failures, [])
  })
})
