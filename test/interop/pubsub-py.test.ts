/**
 * PubSub interop with py-libp2p 0.8 (interop/py-peer with --pubsub): a ring of ts-libp2p and
 * py-libp2p gossipsub nodes (every link crosses implementations, plus chords); every node
 * publishes, and every subscriber must get every other node's message exactly once with the
 * right author, seqno and data. go and js are in pubsub.test.ts; py joins here so a py-libp2p
 * problem cannot hide theirs.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { gossipsub } from '../../src/pubsub/gossipsub/index.ts'
import { PY_PEER_DIR, spawnPeer, stopAll } from './harness.ts'
import { ensureVenv } from '../../interop/python/setup.ts'
import { collect, createPubSubNode, until, type PubSubNode } from '../pubsub/helpers.ts'
import type { PubSubMessageEvent } from '../../src/pubsub/types.ts'

after(async () => { await stopAll() })

const TOPIC = 'interop-topic'
const PER_KIND = 3

test('pubsub interop: ts and py gossipsub in one network; every message reaches every subscriber exactly once', { timeout: 900_000 }, async (t) => {
  await ensureVenv(PY_PEER_DIR)
  const tsNodes: PubSubNode[] = []
  t.after(async () => { await Promise.all(tsNodes.map(async n => { await n.stop() })) })
  const py = await Promise.all(Array.from({ length: PER_KIND }, async () => await spawnPeer('py', ['--pubsub', 'gossipsub'], { readyTimeoutMs: 120_000 })))
  const got = new Map<string, PubSubMessageEvent[]>()
  for (let i = 0; i < PER_KIND; i++) {
    const node = await createPubSubNode(gossipsub({ heartbeatInterval: 700 }))
    tsNodes.push(node)
    got.set(node.peerId.toString(), collect(node))
    node.services.pubsub.subscribe(TOPIC)
  }
  for (const p of py) await p.commandOk({ cmd: 'pubsub.subscribe', topic: TOPIC })
  // ring ts0 py0 ts1 py1 ts2 py2, and chords ts_i -> py_(i+1)
  for (let i = 0; i < PER_KIND; i++) {
    await tsNodes[i].dial(multiaddr(py[i].addrs[0]))
    await py[i].commandOk({ cmd: 'dial', addr: tsNodes[(i + 1) % PER_KIND].getMultiaddrs()[0].toString() })
    await tsNodes[i].dial(multiaddr(py[(i + 1) % PER_KIND].addrs[0]))
  }
  // every node knows its neighbours subscribe (py has no push for this: re-ask)
  await Promise.all(tsNodes.map(async (node, i) => {
    const ps = node.services.pubsub
    const want = [py[i].peerId, py[(i + 1) % PER_KIND].peerId, py[(i + PER_KIND - 1) % PER_KIND].peerId]
    await until(ps, ['subscription-change'], () => want.every(w => ps.getSubscribers(TOPIC).some(p => p.toString() === w)), 30_000, `ts${i} sees its py neighbours subscribed`)
  }))
  for (const p of py) {
    const deadline = Date.now() + 30_000
    while ((await p.commandOk({ cmd: 'pubsub.peers', topic: TOPIC })).peers.length < 2) {
      if (Date.now() > deadline) throw new Error(`${p.label} does not see its neighbours subscribed`)
      await p.waitEvent(() => false, 100).catch(() => {})
    }
  }
  await Promise.all(tsNodes.map(async (node) => {
    const ps = node.services.pubsub
    await until(ps, ['gossipsub:graft'], () => ps.getMeshPeers(TOPIC).length > 0, 20_000, 'a mesh')
  }))

  const sent = new Map<string, string>()
  const members = [...tsNodes.map(n => n.peerId.toString()), ...py.map(p => p.peerId)]
  for (const [i, node] of tsNodes.entries()) {
    const data = `hello from ts${i}`
    sent.set(node.peerId.toString(), Buffer.from(data).toString('base64'))
    await node.services.pubsub.publish(TOPIC, new TextEncoder().encode(data))
  }
  for (const [i, p] of py.entries()) {
    const data = Buffer.from(`hello from py${i}`).toString('base64')
    sent.set(p.peerId, data)
    await p.commandOk({ cmd: 'pubsub.publish', topic: TOPIC, data })
  }
  const n = members.length
  const pyMessages = (i: number): Array<{ from: string, seqno: string, data: string }> => py[i].events.filter(e => e.event === 'pubsub:message' && e.topic === TOPIC).map(e => ({ from: e.from, seqno: e.seqno, data: e.data }))
  await Promise.all(tsNodes.map(async (node, i) => {
    await until(node.services.pubsub, ['message'], () => got.get(node.peerId.toString())!.length >= n - 1, 60_000, `ts${i}: ${n - 1} messages`)
  }))
  await Promise.all(py.map(async (p, i) => {
    while (pyMessages(i).length < n - 1) await p.waitEvent(e => e.event === 'pubsub:message', 60_000, { since: p.events.length })
  }))
  // a last message through the whole network, so late duplicates would have shown up
  await tsNodes[0].services.pubsub.publish(TOPIC, new TextEncoder().encode('sentinel'))
  await Promise.all(py.map(async (p, i) => {
    while (pyMessages(i).length < n) await p.waitEvent(e => e.event === 'pubsub:message', 60_000, { since: p.events.length })
  }))
  await Promise.all(tsNodes.slice(1).map(async (node, i) => {
    await until(node.services.pubsub, ['message'], () => got.get(node.peerId.toString())!.length >= n, 60_000, `ts${i + 1}: sentinel`)
  }))

  const check = (label: string, self: string, messages: Array<{ from: string, seqno: string, data: string }>, want: number): void => {
    assert.equal(messages.length, want, `${label} got ${messages.length} messages, want ${want}`)
    const seen = new Set<string>()
    for (const m of messages) {
      assert.ok(!seen.has(`${m.from}/${m.seqno}`), `${label} got ${m.from}/${m.seqno} twice`)
      seen.add(`${m.from}/${m.seqno}`)
      assert.match(m.seqno, /^[0-9a-f]{16}$/)
    }
    for (const other of members) {
      if (other !== self) assert.ok(messages.some(m => m.from === other && m.data === sent.get(other)), `${label} missed the message of ${other}`)
    }
  }
  for (const [i, node] of tsNodes.entries()) {
    const messages = got.get(node.peerId.toString())!.map(m => ({
      from: m.type === 'signed' ? m.from.toString() : '',
      seqno: m.type === 'signed' ? m.sequenceNumber.toString(16).padStart(16, '0') : '',
      data: Buffer.from(m.data).toString('base64')
    }))
    check(`ts${i}`, node.peerId.toString(), messages, i === 0 ? n - 1 : n)
  }
  for (const [i, p] of py.entries()) check(`py${i}`, p.peerId, pyMessages(i), n)
})
