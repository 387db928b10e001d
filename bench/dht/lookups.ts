/**
 * The measured part of the DHT benchmark, shared by both sides (sim-ts.ts, sim-js.ts): a
 * side is a converged network of N nodes in this process behind the small `SimSide`
 * interface, and `measureLookups` runs the same random findPeer and findProviders lookups on
 * it, one at a time, each from a node with no open connection (the asking node closes its
 * connections after each lookup, on both sides).
 *
 * Per lookup: latency (wall clock, ms), messages (requests the asking node sent) and hops,
 * computed the same way for both sides from their progress events: a peer asked without
 * having been referred is at hop 1, a peer first referred by a hop-h peer is at hop h + 1,
 * and a lookup's hops are the hop of the peer whose answer completed it.
 */
import { sha256 } from '../../src/crypto/index.ts'
import { rng } from '../../test/support/random.ts'

/** Progress of one lookup, in the sides' common terms (peer ids as strings). */
export type HopEvent =
  | { type: 'send', to: string }
  | { type: 'response', from: string, closer: string[] }
  /** The answer of `from` completed the lookup. */
  | { type: 'done', from: string }

export interface SimSide {
  readonly size: number
  /** Peer id of node i. */
  id(i: number): string
  /** Looks up node `to` from node `from`; true when its address was found. */
  findPeer(from: number, to: number, onEvent: (e: HopEvent) => void, signal: AbortSignal): Promise<boolean>
  /** Node `from` announces it provides `multihash`. */
  provide(from: number, multihash: Uint8Array, signal: AbortSignal): Promise<void>
  /** Looks for a provider of `multihash` from node `from`; true when `provider` was found. */
  findProvider(from: number, multihash: Uint8Array, provider: number, onEvent: (e: HopEvent) => void, signal: AbortSignal): Promise<boolean>
  closeConnections(node: number): Promise<void>
  stop(): Promise<void>
}

export interface LookupSamples {
  latencyMs: number[]
  messages: number[]
  hops: number[]
  failures: string[]
}

export interface SideRun {
  side: 'ts' | 'js'
  size: number
  lookups: number
  /** Provided keys the findProviders lookups look for. */
  keys: number
  buildMs: number
  /** After building, after GC when exposed. */
  buildRssBytes: number
  buildHeapBytes: number
  peakRssBytes: number
  findPeer: LookupSamples
  findProviders: LookupSamples
}

/** Counts hops and messages of one lookup from its events. */
class HopCounter {
  readonly #hop = new Map<string, number>()
  messages = 0
  doneHop = 0
  #done = false

  readonly onEvent = (e: HopEvent): void => {
    switch (e.type) {
      case 'send':
        this.messages++
        if (!this.#hop.has(e.to)) this.#hop.set(e.to, 1)
        break
      case 'response': {
        const next = (this.#hop.get(e.from) ?? 1) + 1
        for (const id of e.closer) if (!this.#hop.has(id)) this.#hop.set(id, next)
        break
      }
      case 'done':
        if (this.#done) break
        this.#done = true
        // a node that answers from its own store (0 hops) never sent anything
        this.doneHop = this.messages === 0 ? 0 : (this.#hop.get(e.from) ?? 1)
        break
    }
  }
}

const LOOKUP_TIMEOUT = 60_000

function emptySamples (): LookupSamples {
  return { latencyMs: [], messages: [], hops: [], failures: [] }
}

async function measure (samples: LookupSamples, what: string, run: (onEvent: (e: HopEvent) => void, signal: AbortSignal) => Promise<boolean>): Promise<void> {
  const counter = new HopCounter()
  const started = performance.now()
  let found = false
  try {
    found = await run(counter.onEvent, AbortSignal.timeout(LOOKUP_TIMEOUT))
  } catch (err) {
    samples.failures.push(`${what}: ${(err as Error).message}`)
    return
  }
  const ms = performance.now() - started
  if (!found) {
    samples.failures.push(`${what}: not found`)
    return
  }
  samples.latencyMs.push(ms)
  samples.messages.push(counter.messages)
  samples.hops.push(counter.doneHop)
}

/** `lookups` random findPeer lookups, then `lookups` random findProviders lookups of `keys` provided keys. */
export async function measureLookups (side: SimSide, lookups: number, seed: number, keys = 20): Promise<{ findPeer: LookupSamples, findProviders: LookupSamples }> {
  const random = rng(seed)
  const pick = (): number => Math.floor(random() * side.size)
  const findPeer = emptySamples()
  for (let i = 0; i < lookups; i++) {
    const from = pick()
    let to = pick()
    while (to === from) to = pick()
    await measure(findPeer, `${from} -> ${to}`, async (onEvent, signal) => await side.findPeer(from, to, onEvent, signal))
    await side.closeConnections(from)
  }
  const provided: Array<{ key: Uint8Array, provider: number }> = []
  for (let i = 0; i < keys; i++) {
    const provider = pick()
    const key = Uint8Array.of(0x12, 0x20, ...sha256(Uint8Array.of(i, 0xbe, 0x4c, seed & 0xff)))
    await side.provide(provider, key, AbortSignal.timeout(LOOKUP_TIMEOUT))
    await side.closeConnections(provider)
    provided.push({ key, provider })
  }
  const findProviders = emptySamples()
  for (let i = 0; i < lookups; i++) {
    const { key, provider } = provided[Math.floor(random() * provided.length)]
    let from = pick()
    while (from === provider) from = pick()
    await measure(findProviders, `${from} looking for ${provider}`, async (onEvent, signal) => await side.findProvider(from, key, provider, onEvent, signal))
    await side.closeConnections(from)
  }
  return { findPeer, findProviders }
}

/** Runs a side end to end and prints its SideRun as the last stdout line. */
export async function runSide (name: 'ts' | 'js', argv: string[], build: (size: number, seed: number) => Promise<SimSide>): Promise<void> {
  const flag = (n: string, fallback: number): number => {
    const i = argv.indexOf(`--${n}`)
    return i === -1 ? fallback : Number(argv[i + 1])
  }
  const size = flag('size', 500)
  const lookups = flag('lookups', 100)
  const seed = flag('seed', 0x5eed)
  const keys = flag('keys', 20)
  let peakRss = 0
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()) }, 200)
  sampler.unref()
  const started = performance.now()
  const side = await build(size, seed)
  const buildMs = performance.now() - started
  ;(globalThis as { gc?: () => void }).gc?.()
  const memory = process.memoryUsage()
  const results = await measureLookups(side, lookups, seed, keys)
  peakRss = Math.max(peakRss, process.memoryUsage.rss())
  await side.stop()
  clearInterval(sampler)
  const run: SideRun = {
    side: name,
    size,
    lookups,
    keys,
    buildMs,
    buildRssBytes: memory.rss,
    buildHeapBytes: memory.heapUsed,
    peakRssBytes: peakRss,
    ...results
  }
  process.stdout.write(JSON.stringify(run) + '\n')
}
