/**
 * The js-libp2p side of the DHT benchmark: N js-libp2p 3 nodes with @libp2p/kad-dht (server
 * mode, /ipfs/kad/1.0.0, default k, alpha and disjoint paths) over @libp2p/memory in one
 * process, measured by lookups.ts. Prints one JSON line (a SideRun).
 *
 * Built converged like the ts side, but by js's own table design: js keeps a trie of buckets
 * on the ids' absolute prefix, split up to depth 6 (64 buckets of 20), so each node is offered
 * its 20 closest peers, then up to 20 random peers of each 6-bit prefix, and keeps what its
 * table accepts; each kept peer's address goes into its peer store. Seeded peers count as just
 * pinged, so nothing is pinged during the build. Background work that would skew the counts is
 * off: no self-query, no periodic table refresh (the one at start finds an empty table).
 * Connection encryption is @libp2p/plaintext: js has no handshake-free encrypter for memory
 * connections (ours uses /memory-trusted/1.0.0), so js pays one small extra exchange per
 * connection.
 *
 *   node --expose-gc bench/dht/sim-js.ts --size 500 --lookups 100 --seed 24301
 */
import { createLibp2p } from 'libp2p'
import { memory } from '@libp2p/memory'
import { plaintext } from '@libp2p/plaintext'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { compareDistance, toKadId } from '../../src/dht/distance.ts'
import { rng } from '../../test/support/random.ts'
import { runSide, type HopEvent, type SimSide } from './lookups.ts'

const NEVER = 2 ** 31 - 1
const K = 20
const PREFIX_BITS = 6
const RAW = 0x55
/** MessageType.PING of the DHT protocol: js pings new routing table contacts; not part of a lookup. */
const PING = 5

interface JsBucket { peers?: Array<{ peerId: PeerId, kadId: Uint8Array, lastPing: number }> }
interface JsKBucket {
  onAdd?: unknown
  _add(peer: { peerId: PeerId, kadId: Uint8Array, lastPing: number }, options: object): Promise<void>
  toIterable(): Iterable<{ peerId: PeerId }>
  root: JsBucket
}
interface JsDht {
  network: { sendRequest(to: PeerId, message: { type: number }, options: object): AsyncGenerator<unknown> }
  routingTable: { kb: JsKBucket, size: number }
  routingTableRefresh: { refreshInterval: number }
  findPeer(id: PeerId, options: object): AsyncIterable<any>
  findProviders(cid: CID, options: object): AsyncIterable<any>
  provide(cid: CID, options: object): AsyncIterable<any>
}
type JsNode = Libp2p<{ identify: unknown, ping: unknown, dht: JsDht }>

function cidOf (multihash: Uint8Array): CID {
  return CID.createV1(RAW, Digest.decode(multihash))
}

