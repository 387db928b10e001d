/**
 * The mixed Kademlia networks of the DHT interop tests (dht.test.ts: ts, js, go, rust;
 * dht-py.test.ts: ts, py): each node behind one `DhtMember` face, whether it is one of our
 * nodes in this process or a peer process driven through its line contract, and the checks
 * both networks run.
 */
import assert from 'node:assert/strict'
import { CID } from 'multiformats/cid'
import { multiaddr } from '../../src/index.ts'
import type { KadDHT } from '../../src/dht/index.ts'
import { peerIdFromString } from '../../src/peer/peer-id.ts'
import type { Libp2p } from '../../src/interface/libp2p.ts'

/** Every wait of a DHT operation, in ms. */
export const DHT_TIMEOUT = 60_000

export type OurDhtNode = Libp2p<{ identify: unknown, ping: unknown, dht: KadDHT }>

export interface DhtMember {
  kind: string
  peerId: string
  addrs: string[]
  findPeer(peer: string): Promise<string[]>
  provide(cid: string): Promise<void>
  findProviders(cid: string): Promise<string[]>
  dial(addr: string): Promise<void>
  bootstrap(): Promise<void>
}

export function ourDhtMember (node: OurDhtNode): DhtMember {
  const dht = node.services.dht
  return {
    kind: 'ts',
    peerId: node.peerId.toString(),
    addrs: node.getMultiaddrs().map(String),
    findPeer: async (peer) => (await dht.findPeer(peerIdFromString(peer), { useLocal: false, signal: AbortSignal.timeout(DHT_TIMEOUT) })).multiaddrs.map(String),
    provide: async (cid) => { await dht.provide(CID.parse(cid), { signal: AbortSignal.timeout(DHT_TIMEOUT) }) },
    findProviders: async (cid) => {
      const out: string[] = []
      for await (const p of dht.findProviders(CID.parse(cid), { count: 20, signal: AbortSignal.timeout(DHT_TIMEOUT) })) out.push(p.id.toString())
      return out
    },
    dial: async (addr) => { await node.dial(multiaddr(addr)) },
    bootstrap: async () => { await dht.refreshRoutingTable() }
  }
}

/**
 * Waits (up to 20 s) until `node`'s routing table holds `size` peers, then asserts it does.
 * Identify, and with it the routing tables, settles asynchronously after the dials, and the
 * table announces no changes, so this polls.
 */
export async function untilRoutingTableHolds (node: OurDhtNode, size: number): Promise<void> {
  const deadline = Date.now() + 20_000
  while (node.services.dht.routingTable.size < size && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
  assert.equal(node.services.dht.routingTable.size, size, 'the bootstrap node should have every server in its table')
}

/** Every member looks every other one up by findPeer; returns what failed (none: empty). */
export async function findEveryPeer (members: DhtMember[]): Promise<string[]> {
  const failures: string[] = []
  await Promise.all(members.map(async (from) => {
    for (const to of members) {
      if (to === from) continue
      try {
        const addrs = await from.findPeer(to.peerId)
        const wanted = to.addrs.map(a => a.replace(/\/p2p\/.*$/, ''))
        if (!addrs.some(a => wanted.includes(a.replace(/\/p2p\/.*$/, '')))) failures.push(`${from.kind}->${to.kind}: got ${addrs.join(',')}, want one of ${wanted.join(',')}`)
      } catch (err) {
        failures.push(`${from.kind} ${from.peerId.slice(-6)} -> ${to.kind} ${to.peerId.slice(-6)}: ${(err as Error).message}`)
      }
    }
  }))
  return failures
}
