/**
 * The ts-libp2p side of the DHT benchmark: a converged network of N nodes over the memory
 * transport (test/dht/sim-network.ts: routing tables and peer stores seeded from the global
 * view; memory-trusted encrypter, Yamux, identify), measured by lookups.ts. Prints one JSON
 * line (a SideRun).
 *
 *   node --expose-gc bench/dht/sim-ts.ts --size 500 --lookups 100 --seed 24301
 */
import type { DhtEvent } from '../../src/dht/index.ts'
import { createSimNetwork } from '../../test/dht/sim-network.ts'
import { runSide, type HopEvent, type SimSide } from './lookups.ts'

async function build (size: number, seed: number): Promise<SimSide> {
  const sim = await createSimNetwork({ size, seed, dht: { requestTimeout: 10_000 } })
  const { nodes } = sim
  const ids = nodes.map(n => n.peerId.toString())
  const toHop = (onEvent: (e: HopEvent) => void) => (e: DhtEvent): void => {
    if (e.type === 'send-query') onEvent({ type: 'send', to: e.to.toString() })
    else if (e.type === 'peer-response') onEvent({ type: 'response', from: e.from.toString(), closer: e.closer.map(p => p.id.toString()) })
  }
  return {
    size,
    id: i => ids[i],
    async findPeer (from, to, onEvent, signal) {
      const target = ids[to]
      const forward = toHop(onEvent)
      const info = await nodes[from].services.dht.findPeer(nodes[to].peerId, {
        useLocal: false,
        signal,
        onProgress: (e) => {
          forward(e)
          if (e.type === 'peer-response' && e.closer.some(p => p.id.toString() === target)) onEvent({ type: 'done', from: e.from.toString() })
        }
      })
      return info.multiaddrs.length > 0
    },
    async provide (from, multihash, signal) {
      await nodes[from].services.dht.provide(multihash, { signal })
    },
    async findProvider (from, multihash, provider, onEvent, signal) {
      const forward = toHop(onEvent)
      for await (const found of nodes[from].services.dht.findProviders(multihash, {
        count: 1,
        signal,
        onProgress: (e) => {
          forward(e)
          if (e.type === 'provider' && e.provider.id.toString() === ids[provider]) onEvent({ type: 'done', from: e.from.toString() })
        }
      })) {
        if (found.id.toString() === ids[provider]) return true
      }
      return false
    },
    async closeConnections (node) {
      await Promise.all(nodes[node].getConnections().map(async c => { await c.close().catch((err: Error) => { c.abort(err) }) }))
    },
    stop: sim.stop
  }
}

await runSide('ts', process.argv.slice(2), build)
