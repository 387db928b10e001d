/**
 * Simulation: 500 GossipSub nodes in one process over the memory transport, 10 topics, each
 * node subscribed to 2 of them; random publishers (mostly subscribers, some not, which publish
 * through flood publishing to their subscribed neighbours). Every subscriber must get every
 * message of its topics exactly once. Reports delivery latency (median and p99, in ms and in
 * heartbeats), duplicates per message and pubsub bytes sent per delivered message.
 *
 * Topology (seeded, replayable): per topic, its subscribers in a random ring plus one random
 * chord each, so every topic's subscribers are connected among themselves; plus one random
 * link per node across topics. The heartbeat runs every 200 ms.
 *
 * PUBSUB_SIM_NODES (500), PUBSUB_SIM_MESSAGES (120), PUBSUB_SIM_INTERVAL (ms between publishes,
 * 40) and PUBSUB_SIM_SEED size and replay it.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createMemoryPubSubNode, MemoryNetwork, type MeteredGossipSub } from './memory-network.ts'
import { quantile } from '../support/stats.ts'
import { rng } from '../support/random.ts'
import { until, type PubSubNode } from './helpers.ts'

const NODES = Number(process.env.PUBSUB_SIM_NODES ?? 500)
const MESSAGES = Number(process.env.PUBSUB_SIM_MESSAGES ?? 120)
const INTERVAL_MS = Number(process.env.PUBSUB_SIM_INTERVAL ?? 40)
const SEED = Number(process.env.PUBSUB_SIM_SEED ?? 0x90551b)
const TOPICS = 10
const TOPICS_PER_NODE = 2
const CHORDS = 1
const HEARTBEAT_MS = 200
const PAYLOAD = 256
const Dlo = 4

const topicName = (t: number): string => `sim-topic-${t}`

describe(`GossipSub simulation: ${NODES} nodes, ${TOPICS} topics over the memory transport`, { timeout: 300_000 }, () => {
  const network = new MemoryNetwork()
  const nodes: Array<PubSubNode<MeteredGossipSub>> = []
  const random = rng(SEED)
  const randomInt = (n: number): number => Math.floor(random() * n)
  /** Topic indexes per node, and node indexes per topic. */
  const topicsOf: number[][] = []
  const subscribersOf: number[][] = Array.from({ length: TOPICS }, () => [])
  /** Neighbour sets (undirected), from the topology. */
  const neighbours: Array<Set<number>> = []

  before(async () => {
    const started = Date.now()
    for (let i = 0; i < NODES; i++) {
      nodes.push(await createMemoryPubSubNode(network, { heartbeatInterval: HEARTBEAT_MS, heartbeatInitialDelay: HEARTBEAT_MS }))
      neighbours.push(new Set())
      const mine = new Set<number>()
      while (mine.size < TOPICS_PER_NODE) mine.add(randomInt(TOPICS))
      topicsOf.push([...mine])
      for (const t of mine) subscribersOf[t].push(i)
    }
    const edges: Array<[number, number]> = []
    const link = (a: number, b: number): void => {
      if (a === b || neighbours[a].has(b)) return
      neighbours[a].add(b)
      neighbours[b].add(a)
      edges.push([a, b])
    }
    for (const members of subscribersOf) {
      const ring = [...members]
      for (let i = ring.length - 1; i > 0; i--) {
        const j = randomInt(i + 1);
        [ring[i], ring[j]] = [ring[j], ring[i]]
      }
      for (let i = 0; i < ring.length; i++) {
        link(ring[i], ring[(i + 1) % ring.length])
        for (let c = 0; c < CHORDS; c++) link(ring[i], ring[randomInt(ring.length)])
      }
    }
    for (let i = 0; i < NODES; i++) link(i, randomInt(NODES))
    for (let i = 0; i < NODES; i++) {
      for (const t of topicsOf[i]) nodes[i].services.pubsub.subscribe(topicName(t))
    }
    // dial in batches of 1000 (all at once peaks near 1 GB of memory)
    for (let i = 0; i < edges.length; i += 1000) {
      await Promise.all(edges.slice(i, i + 1000).map(async ([a, b]) => { await nodes[a].dial(nodes[b].getMultiaddrs()[0]) }))
    }
    const dialed = Date.now()
    // ready: every node knows each neighbour's subscriptions (all topics: outsiders publish
    // to their subscribed neighbours) and has a mesh of min(Dlo, subscribed neighbours) for
    // each of its own topics (signalled by grafts)
    await Promise.all(nodes.map(async (node, i) => {
      const ps = node.services.pubsub
      const want = Array.from({ length: TOPICS }, (_, t) => {
        let n = 0
        for (const j of neighbours[i]) if (topicsOf[j].includes(t)) n++
        return { topic: topicName(t), subscribers: n, mesh: topicsOf[i].includes(t) ? Math.min(Dlo, n) : 0 }
      })
      await until(ps, ['subscription-change', 'gossipsub:graft'], () => want.every(w =>
        ps.getSubscribers(w.topic).length === w.subscribers && ps.getMeshPeers(w.topic).length >= w.mesh), 120_000, `meshes of node ${i}`)
    }))
    const degrees = neighbours.map(s => s.size)
    const meshes = nodes.flatMap((n, i) => topicsOf[i].map(t => n.services.pubsub.getMeshPeers(topicName(t)).length))
    console.log(`# ${NODES} nodes, ${edges.length} connections (degree median ${quantile(degrees, 0.5)}, max ${Math.max(...degrees)}); ` +
      `subscribers per topic ${subscribersOf.map(s => s.length).join('/')}; connected in ${dialed - started} ms, meshes ready ${Date.now() - dialed} ms later ` +
      `(mesh size median ${quantile(meshes, 0.5)}, min ${Math.min(...meshes)}, max ${Math.max(...meshes)}); rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`)
  })

  after(async () => {
    await Promise.all(nodes.map(async n => { await n.stop() }))
  })

  it(`${MESSAGES} random publishes reach every subscriber exactly once`, async (t) => {
    for (const n of nodes) n.services.pubsub.resetMeters()
    /** deliveries[message][node]: times delivered to the application. */
    const deliveries: Array<Map<number, number>> = []
    const publishedAt: number[] = []
    const latencies: number[] = []
    let expected = 0
    const expectedPer: number[] = []
    const topicOf: number[] = []
    const publisherOf: number[] = []
    let delivered = 0
    let onProgress = (): void => {}
    nodes.forEach((node, i) => {
      node.services.pubsub.addEventListener('message', (evt) => {
        const data = evt.detail.data
        const index = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0)
        const counts = deliveries[index]
        if (counts === undefined) return
        const n = (counts.get(i) ?? 0) + 1
        counts.set(i, n)
        if (n === 1) {
          delivered++
          latencies.push(performance.now() - publishedAt[index])
          onProgress()
        }
      })
    })
    const started = performance.now()
    let fromNonSubscribers = 0
    for (let m = 0; m < MESSAGES; m++) {
      const topic = randomInt(TOPICS)
      // every fifth message comes from a node outside the topic that has a subscribed neighbour
      let publisher = subscribersOf[topic][randomInt(subscribersOf[topic].length)]
      if (m % 5 === 4) {
        const outsiders = nodes.map((_, i) => i).filter(i => !topicsOf[i].includes(topic) && [...neighbours[i]].some(j => topicsOf[j].includes(topic)))
        if (outsiders.length > 0) {
          publisher = outsiders[randomInt(outsiders.length)]
          fromNonSubscribers++
        }
      }
      const data = new Uint8Array(PAYLOAD)
      new DataView(data.buffer).setUint32(0, m)
      deliveries.push(new Map())
      expectedPer.push(subscribersOf[topic].filter(i => i !== publisher).length)
      expected += expectedPer[m]
      topicOf.push(topic)
      publisherOf.push(publisher)
      publishedAt.push(performance.now())
      const result = await nodes[publisher].services.pubsub.publish(topicName(topic), data)
      assert.ok(result.recipients.length > 0, `message ${m} from node ${publisher} went to nobody`)
      await new Promise(resolve => setTimeout(resolve, INTERVAL_MS))
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const missing: string[] = []
        deliveries.forEach((counts, m) => {
          if (counts.size < expectedPer[m]) missing.push(`message ${m}: ${counts.size} of ${expectedPer[m]}`)
        })
        reject(new Error(`only ${delivered} of ${expected} deliveries after 60 s; ${missing.slice(0, 10).join('; ')}`))
      }, 60_000)
      onProgress = () => {
        if (delivered < expected) return
        clearTimeout(timer)
        resolve()
      }
      onProgress()
    })
    const elapsed = performance.now() - started
    // gossip keeps offering the messages for mcacheGossip (3) heartbeats: give it that long to
    // cause a second delivery (there is no event for "nothing else will arrive")
    await new Promise(resolve => setTimeout(resolve, 4 * HEARTBEAT_MS))

    const problems: string[] = []
    deliveries.forEach((counts, m) => {
      for (const [node, n] of counts) if (n !== 1) problems.push(`message ${m} delivered ${n} times to node ${node}`)
    })
    assert.deepEqual(problems, [])
    assert.equal(delivered, expected)
    // every subscriber except the publisher, and nobody else
    deliveries.forEach((counts, m) => {
      assert.deepEqual([...counts.keys()].sort((a, b) => a - b), subscribersOf[topicOf[m]].filter(i => i !== publisherOf[m]), `message ${m}`)
    })

    const duplicates = nodes.reduce((sum, n) => sum + n.services.pubsub.duplicates, 0)
    const bytes = nodes.reduce((sum, n) => sum + n.services.pubsub.bytesSent, 0)
    const frames = nodes.reduce((sum, n) => sum + n.services.pubsub.framesSent, 0)
    const line = `${MESSAGES} messages (${fromNonSubscribers} from non-subscribers) of ${PAYLOAD} B, ${delivered} deliveries in ${Math.round(elapsed)} ms; ` +
      `latency median ${quantile(latencies, 0.5).toFixed(1)} ms (${(quantile(latencies, 0.5) / HEARTBEAT_MS).toFixed(2)} heartbeats), ` +
      `p99 ${quantile(latencies, 0.99).toFixed(1)} ms (${(quantile(latencies, 0.99) / HEARTBEAT_MS).toFixed(2)} heartbeats), max ${Math.max(...latencies).toFixed(1)} ms; ` +
      `duplicates ${(duplicates / MESSAGES).toFixed(1)} per message (${(duplicates / delivered).toFixed(2)} per delivery); ` +
      `pubsub bytes sent ${Math.round(bytes / delivered)} per delivered message (${(frames / delivered).toFixed(2)} frames; all RPCs incl. control and gossip, ${HEARTBEAT_MS} ms heartbeat)`
    t.diagnostic(line)
    console.log(`# ${line}`)
  })
})
