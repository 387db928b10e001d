/**
 * PRUNE peer exchange (gossipsub-v1.1.md "Peer Exchange"): a pruning peer offers other topic
 * peers with their signed peer records; the pruned peer stores the records and dials them, so
 * it finds new mesh peers it had no address for. A record that does not belong to the offered
 * peer is ignored, and a scoring node follows PX only from peers at or above acceptPXThreshold.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { gossipsub, DEFAULT_PEER_SCORE_THRESHOLDS, type GossipSub } from '../../src/pubsub/gossipsub/index.ts'
import { GOSSIPSUB_PROTOCOL_V11 } from '../../src/pubsub/gossipsub/params.ts'
import { encodeRpcFrame, emptyControl } from '../../src/pubsub/rpc.ts'
import { createSignedPeerRecord } from '../../src/peer/peer-record.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import type { PeerId } from '../../src/interface/peer-id.ts'
import { connect, createPubSubNode, until, type PubSubNode } from './helpers.ts'

const TOPIC = 'px-topic'

/** Resolves once `node` has run identify with every one of `peers` (their records are stored). */
function untilIdentified (node: PubSubNode, peers: () => PeerId[]): Promise<void> {
  const seen = new Set<string>()
  node.addEventListener('peer:identify', (evt) => { seen.add(evt.detail.peerId.toString()) })
  return until(node, ['peer:identify'], () => peers().every(p => seen.has(p.toString())), 20_000, 'identify')
}

function isConnected (node: { getConnections(p: PeerId): unknown[] }, peer: PeerId): boolean {
  return node.getConnections(peer).length > 0
}

async function knownAddrs (node: { peerStore: PubSubNode['peerStore'] }, peer: PeerId): Promise<string[]> {
  try {
    return (await node.peerStore.get(peer)).addresses.map(a => a.multiaddr.toString())
  } catch {
    return []
  }
}

test('px: a PRUNE offers the other topic peers with signed records; the pruned peer dials them and meshes', async (t) => {
  const pruner = await createPubSubNode<GossipSub>(gossipsub({ heartbeatInterval: 100, doPX: true }))
  const pruned = await createPubSubNode<GossipSub>(gossipsub({ heartbeatInterval: 100 }))
  const offered = await createPubSubNode<GossipSub>(gossipsub({ heartbeatInterval: 100 }))
  t.after(async () => { await Promise.all([pruner.stop(), pruned.stop(), offered.stop()]) })
  for (const n of [pruner, pruned, offered]) n.services.pubsub.subscribe(TOPIC)
  const identified = untilIdentified(pruner, () => [pruned.peerId, offered.peerId])
  await connect(pruned, pruner)
  await connect(offered, pruner)
  await identified
  const ps = pruner.services.pubsub
  await until(ps, ['gossipsub:graft'], () => ps.getMeshPeers(TOPIC).length === 2, 20_000, 'pruner mesh of 2')
  assert.equal(isConnected(pruned, offered.peerId), false)
  assert.deepEqual(await knownAddrs(pruned, offered.peerId), [])

  // leaving the topic prunes both mesh peers, each offered the other
  const dialed = until(pruned, ['peer:connect'], () => isConnected(pruned, offered.peerId), 20_000, 'PX dial')
  ps.unsubscribe(TOPIC)
  await dialed
  // it had no address for the offered peer before: the dial used the one in the signed record
  const listenAddr = offered.getMultiaddrs()[0].toString()
  assert.ok((await knownAddrs(pruned, offered.peerId)).some(a => listenAddr.startsWith(a)), 'the offered address is stored')
  const meshOf = pruned.services.pubsub
  await until(meshOf, ['gossipsub:graft'], () => meshOf.getMeshPeers(TOPIC).some(p => p.equals(offered.peerId)), 20_000, 'mesh with the offered peer')
})

test('px: a scoring node ignores PX from a peer below acceptPXThreshold; records that do not match the offered peer are dropped', async (t) => {
  // `follower` takes PX from anyone (no scoring); `picky` needs a score of 10 (the default) to follow it
  const follower = await createPubSubNode<GossipSub>(gossipsub({ heartbeatInterval: 100 }))
  const picky = await createPubSubNode<GossipSub>(gossipsub({ heartbeatInterval: 100, scoreParams: {}, scoreThresholds: DEFAULT_PEER_SCORE_THRESHOLDS }))
  const targetKey = await generateKeyPair('Ed25519')
  const target = await createLibp2p({ privateKey: targetKey, addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, services: { identify: identify() } })
  const attacker = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, services: { identify: identify() } })
  t.after(async () => { await Promise.all([follower.stop(), picky.stop(), target.stop(), attacker.stop()]) })
  for (const n of [follower, picky]) n.services.pubsub.subscribe(TOPIC)
  // the attacker takes the streams the nodes open back to it, so it counts as a gossipsub peer
  await attacker.handle(GOSSIPSUB_PROTOCOL_V11, (stream) => { void (async () => { for await (const _ of stream) { /* drain */ } })().catch(() => {}) })

  // a valid record for `target`, and one signed by a stranger but offered as `ghost`
  const ghostKey = await generateKeyPair('Ed25519')
  const ghost = peerIdFromPrivateKey(ghostKey)
  const strangerKey = await generateKeyPair('Ed25519')
  const targetRecord = await createSignedPeerRecord(targetKey, target.getMultiaddrs())
  const wrongRecord = await createSignedPeerRecord(strangerKey, [target.getMultiaddrs()[0]])
  const prune = encodeRpcFrame({
    subscriptions: [],
    messages: [],
    control: { ...emptyControl(), prune: [{ topic: TOPIC, backoff: 60, peers: [{ peerId: ghost.bytes, signedPeerRecord: wrongRecord }, { peerId: target.peerId.bytes, signedPeerRecord: targetRecord }] }] }
  })
  // the picky node gets the PRUNE first, so by the time the follower has dialed it would have too
  for (const victim of [picky, follower]) {
    const stream = await attacker.dialProtocol(victim.getMultiaddrs()[0], GOSSIPSUB_PROTOCOL_V11)
    await stream.write(encodeRpcFrame({ subscriptions: [{ subscribe: true, topic: TOPIC }], messages: [] }))
    // grafted: the victim has its stream to the attacker and takes it for a gossipsub peer
    const ps = victim.services.pubsub
    await until(ps, ['gossipsub:graft'], () => ps.getMeshPeers(TOPIC).some(p => p.equals(attacker.peerId)), 20_000, 'victim grafts the attacker')
    await stream.write(prune)
    await until(ps, ['gossipsub:prune'], () => !ps.getMeshPeers(TOPIC).some(p => p.equals(attacker.peerId)), 20_000, 'victim takes the PRUNE')
  }
  await until(follower, ['peer:connect'], () => isConnected(follower, target.peerId), 20_000, 'follower dials the PX target')
  assert.equal(isConnected(picky, target.peerId), false, 'picky node followed PX from a peer scoring 0')
  assert.deepEqual(await knownAddrs(picky, target.peerId), [])
  assert.equal(picky.services.pubsub.getScore(attacker.peerId) < DEFAULT_PEER_SCORE_THRESHOLDS.acceptPXThreshold, true)
  assert.equal(isConnected(follower, ghost), false)
  assert.deepEqual(await knownAddrs(follower, ghost), [], 'a record signed by another key is not stored for the offered id')
})
