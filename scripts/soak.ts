/**
 * `npm run soak -- --minutes N`: a node under mixed load for N minutes (default 10): honest
 * peers connect, open echo and ping streams and leave (connection and stream churn), while
 * attackers from other loopback addresses hold idle connections and flood unknown-protocol
 * negotiations; four neighbours stay connected and run Kademlia queries against the node
 * (closest peers of random keys, peer lookups) and GossipSub traffic on a shared topic (each
 * publishes, the node publishes and relays). Every `--every` seconds (default 10) it prints one JSON line: RSS, heap used
 * after a GC, active handles, connections and resource-manager usage. At the end everything is
 * stopped and the handles left are printed (`"final": true`). Run with --expose-gc (the npm
 * script does) so the heap figures are after a collection.
 */
import { parseArgs } from 'node:util'
import { createLibp2p, multiaddr } from '../src/index.ts'
import type { Libp2p } from '../src/index.ts'
import type { Connection } from '../src/interface/connection.ts'
import { tcp } from '../src/transport/tcp/index.ts'
import { noise } from '../src/security/noise/index.ts'
import { yamux } from '../src/muxer/yamux/index.ts'
import { ping, type PingService } from '../src/protocols/ping/index.ts'
import { identify } from '../src/protocols/identify/index.ts'
import { echo } from '../src/protocols/echo/index.ts'
import { kadDHT, type KadDHT } from '../src/dht/kad-dht.ts'
import { gossipsub, type GossipSub } from '../src/pubsub/gossipsub/gossipsub.ts'
import type { Libp2pNode } from '../src/node/libp2p.ts'
import { attackerAddress, idleConnection } from '../test/support/attacker.ts'

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, every: { type: 'string', default: '10' } } })
const durationMs = Number(values.minutes) * 60_000
const everyMs = Number(values.every) * 1000
if (!(durationMs > 0) || !(everyMs > 0)) throw new Error('--minutes and --every must be positive numbers')

