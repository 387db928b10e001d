/**
 * A converged DHT network of many ts-libp2p nodes in one process, for the simulation test and
 * the DHT benchmark.
 *
 * Joining thousands of nodes one at a time through bootstrap nodes costs minutes and keeps
 * every join connection open, so instead the routing tables are pre-seeded from a global view
 * of all node ids, as join + bucket refresh would leave them once the network has converged:
 * each node's bucket for common-prefix length `cpl` holds up to k peers whose ids share
 * exactly `cpl` leading bits with its own (all of them when there are at most k, a random k
 * otherwise), and its k closest peers are always in. Each seeded peer's listen address goes
 * into the node's peer store, as identify would have put it. Nothing else is pre-seeded: no
 * connections, records or provider records; every lookup step is a real RPC over a real
 * (memory, yamux) connection answered from the remote's own table. The join protocol itself
 * (bootstrap + self lookup + refresh) is exercised by kad-dht.test.ts.
 */
import { commonPrefixLength, compareDistance, toKadId } from '../../src/dht/distance.ts'
import { generateKeyPairFromSeed } from '../../src/crypto/index.ts'
import { closestPeersOf, createMemoryNode, MemoryNetwork, waitForRoutingTable, type DhtNode, type MemoryNodeOptions } from './network-helpers.ts'
import type { KadDHTOptions } from '../../src/dht/index.ts'
import { rng } from '../support/random.ts'
import { quantile } from '../support/stats.ts'

export interface SimNetworkOptions {
  size: number
  /** Seed of the node keys and the random bucket fills: the same seed builds the same network. */
  seed?: number
  /**
   * Build by real joins instead of seeding: node i dials the first `join` nodes and looks
   * itself up (slow: one node at a time, every join connection kept open).
   */
  join?: number
  dht?: KadDHTOptions
  /** Extra node options (e.g. a smaller peer store cache). */
  node?: Omit<MemoryNodeOptions, 'network' | 'dht' | 'privateKey'>
}

export interface SimNetwork {
  network: MemoryNetwork
  nodes: DhtNode[]
  stop(): Promise<void>
}

/** Creates `size` nodes over one memory network and seeds their routing tables (see above). */
export async function createSimNetwork (options: SimNetworkOptions): Promise<SimNetwork> {
  const network = new MemoryNetwork()
  const nodes: DhtNode[] = []
  const stop = async (): Promise<void> => { await Promise.all(nodes.map(async n => { await n.stop() })) }
  const random = rng(options.seed ?? 0x5eed)
  try {
    for (let i = 0; i < options.size; i++) {
      const privateKey = generateKeyPairFromSeed('Ed25519', Uint8Array.from({ length: 32 }, () => Math.floor(random() * 256)))
      // simulations run no background work: refresh and reprovide would be noise in the counts
      const node = await createMemoryNode({ ...options.node, privateKey, network, dht: { initialRefresh: false, refreshInterval: 0, ...options.dht } })
      if (options.join !== undefined && i > 0) {
        for (let j = 0; j < Math.min(i, options.join); j++) await node.dial(nodes[j].getMultiaddrs()[0])
        await waitForRoutingTable(node, 1)
        await closestPeersOf(node.services.dht, node.peerId.bytes)
      }
      nodes.push(node)
    }
    if (options.join === undefined) await seedRoutingTables(nodes, random)
  } catch (err) {
    await stop()
    throw err
  }
  return { network, nodes, stop }
}

/** Fills every node's routing table and peer store as a converged network would have. */
export async function seedRoutingTables (nodes: DhtNode[], random: () => number): Promise<void> {
  const kadIds = nodes.map(n => toKadId(n.peerId.bytes))
  const addrs = nodes.map(n => n.getMultiaddrs().map(a => a.decapsulateCode(421)))
  for (let a = 0; a < nodes.length; a++) {
    const dht = nodes[a].services.dht
    const k = dht.routingTable.kBucketSize
    const buckets: number[][] = []
    for (let b = 0; b < nodes.length; b++) {
      if (b === a) continue
      const cpl = commonPrefixLength(kadIds[a], kadIds[b])
      ;(buckets[cpl] ??= []).push(b)
    }
    const chosen: number[] = []
    // deepest buckets first: they hold the closest peers; the bucket where the k closest run
    // out contributes its closest members, shallower full buckets a random k
    let closestNeeded = k
    for (let cpl = buckets.length - 1; cpl >= 0; cpl--) {
      const members = buckets[cpl]
      if (members === undefined) continue
      if (members.length <= k) {
        chosen.push(...members)
      } else if (closestNeeded > 0) {
        members.sort((x, y) => compareDistance(kadIds[x], kadIds[y], kadIds[a]))
        const picked = members.slice(0, closestNeeded)
        chosen.push(...picked, ...sample(members.slice(closestNeeded), k - picked.length, random))
      } else {
        chosen.push(...sample(members, k, random))
      }
      closestNeeded = Math.max(0, closestNeeded - Math.min(members.length, k))
    }
    await Promise.all(chosen.map(async (b) => { await nodes[a].peerStore.merge(nodes[b].peerId, { multiaddrs: addrs[b] }) }))
    for (const b of chosen) dht.routingTable.add(nodes[b].peerId)
  }
}

/** `count` distinct random members of `from` (partial Fisher-Yates on a copy). */
function sample<T> (from: T[], count: number, random: () => number): T[] {
  const pool = [...from]
  const n = Math.min(count, pool.length)
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (pool.length - i))
    const t = pool[i]; pool[i] = pool[j]; pool[j] = t
  }
  return pool.slice(0, n)
}
