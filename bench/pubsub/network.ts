/**
 * The pubsub benchmark's network process, shared by both sides (ts-net.ts, js-net.ts): N
 * GossipSub nodes in this one process, connected over loopback TCP in a seeded topology that
 * is identical on both sides, all subscribed to one topic. Driven over JSON lines
 * (peer-loop.ts) by bench/pubsub/run.ts:
 *
 * - `build` {nodes, links, seed}: creates the nodes, connects each to its ring successor and
 *   to `links` random others, waits until every node knows its neighbours' subscriptions and
 *   has a mesh of min(4, neighbours) (polled; the two libraries share no event names).
 * - `throughput` {messages, size, window, seed}: publishes from random nodes, at most
 *   `window` messages not yet delivered everywhere at a time; times the first publish to the
 *   last delivery.
 * - `latency` {messages, size}: one message at a time on an otherwise idle network: per
 *   delivery, publish-to-delivery time; per message, the time until every subscriber had it.
 *
 * Payloads carry their index in the first 4 bytes, so every delivery is accounted for:
 * each node must get each message exactly once (duplicates delivered are counted).
 */
import { log, intField, runPeer } from '../peers/peer-loop.ts'
import type { Command, Json } from '../peers/peer-loop.ts'
import { elapsedMs } from '../peers/wire.ts'
import { rng } from '../../test/support/random.ts'

export const TOPIC = 'bench-topic'
const MESH_LOW = 4
/** A throughput message that has not reached every node after this long is counted lost. */
const GIVE_UP_MS = 30_000

/** One node, whatever library runs it. */
/** The network peers' `--scoring on|off` flag (default on). */
export function scoringFlag (argv: string[]): 'on' | 'off' {
  const at = argv.indexOf('--scoring')
  const scoring = at === -1 ? 'on' : argv[at + 1]
  if (scoring !== 'on' && scoring !== 'off') throw new Error('--scoring takes on or off')
  return scoring
}

export interface NetNode {
  addr: string
  dial(addr: string): Promise<void>
  subscribe(topic: string): void
  publish(topic: string, data: Uint8Array): Promise<void>
  /** Calls `onData` with the payload of every message delivered to the application. */
  onMessage(onData: (data: Uint8Array) => void): void
  meshSize(topic: string): number
  subscriberCount(topic: string): number
  stop(): Promise<void>
}

/** Undirected edges: ring successor plus `links` random others per node, no duplicates. */
export function topology (nodes: number, links: number, seed: number): Array<[number, number]> {
  const random = rng(seed)
  const seen = new Set<string>()
  const edges: Array<[number, number]> = []
  const link = (a: number, b: number): void => {
    if (a === b) return
    const key = a < b ? `${a}-${b}` : `${b}-${a}`
    if (seen.has(key)) return
    seen.add(key)
    edges.push([a, b])
  }
  for (let i = 0; i < nodes; i++) {
    link(i, (i + 1) % nodes)
    for (let k = 0; k < links; k++) link(i, Math.floor(random() * nodes))
  }
  return edges
}

