/**
 * PubSub interop: one mixed network of ts-libp2p (in this process), js-libp2p (@libp2p/gossipsub,
 * @libp2p/floodsub) and go-libp2p-pubsub nodes (interop/js-peer, interop/go-peer). Every node
 * publishes; every subscriber must get every other node's message exactly once, with the right
 * author, seqno and data. Floodsub nodes of each implementation sit among the gossipsub nodes,
 * and rust-libp2p gossipsub nodes (interop/rust-peer; rust speaks floodsub to floodsub peers,
 * it has no floodsub router of its own in the peer). go and rust are left out without their
 * toolchains.
 */
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { gossipsub } from '../../src/pubsub/gossipsub/index.ts'
import { floodsub } from '../../src/pubsub/floodsub/floodsub.ts'
import { buildRustPeer, cargoAvailable, goAvailable, spawnPeer, stopAll, type PeerProcess } from './harness.ts'
import { collect, createPubSubNode, until, type PubSubNode } from '../pubsub/helpers.ts'
import type { PubSubMessageEvent } from '../../src/pubsub/types.ts'

after(async () => { await stopAll() })

const hasGo = await goAvailable()
const hasRust = await cargoAvailable()
/** rust gossipsub nodes in the network (fewer than the other kinds: npm test's time) */
const RUST_NODES = 2
// a cold build compiles rust-libp2p: outside the test's own time limit
before(async () => { if (hasRust) await buildRustPeer() }, { timeout: 1_800_000 })
const TOPIC = 'interop-topic'

/** One node of the mixed network, whatever runs it. */
interface Member {
  label: string
  peerId: string
  addr: string
  dial(addr: string): Promise<void>
  subscribe(): Promise<void>
  publish(data: Uint8Array): Promise<void>
  /** Peers it knows to subscribe to TOPIC. */
  subscribers(): Promise<string[]>
  /** Messages received so far: `from`, hex seqno, data. */
  received(): Array<{ from: string, seqno: string, data: string }>
  untilReceived(n: number): Promise<void>
}

function tsMember (label: string, node: PubSubNode): Member {
  const got: PubSubMessageEvent[] = collect(node)
  const ps = node.services.pubsub
  return {
    label,
    peerId: node.peerId.toString(),
    addr: node.getMultiaddrs()[0].toString(),
    async dial (addr) { await node.dial(multiaddr(addr)) },
    async subscribe () { ps.subscribe(TOPIC) },
    async publish (data) { await ps.publish(TOPIC, data) },
    async subscribers () { return ps.getSubscribers(TOPIC).map(p => p.toString()) },
    received: () => got.map(m => ({
      from: m.type === 'signed' ? m.from.toString() : '',
      seqno: m.type === 'signed' ? m.sequenceNumber.toString(16).padStart(16, '0') : '',
      data: Buffer.from(m.data).toString('base64')
    })),
    async untilReceived (n) { await until(ps, ['message'], () => got.length >= n, 60_000, `${label}: ${n} messages (have ${got.length})`) }
  }
}

function remoteMember (label: string, peer: PeerProcess): Member {
  const messages = (): Array<{ from: string, seqno: string, data: string }> =>
    peer.events.filter(e => e.event === 'pubsub:message' && e.topic === TOPIC).map(e => ({ from: e.from, seqno: e.seqno, data: e.data }))
  return {
    label,
    peerId: peer.peerId,
    addr: peer.addrs[0],
    async dial (addr) { await peer.commandOk({ cmd: 'dial', addr }) },
    async subscribe () { await peer.commandOk({ cmd: 'pubsub.subscribe', topic: TOPIC }) },
    async publish (data) { await peer.commandOk({ cmd: 'pubsub.publish', topic: TOPIC, data: Buffer.from(data).toString('base64') }) },
    async subscribers () { return (await peer.commandOk({ cmd: 'pubsub.peers', topic: TOPIC })).peers as string[] },
    received: messages,
    async untilReceived (n) {
      while (messages().length < n) {
        await peer.waitEvent(e => e.event === 'pubsub:message', 60_000, { since: peer.events.length })
      }
    }
  }
}

