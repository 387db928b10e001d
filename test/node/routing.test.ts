import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p, NoContentRoutersError, NoPeerRoutersError } from '../../src/index.ts'
import { CompositeContentRouting, CompositePeerRouting } from '../../src/node/routing.ts'
import { type ContentRouting, type PeerRouting, type PeerInfo } from '../../src/interface/routing.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '../../src/interface/peer-id.ts'

async function peer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

async function collect<T> (source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of source) out.push(x)
  return out
}

function peerRouter (over: Partial<PeerRouting>): PeerRouting {
  return {
    findPeer: async () => { throw new Error('not found here') },
    getClosestPeers: async function * () {},
    ...over
  }
}

function contentRouter (over: Partial<ContentRouting>): ContentRouting {
  return {
    provide: async () => {},
    cancelReprovide: async () => {},
    findProviders: async function * () {},
    put: async () => {},
    get: async () => { throw new Error('no value here') },
    ...over
  }
}

describe('routing facades', () => {
  it('a node without routing services fails every call with a typed error', async () => {
    const node = await createLibp2p({ start: false, services: {} })
    const id = await peer()
    await assert.rejects(node.peerRouting.findPeer(id), NoPeerRoutersError)
    await assert.rejects(collect(node.peerRouting.getClosestPeers(id.bytes)), { code: 'ERR_NO_ROUTERS_AVAILABLE', name: 'NoPeerRoutersError' })
    await assert.rejects(node.contentRouting.provide(id.bytes), NoContentRoutersError)
    await assert.rejects(node.contentRouting.cancelReprovide(id.bytes), NoContentRoutersError)
    await assert.rejects(collect(node.contentRouting.findProviders(id.bytes)), NoContentRoutersError)
    await assert.rejects(node.contentRouting.put(id.bytes, Uint8Array.of(1)), NoContentRoutersError)
    await assert.rejects(node.contentRouting.get(id.bytes), { code: 'ERR_NO_ROUTERS_AVAILABLE' })
  })

  it('the node collects the routers its services expose', async () => {
    const target = await peer()
    const info: PeerInfo = { id: target, multiaddrs: [multiaddr('/memory/x')] }
    const node = await createLibp2p({
      start: false,
      services: {
        plain: () => ({}),
        router: () => ({ peerRouter: peerRouter({ findPeer: async () => info }), contentRouter: contentRouter({ get: async () => Uint8Array.of(7) }) })
      }
    })
    assert.equal(await node.peerRouting.findPeer(target), info)
    assert.deepEqual(await node.contentRouting.get(Uint8Array.of(1)), Uint8Array.of(7))
  })

  it('with several routers: first success for findPeer and get, each peer once for iterations', async () => {
    const [a, b, c] = [await peer(), await peer(), await peer()]
    const slowFail = peerRouter({ findPeer: async () => { throw new Error('miss') }, getClosestPeers: async function * () { yield { id: a, multiaddrs: [] }; yield { id: b, multiaddrs: [] } } })
    const hit = peerRouter({ findPeer: async (id) => ({ id, multiaddrs: [] }), getClosestPeers: async function * () { yield { id: b, multiaddrs: [] }; yield { id: c, multiaddrs: [] } } })
    const routing = new CompositePeerRouting([slowFail, hit])
    assert.ok((await routing.findPeer(c)).id.equals(c))
    assert.deepEqual((await collect(routing.getClosestPeers(Uint8Array.of(1)))).map(p => p.id.toString()), [a, b, c].map(String))
    await assert.rejects(new CompositePeerRouting([slowFail, slowFail]).findPeer(c), /miss/)

    const providers = (ids: PeerId[]): ContentRouting['findProviders'] => async function * () { for (const id of ids) yield { id, multiaddrs: [] } }
    const content = new CompositeContentRouting([
      contentRouter({ findProviders: providers([a, b]), get: async () => { throw new Error('none') } }),
      contentRouter({ findProviders: providers([b, c]), get: async () => Uint8Array.of(9) })
    ])
    assert.deepEqual((await collect(content.findProviders(Uint8Array.of(1)))).map(p => p.id.toString()), [a, b, c].map(String))
    assert.equal((await collect(content.findProviders(Uint8Array.of(1), { count: 2 }))).length, 2)
    assert.deepEqual(await content.get(Uint8Array.of(1)), Uint8Array.of(9))
  })

  it('provide and put succeed if any router stored it, and fail only if all failed', async () => {
    const stored: string[] = []
    const ok = contentRouter({ provide: async () => { stored.push('provide') }, put: async () => { stored.push('put') } })
    const broken = contentRouter({ provide: async () => { throw new Error('broken provide') }, put: async () => { throw new Error('broken put') } })
    const routing = new CompositeContentRouting([broken, ok])
    await routing.provide(Uint8Array.of(1))
    await routing.put(Uint8Array.of(1), Uint8Array.of(2))
    assert.deepEqual(stored, ['provide', 'put'])
    await assert.rejects(new CompositeContentRouting([broken, broken]).provide(Uint8Array.of(1)), /broken provide/)
    await assert.rejects(new CompositeContentRouting([broken]).put(Uint8Array.of(1), Uint8Array.of(2)), /broken put/)
  })

  it('options reach the routers (signal, onProgress)', async () => {
    const controller = new AbortController()
    let seen: AbortSignal | undefined
    const routing = new CompositePeerRouting([peerRouter({
      findPeer: async (id, options) => {
        seen = options?.signal
        options?.onProgress?.({ type: 'step' })
        throw options?.signal?.reason ?? new Error('no signal')
      }
    })])
    controller.abort(new Error('stopped'))
    const events: string[] = []
    await assert.rejects(routing.findPeer(await peer(), { signal: controller.signal, onProgress: (e) => events.push(e.type) }), /stopped/)
    assert.equal(seen, controller.signal)
    assert.deepEqual(events, ['step'])
  })
})