async function pollUntil (what: () => string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

export function runPubSubNetwork (side: string, createNode: () => Promise<NetNode>): void {
  const nodes: NetNode[] = []
  /** deliveries[message] per node index; reset per measurement. */
  let counts: Uint16Array[] = []
  let delivered = 0
  let duplicates = 0
  let onDelivery: (message: number, node: number) => void = () => {}

  const record = (node: number, data: Uint8Array): void => {
    if (data.length < 4) return
    const message = new DataView(data.buffer, data.byteOffset, 4).getUint32(0)
    const perNode = counts[message]
    if (perNode === undefined) return
    if (perNode[node]++ > 0) {
      duplicates++
      return
    }
    delivered++
    onDelivery(message, node)
  }

  const payload = (index: number, size: number): Uint8Array => {
    const data = new Uint8Array(Math.max(4, size))
    new DataView(data.buffer).setUint32(0, index)
    return data
  }

  const handlers = {
    async build (req: Command): Promise<Json> {
      const n = intField(req, 'nodes')
      const started = process.hrtime.bigint()
      for (let i = 0; i < n; i++) {
        const node = await createNode()
        node.onMessage((data) => { record(i, data) })
        node.subscribe(TOPIC)
        nodes.push(node)
      }
      const edges = topology(n, intField(req, 'links'), intField(req, 'seed'))
      const neighbours = Array.from({ length: n }, () => 0)
      for (const [a, b] of edges) { neighbours[a]++; neighbours[b]++ }
      for (let i = 0; i < edges.length; i += 50) {
        await Promise.all(edges.slice(i, i + 50).map(async ([a, b]) => { await nodes[a].dial(nodes[b].addr) }))
      }
      const connected = elapsedMs(started)
      const lagging = (): string => {
        const late = nodes.map((node, i) => ({ i, subscribers: node.subscriberCount(TOPIC), mesh: node.meshSize(TOPIC), neighbours: neighbours[i] }))
          .filter(x => x.subscribers < x.neighbours || x.mesh < Math.min(MESH_LOW, x.neighbours))
        return `meshes; ${late.length} nodes lag, e.g. ${JSON.stringify(late.slice(0, 3))}`
      }
      await pollUntil(lagging, () => nodes.every((node, i) =>
        node.subscriberCount(TOPIC) >= neighbours[i] && node.meshSize(TOPIC) >= Math.min(MESH_LOW, neighbours[i])), 120_000)
      const meshes = nodes.map(node => node.meshSize(TOPIC)).sort((a, b) => a - b)
      return { ms: elapsedMs(started), connectMs: connected, connections: edges.length, meshMedian: meshes[meshes.length >> 1], meshMin: meshes[0] }
    },

    async throughput (req: Command): Promise<Json> {
      const messages = intField(req, 'messages')
      const size = intField(req, 'size')
      const window = Math.max(1, intField(req, 'window'))
      const random = rng(intField(req, 'seed'))
      const want = nodes.length - 1
      counts = Array.from({ length: messages }, () => new Uint16Array(nodes.length))
      delivered = 0
      duplicates = 0
      const started = process.hrtime.bigint()
      /** The clock stops at the last message that reached every node, not at a give-up. */
      let lastCompletion = started
      let complete = 0
      let lost = 0
      let publishErrors = 0
      let inFlight = 0
      let wake: (() => void) | undefined
      const perMessage = new Uint32Array(messages)
      /** When each message still in flight was published; a message that has not reached every
       * node within GIVE_UP_MS is counted lost and frees its window slot (a library that drops
       * messages must not stall the run, and what it drops is a figure of its own). */
      const pendingSince = new Map<number, number>()
      onDelivery = (message) => {
        if (++perMessage[message] < want || !pendingSince.delete(message)) return
        complete++
        inFlight--
        lastCompletion = process.hrtime.bigint()
        wake?.()
      }
      const giveUpOnStale = (): void => {
        const now = Date.now()
        for (const [message, since] of pendingSince) {
          if (now - since < GIVE_UP_MS) break // insertion order is publish order
          pendingSince.delete(message)
          lost++
          inFlight--
        }
      }
      const cpu0 = process.cpuUsage()
      const waitForRoom = async (limit: number): Promise<void> => {
        while (inFlight > limit) {
          giveUpOnStale()
          if (inFlight <= limit) break
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 1000)
            wake = () => { clearTimeout(timer); wake = undefined; resolve() }
          })
        }
      }
      for (let m = 0; m < messages; m++) {
        await waitForRoom(window - 1)
        const publisher = Math.floor(random() * nodes.length)
        counts[m][publisher] = 1 // the publisher does not deliver its own message
        inFlight++
        pendingSince.set(m, Date.now())
        try {
          await nodes[publisher].publish(TOPIC, payload(m, size))
        } catch (err) {
          // js-libp2p refuses to publish when the publisher has lost every peer of the topic:
          // the message is lost, and the run goes on
          log(side, `message ${m} not published:`, err)
          if (pendingSince.delete(m)) { lost++; inFlight-- }
          publishErrors++
        }
      }
      await waitForRoom(0)
      const ms = Number((complete === 0 ? process.hrtime.bigint() : lastCompletion) - started) / 1e6
      const cpu = process.cpuUsage(cpu0)
      onDelivery = () => {}
      return { ms, messagesPerSecond: complete / ms * 1000, complete, lost, publishErrors, deliveries: delivered, duplicates, cpuMsPerMessage: (cpu.user + cpu.system) / 1000 / messages }
    },

    async latency (req: Command): Promise<Json> {
      const messages = intField(req, 'messages')
      const size = intField(req, 'size')
      const want = nodes.length - 1
      counts = Array.from({ length: messages }, () => new Uint16Array(nodes.length))
      delivered = 0
      duplicates = 0
      const deliveryMs: number[] = []
      let lost = 0
      const allMs: number[] = []
      for (let m = 0; m < messages; m++) {
        const publisher = m % nodes.length
        counts[m][publisher] = 1
        let got = 0
        const started = process.hrtime.bigint()
        await new Promise<void>((resolve, reject) => {
          // A message that never reaches everyone is counted lost, as in throughput.
          const timer = setTimeout(() => { lost++; resolve() }, GIVE_UP_MS)
          onDelivery = () => {
            deliveryMs.push(elapsedMs(started))
            if (++got < want) return
            clearTimeout(timer)
            allMs.push(elapsedMs(started))
            resolve()
          }
          nodes[publisher].publish(TOPIC, payload(m, size)).catch(reject)
        })
      }
      onDelivery = () => {}
      return { deliveryMs, allMs, lost, duplicates }
    }
  }

  void runPeer(side, async () => ({ side }), handlers, async () => {
    await Promise.all(nodes.map(async (node) => {
      try { await node.stop() } catch (err) { log(side, 'stop failed:', err) }
    }))
  })
}