async function build (size: number, seed: number): Promise<SimSide> {
  const random = rng(seed)
  const nodes: JsNode[] = []
  for (let i = 0; i < size; i++) {
    const privateKey = await generateKeyPairFromSeed('Ed25519', Uint8Array.from({ length: 32 }, () => Math.floor(random() * 256)))
    const node = await createLibp2p({
      privateKey,
      start: false,
      addresses: { listen: [`/memory/dht-bench-js-${process.pid}-${i}`] },
      transports: [memory()],
      connectionEncrypters: [plaintext()],
      streamMuxers: [yamux()],
      connectionManager: { maxConnections: 10_000, maxIncomingPendingConnections: 1_000, inboundConnectionThreshold: 1_000_000, maxParallelDials: 1_000 },
      services: {
        identify: identify(),
        ping: ping(),
        dht: kadDHT({
          protocol: '/ipfs/kad/1.0.0',
          clientMode: false,
          peerInfoMapper: passthroughMapper,
          allowQueryWithZeroPeers: true,
          querySelfInterval: NEVER,
          initialQuerySelfInterval: NEVER
        }) as any
      }
    }) as unknown as JsNode
    node.services.dht.routingTableRefresh.refreshInterval = NEVER
    await node.start()
    nodes.push(node)
  }
  await seed_(nodes, random)
  const ids = nodes.map(n => n.peerId.toString())
  // Requests are counted where js sends them, not from SEND_QUERY events: a lookup that
  // returns at its first FINAL_PEER / PROVIDER event (as js-libp2p's own peerRouting does)
  // stops reading events that js may already have acted on, so the events undercount.
  let asking: { node: number, onSend(to: string): void } | undefined
  nodes.forEach((node, i) => {
    const network = node.services.dht.network
    const send = network.sendRequest.bind(network)
    network.sendRequest = async function * (to: PeerId, message: { type: number }, options: object) {
      if (asking?.node === i && message.type !== PING) asking.onSend(to.toString())
      yield * send(to, message, options)
    }
  })
  const toHop = (e: any, onEvent: (e: HopEvent) => void): void => {
    if (e.name === 'PEER_RESPONSE') onEvent({ type: 'response', from: e.from.toString(), closer: e.closer.map((p: { id: PeerId }) => p.id.toString()) })
  }
  const counting = async <T> (node: number, onEvent: (e: HopEvent) => void, run: () => Promise<T>): Promise<T> => {
    asking = { node, onSend: (to) => { onEvent({ type: 'send', to }) } }
    try {
      return await run()
    } finally {
      asking = undefined
    }
  }
  return {
    size,
    id: i => ids[i],
    async findPeer (from, to, onEvent, signal) {
      return await counting(from, onEvent, async () => {
        for await (const e of nodes[from].services.dht.findPeer(nodes[to].peerId, { useCache: false, signal })) {
          toHop(e, onEvent)
          if (e.name === 'FINAL_PEER' && e.peer.id.equals(nodes[to].peerId)) {
            onEvent({ type: 'done', from: e.from.toString() })
            return e.peer.multiaddrs.length > 0
          }
        }
        return false
      })
    },
    async provide (from, multihash, signal) {
      for await (const _ of nodes[from].services.dht.provide(cidOf(multihash), { signal })) { /* run to the end */ }
    },
    async findProvider (from, multihash, provider, onEvent, signal) {
      return await counting(from, onEvent, async () => {
        for await (const e of nodes[from].services.dht.findProviders(cidOf(multihash), { signal })) {
          toHop(e, onEvent)
          if (e.name === 'PROVIDER' && e.providers.some((p: { id: PeerId }) => p.id.equals(nodes[provider].peerId))) {
            onEvent({ type: 'done', from: e.from.toString() })
            return true
          }
        }
        return false
      })
    },
    async closeConnections (node) {
      await Promise.all(nodes[node].getConnections().map(async c => { await c.close().catch((err: Error) => { c.abort(err) }) }))
    },
    async stop () {
      await Promise.all(nodes.map(async n => { await n.stop() }))
    }
  }
}

/** Fills each node's table as described above, without pings, and its peer store. */
async function seed_ (nodes: JsNode[], random: () => number): Promise<void> {
  const kadIds = nodes.map(n => toKadId(n.peerId.toMultihash().bytes))
  const addrs = nodes.map(n => n.getMultiaddrs().map(a => multiaddr(a.toString().replace(/\/p2p\/.*$/, ''))))
  const groups = new Map<number, number[]>()
  kadIds.forEach((id, i) => {
    const prefix = id[0] >> (8 - PREFIX_BITS)
    const list = groups.get(prefix) ?? []
    list.push(i)
    groups.set(prefix, list)
  })
  const byId = new Map(nodes.map((n, i) => [n.peerId.toString(), i]))
  const now = Date.now()
  for (let a = 0; a < nodes.length; a++) {
    const offers: number[] = []
    const others = nodes.map((_, i) => i).filter(i => i !== a)
    others.sort((x, y) => compareDistance(kadIds[x], kadIds[y], kadIds[a]))
    offers.push(...others.slice(0, K))
    for (const members of groups.values()) {
      const pool = members.filter(i => i !== a)
      for (let i = 0; i < Math.min(K, pool.length); i++) {
        const j = i + Math.floor(random() * (pool.length - i))
        const t = pool[i]; pool[i] = pool[j]; pool[j] = t
        offers.push(pool[i])
      }
    }
    const dht = nodes[a].services.dht
    const kb = dht.routingTable.kb
    const onAdd = kb.onAdd
    kb.onAdd = undefined
    try {
      for (const b of offers) await kb._add({ peerId: nodes[b].peerId, kadId: kadIds[b], lastPing: now }, {})
    } finally {
      kb.onAdd = onAdd
    }
    for (const { peerId } of kb.toIterable()) {
      const b = byId.get(peerId.toString())
      if (b !== undefined) await nodes[a].peerStore.merge(peerId, { multiaddrs: addrs[b] })
    }
  }
}

await runSide('js', process.argv.slice(2), build)