const gc = (globalThis as { gc?: () => void }).gc
const stack = () => ({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
/** Handles that are the process's own stdio, not the node's. */
const nodeHandles = (): string[] => process.getActiveResourcesInfo().filter(r => r !== 'PipeWrap' && r !== 'TTYWrap')
const handlesAtStart = nodeHandles().length

// loopback counted per address (the attackers come from 127.1.x.y); the honest peers all come
// from 127.0.0.1, so their per-host connection rate is raised above the churn's
const dht = (): ReturnType<typeof kadDHT> => kadDHT({ mode: 'server', initialRefresh: false })
const pubsub = (): ReturnType<typeof gossipsub> => gossipsub({ heartbeatInterval: 1000 })
const node = await createLibp2p({ ...stack(), addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, services: { identify: identify(), ping: ping(), echo: echo(), dht: dht(), pubsub: pubsub() }, resourceManager: { limitLoopback: true }, connectionManager: { allow: ['127.0.0.1'] } }) as unknown as Libp2pNode
const TOPIC = 'soak'
const addr = multiaddr(node.getMultiaddrs()[0].toString())
const port = Number(addr.toString().split('/')[4])
const started = Date.now()
let stopping = false
let honestRounds = 0
let honestFailures = 0
let attackRounds = 0
let dhtQueries = 0
let dhtFailures = 0
let pubsubPublished = 0
let pubsubReceived = 0

type Neighbour = Libp2p<{ dht: KadDHT, pubsub: GossipSub }>
/** Peers that stay: they query the node's DHT and trade GossipSub messages with it. */
const neighbours: Neighbour[] = []
for (let i = 0; i < 4; i++) {
  const peer = await createLibp2p({ ...stack(), addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, services: { identify: identify(), dht: dht(), pubsub: pubsub() } }) as unknown as Neighbour
  peer.services.pubsub.subscribe(TOPIC)
  peer.services.pubsub.addEventListener('message', () => { pubsubReceived++ })
  await peer.dial(addr)
  neighbours.push(peer)
}
const nodePubsub = (node as unknown as Neighbour).services.pubsub
nodePubsub.subscribe(TOPIC)
nodePubsub.addEventListener('message', () => { pubsubReceived++ })

/** One neighbour's round: a closest-peers query of a random key, a peer lookup, a message. */
async function neighbourRound (peer: Neighbour, index: number): Promise<void> {
  try {
    for await (const _ of peer.services.dht.getClosestPeers(crypto.getRandomValues(new Uint8Array(32)))) { /* the query's events */ }
    await peer.services.dht.findPeer(neighbours[(index + 1) % neighbours.length].peerId)
    dhtQueries += 2
  } catch {
    dhtFailures++
  }
  try {
    await peer.services.pubsub.publish(TOPIC, crypto.getRandomValues(new Uint8Array(256)))
    pubsubPublished++
  } catch {
    // no subscribed peer in the mesh yet: the next round publishes again
  }
  // a round every 100 ms or so per neighbour: steady traffic, not a flood
  await new Promise(resolve => setTimeout(resolve, 100))
}

/** One honest peer's visit: connect, 8 echo streams and a ping, leave. */
async function honestVisit (): Promise<void> {
  const peer = await createLibp2p({ ...stack(), services: { identify: identify(), ping: ping() } }) as unknown as Libp2p<{ ping: PingService }>
  try {
    const connection = await peer.dial(addr)
    await Promise.all(Array.from({ length: 8 }, async () => {
      const stream = await connection.newStream('/echo/1.0.0')
      await stream.write(new Uint8Array(4096))
      await stream.closeWrite()
      for await (const _ of stream) { /* echoed */ }
    }))
    await peer.services.ping.ping(addr)
    honestRounds++
  } catch {
    honestFailures++
  } finally {
    await peer.stop()
  }
}

/** One attacker round: 10 idle connections from other addresses, unknown protocols on two, then gone. */
async function attackRound (round: number): Promise<void> {
  const held: Connection[] = []
  try {
    for (let i = 0; i < 10; i++) held.push(await idleConnection(port, attackerAddress((round * 10 + i) % 2000)))
    await Promise.all(held.slice(0, 2).map(async (c) => {
      for (let i = 0; i < 50 && c.status === 'open'; i++) await c.newStream(`/soak/unknown/${i}`).catch(() => {})
    }))
    attackRounds++
  } catch {
    // refused by the node's limits: that is its job
  } finally {
    for (const c of held) c.abort(new Error('round over'))
  }
}

async function loop (fn: () => Promise<void>): Promise<void> {
  while (!stopping && Date.now() - started < durationMs) await fn()
}

function sample (extra: Record<string, unknown> = {}): void {
  gc?.()
  const mem = process.memoryUsage()
  const rm = node.resourceManager
  process.stdout.write(JSON.stringify({
    seconds: Math.round((Date.now() - started) / 1000),
    rssMiB: +(mem.rss / 1048576).toFixed(1),
    heapMiB: +(mem.heapUsed / 1048576).toFixed(1),
    handles: process.getActiveResourcesInfo().length,
    connections: node.getConnections().length,
    rmConnsInbound: rm?.system.usage.connsInbound ?? 0,
    rmStreams: (rm?.system.usage.streamsInbound ?? 0) + (rm?.system.usage.streamsOutbound ?? 0),
    honestRounds,
    honestFailures,
    attackRounds,
    dhtQueries,
    dhtFailures,
    pubsubPublished,
    pubsubReceived,
    ...extra
  }) + '\n')
}

const timer = setInterval(() => { sample() }, everyMs)
let round = 0
await Promise.all([
  loop(honestVisit), loop(honestVisit), loop(async () => { await attackRound(round++) }),
  ...neighbours.map(async (peer, i) => { await loop(async () => { await neighbourRound(peer, i) }) })
])
stopping = true
clearInterval(timer)
sample({ beforeStop: true })
await Promise.all(neighbours.map(async peer => { await peer.stop() }))
await node.stop()
// sockets close over the next turns of the event loop: wait for the count, bounded
for (let waited = 0; nodeHandles().length > handlesAtStart && waited < 5000; waited += 50) {
  await new Promise(resolve => setTimeout(resolve, 50))
}
gc?.()
sample({ final: true, handlesAtStart, handlesLeft: nodeHandles() })
