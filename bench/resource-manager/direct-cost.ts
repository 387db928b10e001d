/**
 * The resource manager's own work, counted rather than timed against noise: how many times a
 * transfer and a stream open call into it (both peers, counted by wrapping the calls), times
 * what one call costs in a tight loop of a million (CPU time, taken on the same machine in the
 * same seconds). Divided by the CPU time the same work costs with the resource manager off, it
 * bounds its direct share of the cost: the extra garbage of its allocations is included (the
 * loop allocates the same), caches disturbed for the rest of the stack are not. A tight loop
 * runs with warm caches, so each stream call is also timed in place (hrtime around it, during
 * the stream-open run; median per call kind, the timer's own cost taken off): in a real run a
 * call costs several times what it costs in the loop.
 */
import { multiaddr } from '../../src/index.ts'
import type { Libp2p } from '../../src/index.ts'
import type { PeerId } from '../../src/interface/peer-id.ts'
import { ResourceManager } from '../../src/switch/resource-manager/index.ts'
import type { ConnectionResources, StreamResources } from '../../src/switch/resource-manager/index.ts'
import { makeNode, transfer, openStreams, MiB } from './pair.ts'
import type { Stack } from './pair.ts'

export interface DirectCost {
  /** Memory reservations plus releases per MiB moved, both peers. */
  memoryCallsPerMiB: number
  /** openStream calls (each with its setProtocol and done) per stream opened, both peers. */
  streamScopesPerOpen: number
  /** CPU ns of one reserve + release on a connection's scope chain. */
  nsPerMemoryCall: number
  /** CPU ns of one openStream + setProtocol + done. */
  nsPerStreamScope: number
  /** The two above, summed per MiB and per open. */
  nsPerMiB: number
  nsPerOpen: number
  /** In place: median ns of openStream, setProtocol and done during the stream-open run. */
  inPlace: { openStream: number, setProtocol: number, done: number }
  /** In place, per stream opened (both peers). */
  inPlaceNsPerOpen: number
}

interface Counts { memory: number, streams: number, timing: boolean, samples: [number[], number[], number[]] }

const now = process.hrtime.bigint

/** Median ns of one empty hrtime pair: taken off every in-place sample. */
function timerCost (): number {
  const samples: number[] = []
  for (let i = 0; i < 100_000; i++) {
    const started = now()
    samples.push(Number(now() - started))
  }
  return median(samples)
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[sorted.length >> 1]
}

function resourceManagerOf (node: Libp2p): ResourceManager {
  const rm = (node as unknown as { resourceManager?: ResourceManager }).resourceManager
  if (rm === undefined) throw new Error('the node runs without a resource manager')
  return rm
}

/** Wraps the node's resource manager so every memory call and stream scope adds to `counts`. */
function countCalls (node: Libp2p, counts: Counts): void {
  const rm = resourceManagerOf(node)
  const openConnection = rm.openConnection.bind(rm)
  const openStream = rm.openStream.bind(rm)
  rm.openConnection = (...args): ConnectionResources => {
    const resources = openConnection(...args)
    const { reserve, release } = resources
    resources.reserve = (bytes) => { counts.memory++; return reserve(bytes) }
    resources.release = (bytes) => { counts.memory++; release(bytes) }
    return resources
  }
  rm.openStream = (...args): StreamResources => {
    counts.streams++
    if (!counts.timing) return openStream(...args)
    let started = now()
    const resources = openStream(...args)
    counts.samples[0].push(Number(now() - started))
    // methods of the reservation object: called on it, not detached
    return {
      setProtocol: (protocol) => {
        started = now()
        resources.setProtocol(protocol)
        counts.samples[1].push(Number(now() - started))
      },
      done: () => {
        started = now()
        resources.done()
        counts.samples[2].push(Number(now() - started))
      }
    }
  }
}

function cpuNanos (): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) * 1000
}

const LOOP = 1_000_000

function timeLoop (body: () => void): number {
  for (let i = 0; i < LOOP / 10; i++) body()
  const started = cpuNanos()
  for (let i = 0; i < LOOP; i++) body()
  return (cpuNanos() - started) / LOOP
}

function callCosts (peer: PeerId): { nsPerMemoryCall: number, nsPerStreamScope: number } {
  const rm = new ResourceManager()
  // a remote address, so the per-IP and per-subnet scopes are in the chain as for a real peer
  const connection = rm.openConnection('inbound', multiaddr('/ip4/203.0.113.7/tcp/4001'))
  connection.setPeer(peer)
  const memoryPair = timeLoop(() => { connection.reserve(256 * 1024); connection.release(256 * 1024) })
  const nsPerStreamScope = timeLoop(() => {
    const stream = rm.openStream(peer, 'inbound')
    stream.setProtocol('/bench/rm-open/1.0.0')
    stream.done()
  })
  connection.done()
  return { nsPerMemoryCall: memoryPair / 2, nsPerStreamScope }
}

export async function measureDirectCost (stack: Stack, bytes: number, streams: number): Promise<DirectCost> {
  const counts: Counts = { memory: 0, streams: 0, timing: false, samples: [[], [], []] }
  const server = await makeNode(stack, 'on')
  const client = await makeNode(stack, 'on')
  countCalls(server, counts)
  countCalls(client, counts)
  let calls: { memory: number, streams: number }
  try {
    const connection = await client.dial(server.getMultiaddrs()[0])
    await transfer(connection, Math.min(bytes, 4 * MiB))
    counts.memory = 0
    await transfer(connection, bytes)
    const memoryCalls = counts.memory
    counts.streams = 0
    counts.timing = true
    await openStreams(connection, streams)
    counts.timing = false
    calls = { memory: memoryCalls, streams: counts.streams }
  } finally {
    await client.stop()
    await server.stop()
  }
  const cost = callCosts(client.peerId)
  const timer = timerCost()
  const [openStream, setProtocol, done] = counts.samples.map(samples => Math.max(0, median(samples) - timer))
  const memoryCallsPerMiB = calls.memory / (bytes / MiB)
  const streamScopesPerOpen = calls.streams / streams
  return {
    memoryCallsPerMiB,
    streamScopesPerOpen,
    ...cost,
    nsPerMiB: memoryCallsPerMiB * cost.nsPerMemoryCall,
    nsPerOpen: streamScopesPerOpen * cost.nsPerStreamScope,
    inPlace: { openStream, setProtocol, done },
    inPlaceNsPerOpen: streamScopesPerOpen * (openStream + setProtocol + done)
  }
}