/** Re-asks `subscribers()` until every neighbour is in it (remote peers have no push for this). */
async function untilKnows (m: Member, neighbours: string[]): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const subs = new Set(await m.subscribers())
    const missing = neighbours.filter(n => !subs.has(n))
    if (missing.length === 0) return
    if (Date.now() > deadline) throw new Error(`${m.label} does not see ${missing.join(', ')} subscribed`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

test('pubsub interop: ts, js, go and rust gossipsub with floodsub nodes in one network; every message reaches every subscriber exactly once', { timeout: 240_000 }, async (t) => {
  const PER_KIND = 4
  const members: Member[] = []
  const tsNodes: PubSubNode[] = []
  t.after(async () => { await Promise.all(tsNodes.map(async n => { await n.stop() })) })
  const spawns: Array<Promise<Member>> = []
  for (let i = 0; hasRust && i < RUST_NODES; i++) {
    spawns.push(spawnPeer('rust', ['--pubsub', 'gossipsub']).then(p => remoteMember(`rust${i}`, p)))
  }
  for (let i = 0; i < PER_KIND; i++) {
    spawns.push(spawnPeer('js', ['--pubsub', 'gossipsub']).then(p => remoteMember(`js${i}`, p)))
    if (hasGo) spawns.push(spawnPeer('go', ['--pubsub', 'gossipsub'], { readyTimeoutMs: 300_000 }).then(p => remoteMember(`go${i}`, p)))
  }
  spawns.push(spawnPeer('js', ['--pubsub', 'floodsub']).then(p => remoteMember('js-flood', p)))
  if (hasGo) spawns.push(spawnPeer('go', ['--pubsub', 'floodsub'], { readyTimeoutMs: 300_000 }).then(p => remoteMember('go-flood', p)))
  const remotes = await Promise.all(spawns)
  for (let i = 0; i < PER_KIND; i++) {
    const node = await createPubSubNode(gossipsub({ heartbeatInterval: 700 }))
    tsNodes.push(node)
    members.push(tsMember(`ts${i}`, node))
  }
  const tsFlood = await createPubSubNode(floodsub())
  tsNodes.push(tsFlood)
  members.push(tsMember('ts-flood', tsFlood))
  // interleave kinds so every link crosses implementations
  const byKind = [members.slice(), ...['js', 'go', 'rust'].map(kind => remotes.filter(m => m.label.startsWith(kind)))]
  const all: Member[] = []
  for (let i = 0; all.length < members.length + remotes.length; i++) {
    for (const list of byKind) if (i < list.length) all.push(list[i])
  }
  const n = all.length
  for (const m of all) await m.subscribe()
  const neighbours = new Map<string, Set<string>>(all.map(m => [m.peerId, new Set()]))
  const link = async (a: Member, b: Member): Promise<void> => {
    await a.dial(b.addr)
    neighbours.get(a.peerId)?.add(b.peerId)
    neighbours.get(b.peerId)?.add(a.peerId)
  }
  for (let i = 0; i < n; i++) {
    await link(all[i], all[(i + 1) % n])
    await link(all[i], all[(i + 4) % n])
  }
  await Promise.all(all.map(async m => { await untilKnows(m, [...neighbours.get(m.peerId) ?? []]) }))
  // our gossipsub nodes have a mesh; what a link still missing elsewhere does not carry,
  // IHAVE/IWANT gossip repairs
  await Promise.all(tsNodes.slice(0, PER_KIND).map(async (node) => {
    const ps = node.services.pubsub
    await until(ps, ['gossipsub:graft'], () => ps.getMeshPeers(TOPIC).length > 0, 20_000, 'a mesh')
  }))

  const sent = new Map<string, string>()
  for (const m of all) {
    const data = new TextEncoder().encode(`hello from ${m.label}`)
    sent.set(m.peerId, Buffer.from(data).toString('base64'))
    await m.publish(data)
  }
  await Promise.all(all.map(async m => { await m.untilReceived(n - 1) }))
  // a last round-trip so late duplicates would have shown up
  await all[0].publish(new TextEncoder().encode('sentinel'))
  await Promise.all(all.slice(1).map(async m => { await m.untilReceived(n) }))

  for (const m of all) {
    const got = m.received()
    const want = m === all[0] ? n - 1 : n
    assert.equal(got.length, want, `${m.label} got ${got.length} messages, want ${want}: ${JSON.stringify(got.map(g => Buffer.from(g.data, 'base64').toString()))}`)
    const seen = new Set<string>()
    for (const g of got) {
      const key = `${g.from}/${g.seqno}`
      assert.ok(!seen.has(key), `${m.label} got ${key} twice`)
      seen.add(key)
      assert.match(g.seqno, /^[0-9a-f]{16}$/)
    }
    for (const other of all) {
      if (other === m) continue
      assert.ok(got.some(g => g.from === other.peerId && g.data === sent.get(other.peerId)), `${m.label} missed the message of ${other.label}`)
    }
  }
})
