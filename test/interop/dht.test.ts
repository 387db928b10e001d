/**
 * DHT interop on loopback: a mixed network of js-libp2p (@libp2p/kad-dht), go-libp2p
 * (go-libp2p-kad-dht), rust-libp2p (libp2p-kad, when cargo is there) and ts-libp2p nodes, all
 * servers on /ipfs/kad/1.0.0. Every node finds every other by findPeer; a /pk/ value put by
 * each kind is read by the other kinds; a provider record added by each kind is found by the
 * other kinds.
 *
 * DHT_INTEROP_SIZE sets how many nodes of each kind (default 5; rust: DHT_INTEROP_RUST_SIZE,
 * default 3, which keeps npm test's time down).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { CID } from 'multiformats/cid'
import { sha256 as sha256Hasher } from 'multiformats/hashes/sha2'
import { buildGoPeer, buildRustPeer, cargoAvailable, spawnPeer, stopAll, type PeerProcess } from './harness.ts'
import { createLibp2p } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { kadDHT } from '../../src/dht/index.ts'
import { generateKeyPair, publicKeyToProtobuf, sha256 } from '../../src/crypto/index.ts'
import { utf8Encode } from '../../src/util/bytes.ts'
import { DHT_TIMEOUT, findEveryPeer, ourDhtMember, untilRoutingTableHolds, type DhtMember, type OurDhtNode } from './dht-mesh.ts'

const SIZE = Number(process.env.DHT_INTEROP_SIZE ?? 5)
const RUST_SIZE = await cargoAvailable() ? Number(process.env.DHT_INTEROP_RUST_SIZE ?? 3) : 0
type Kind = 'ts' | 'js' | 'go' | 'rust'
const KINDS: Kind[] = RUST_SIZE > 0 ? ['ts', 'js', 'go', 'rust'] : ['ts', 'js', 'go']
const TIMEOUT = DHT_TIMEOUT

interface Member extends DhtMember {
  kind: Kind
  put(key: Uint8Array, value: Uint8Array): Promise<void>
  get(key: Uint8Array): Promise<Uint8Array>
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64')

function remoteMember (p: PeerProcess): Member {
  return {
    kind: p.kind as Kind,
    peerId: p.peerId,
    addrs: p.addrs,
    findPeer: async (peer) => (await p.commandOk({ cmd: 'dht.findPeer', peer }, TIMEOUT)).addrs as string[],
    put: async (key, value) => { await p.commandOk({ cmd: 'dht.put', key: b64(key), value: b64(value) }, TIMEOUT) },
    get: async (key) => Uint8Array.from(Buffer.from((await p.commandOk({ cmd: 'dht.get', key: b64(key) }, TIMEOUT)).value as string, 'base64')),
    provide: async (cid) => { await p.commandOk({ cmd: 'dht.provide', cid }, TIMEOUT) },
    findProviders: async (cid) => ((await p.commandOk({ cmd: 'dht.findProviders', cid, count: 20 }, TIMEOUT)).providers as Array<{ peerId: string }>).map(x => x.peerId),
    dial: async (addr) => { await p.commandOk({ cmd: 'dial', addr }, TIMEOUT) },
    bootstrap: async () => { await p.commandOk({ cmd: 'dht.bootstrap' }, TIMEOUT) }
  }
}

function ourMember (node: OurDhtNode): Member {
  const dht = node.services.dht
  return {
    ...ourDhtMember(node),
    kind: 'ts',
    put: async (key, value) => { await dht.put(key, value, { signal: AbortSignal.timeout(TIMEOUT) }) },
    get: async (key) => await dht.get(key, { quorum: 1, signal: AbortSignal.timeout(TIMEOUT) })
  }
}

async function pkRecord (): Promise<{ key: Uint8Array, value: Uint8Array }> {
  // an RSA-style (sha256) /pk/ key: go checks the key's peer id, js checks sha256(value), and
  // for keys too large to inline both agree
  const key = await generateKeyPair('RSA', 1024).catch(async () => await generateKeyPair('RSA', 2048))
  const value = publicKeyToProtobuf(key.publicKey)
  const out = new Uint8Array(4 + 34)
  out.set(utf8Encode('/pk/'), 0)
  out.set([0x12, 0x20], 4)
  out.set(sha256(value), 6)
  return { key: out, value }
}

async function cidFor (text: string): Promise<string> {
  return CID.createV1(0x55, await sha256Hasher.digest(utf8Encode(text))).toString()
}

describe(`DHT interop: ${SIZE} ts + ${SIZE} js + ${SIZE} go + ${RUST_SIZE} rust nodes`, { timeout: 600_000 }, () => {
  const ours: OurDhtNode[] = []
  const members: Member[] = []

  before(async () => {
    await buildGoPeer()
    if (RUST_SIZE > 0) await buildRustPeer()
    for (let i = 0; i < SIZE; i++) {
      const node = await createLibp2p({
        addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
        // every node of the test dials from 127.0.0.1: no per-host inbound rate limit
        connectionManager: { inboundConnectionThreshold: 100_000 },
        services: { identify: identify(), ping: ping(), dht: kadDHT({ initialRefresh: false, refreshInterval: 0 }) }
      })
      ours.push(node)
      members.push(ourMember(node))
    }
    const remotes = await Promise.all([
      ...Array.from({ length: SIZE }, async () => await spawnPeer('js', ['--dht', 'server'])),
      ...Array.from({ length: SIZE }, async () => await spawnPeer('go', ['--dht', 'server'])),
      ...Array.from({ length: RUST_SIZE }, async () => await spawnPeer('rust', ['--dht', 'server']))
    ])
    members.push(...remotes.map(remoteMember))
    // one ts node is everyone's bootstrap peer; each node then refreshes its table
    const bootstrap = ours[0].getMultiaddrs()[0].toString()
    await Promise.all(members.slice(1).map(async m => { await m.dial(bootstrap) }))
    await untilRoutingTableHolds(ours[0], members.length - 1)
    for (const m of members) await m.bootstrap()
  }, { timeout: 1_500_000 })

  after(async () => {
    await stopAll()
    await Promise.all(ours.map(async n => { await n.stop() }))
  })

  it('every node finds every other one by findPeer', async () => {
    const failures = await findEveryPeer(members)
    assert.deepEqual(failures, [])
  })

  for (const writer of KINDS) {
    it(`a /pk/ value put by ${writer} is read by the other kinds`, async () => {
      const { key, value } = await pkRecord()
      const w = members.find(m => m.kind === writer)!
      await w.put(key, value)
      for (const reader of members.filter(m => m.kind !== writer).filter((_, i) => i % 2 === 0)) {
        assert.deepEqual(await reader.get(key), value, `${reader.kind} ${reader.peerId} read a different value`)
      }
    })
  }

  for (const provider of KINDS) {
    it(`a provider record added by ${provider} is found by the other kinds`, async () => {
      const cid = await cidFor(`provided by ${provider} ${Date.now()}`)
      const ofKind = members.filter(m => m.kind === provider)
      const p = ofKind[1 % ofKind.length]
      await p.provide(cid)
      for (const finder of members.filter(m => m.kind !== provider).filter((_, i) => i % 2 === 1)) {
        const found = await finder.findProviders(cid)
        assert.ok(found.includes(p.peerId), `${finder.kind} ${finder.peerId} did not find ${provider} ${p.peerId} (got ${found.join(',')})`)
      }
    })
  }
})
