/**
 * DHT interop with py-libp2p 0.8 (interop/py-peer --dht server): a mixed network of ts-libp2p
 * and py-libp2p Kademlia servers on /ipfs/kad/1.0.0. Every node finds every other by
 * findPeer, and a provider record added by each kind is found by the other. (Values are not
 * exchanged: py-libp2p 0.8's put/get take string keys and validate no /pk/ records.)
 * go and js are in dht.test.ts.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { PY_PEER_DIR, spawnPeer, stopAll, type PeerProcess } from './harness.ts'
import { ensureVenv } from '../../interop/python/setup.ts'
import { createLibp2p } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { kadDHT } from '../../src/dht/index.ts'
import { utf8Encode } from '../../src/util/bytes.ts'
import { DHT_TIMEOUT, findEveryPeer, ourDhtMember, untilRoutingTableHolds, type DhtMember, type OurDhtNode } from './dht-mesh.ts'

const SIZE = 3
const TIMEOUT = DHT_TIMEOUT

function pyMember (p: PeerProcess): DhtMember {
  return {
    kind: 'py',
    peerId: p.peerId,
    addrs: p.addrs,
    findPeer: async (peer) => (await p.commandOk({ cmd: 'dht.findPeer', peer, timeoutMs: TIMEOUT }, TIMEOUT + 5000)).addrs as string[],
    provide: async (cid) => { await p.commandOk({ cmd: 'dht.provide', cid, timeoutMs: TIMEOUT }, TIMEOUT + 5000) },
    findProviders: async (cid) => ((await p.commandOk({ cmd: 'dht.findProviders', cid, count: 20, timeoutMs: TIMEOUT }, TIMEOUT + 5000)).providers as Array<{ peerId: string }>).map(x => x.peerId),
    dial: async (addr) => { await p.commandOk({ cmd: 'dial', addr }) },
    bootstrap: async () => { await p.commandOk({ cmd: 'dht.bootstrap', timeoutMs: TIMEOUT }, TIMEOUT + 5000) }
  }
}

describe(`DHT interop: ${SIZE} ts + ${SIZE} py nodes`, { timeout: 600_000 }, () => {
  const ours: OurDhtNode[] = []
  const members: DhtMember[] = []

  before(async () => {
    await ensureVenv(PY_PEER_DIR)
    for (let i = 0; i < SIZE; i++) {
      const node = await createLibp2p({
        addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
        connectionManager: { inboundConnectionThreshold: 100_000 },
        services: { identify: identify(), ping: ping(), dht: kadDHT({ initialRefresh: false, refreshInterval: 0 }) }
      }) as unknown as OurDhtNode
      ours.push(node)
      members.push(ourDhtMember(node))
    }
    const py = await Promise.all(Array.from({ length: SIZE }, async () => await spawnPeer('py', ['--dht', 'server'], { readyTimeoutMs: 120_000 })))
    members.push(...py.map(pyMember))
    // every py node dials every ts node (py's table learns the servers it dials), and one ts
    // node is everyone's bootstrap peer
    const bootstrap = ours[0].getMultiaddrs()[0].toString()
    await Promise.all(members.slice(1).map(async m => { await m.dial(bootstrap) }))
    for (const m of members.filter(m => m.kind === 'py')) for (const node of ours.slice(1)) await m.dial(node.getMultiaddrs()[0].toString())
    await untilRoutingTableHolds(ours[0], members.length - 1)
    for (const m of members) await m.bootstrap()
  }, { timeout: 900_000 })

  after(async () => {
    await stopAll()
    await Promise.all(ours.map(async n => { await n.stop() }))
  })

  it('every node finds every other one by findPeer', async () => {
    const failures = await findEveryPeer(members)
    assert.deepEqual(failures, [])
  })

  for (const provider of ['ts', 'py'] as const) {
    it(`a provider record added by ${provider} is found by the other kind`, async () => {
      const cid = CID.createV1(0x55, await sha256.digest(utf8Encode(`provided by ${provider} ${Date.now()}`))).toString()
      const p = members.filter(m => m.kind === provider)[1]
      await p.provide(cid)
      for (const finder of members.filter(m => m.kind !== provider)) {
        const found = await finder.findProviders(cid)
        assert.ok(found.includes(p.peerId), `${finder.kind} ${finder.peerId} did not find ${provider} ${p.peerId} (got ${found.join(',')})`)
      }
    })
  }
})
