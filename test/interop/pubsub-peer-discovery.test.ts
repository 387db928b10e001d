/**
 * Pubsub peer discovery with js-libp2p's @libp2p/pubsub-peer-discovery over gossipsub: ts and
 * js nodes (js in a separate process) announce themselves on `_peer-discovery._p2p._pubsub`;
 * each side discovers the other from the other's announcements, also across a node in the
 * middle, and dials what it discovered.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { peerIdFromString } from '../../src/peer/peer-id.ts'
import { processLines, type ProcessLines } from '../support/lab/index.ts'
import { makeNode, stopAll, type TestNode } from '../node/helpers.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { gossipsub } from '../../src/pubsub/index.ts'
import { pubsubPeerDiscovery } from '../../src/discovery/pubsub-peer-discovery.ts'
import type { PeerInfo } from '../../src/interface/routing.ts'

const JS_PEER = fileURLToPath(new URL('../../interop/js-peer/pubsub-discovery-peer.ts', import.meta.url))
const processes: ProcessLines[] = []
after(async () => {
  await Promise.all(processes.map(async p => { await p.stop() }))
  await stopAll()
})

async function tsNode (): Promise<TestNode> {
  return await makeNode({ services: { identify: identify(), pubsub: gossipsub(), discovery: pubsubPeerDiscovery({ interval: 300 }) } })
}

function discovered (node: TestNode, peerId: string): Promise<PeerInfo> {
  return new Promise(resolve => {
    node.addEventListener('peer:discovery', evt => {
      const info = (evt as CustomEvent<PeerInfo>).detail
      if (info.id.toString() === peerId) resolve(info)
    })
  })
}

async function jsNode (dial: string): Promise<{ node: ProcessLines, peerId: string, addrs: string[] }> {
  const node = processLines(spawn(process.execPath, [JS_PEER, '--dial', dial], { stdio: ['ignore', 'pipe', 'pipe'] }))
  processes.push(node)
  const ready = JSON.parse(await node.nextLine(l => l.includes('"event":"ready"'), 30_000))
  return { node, ...ready }
}

test('ts discovers a connected js-libp2p node from its announcement', async () => {
  const ts = await tsNode()
  const js = await jsNode(ts.getMultiaddrs()[0].toString())
  const found = await discovered(ts, js.peerId)
  // js announces its addresses with /p2p/<id>, ours go without: compare the addresses themselves
  const bare = (a: string): string => a.replace(`/p2p/${js.peerId}`, '')
  assert.deepEqual(found.multiaddrs.map(a => bare(a.toString())), js.addrs.map(bare))
})

test('js-libp2p discovers a ts node it is not connected to from the ts announcement relayed through the mesh', async () => {
  // (js-libp2p reports peer:discovery only for peers new to its peer store, so not for one it dialed)
  const middle = await tsNode()
  const js = await jsNode(middle.getMultiaddrs()[0].toString())
  const edge = await tsNode()
  await edge.dial(middle.getMultiaddrs()[0])
  const line = JSON.parse(await js.node.nextLine(l => l.includes('"event":"peer:discovery"') && l.includes(edge.peerId.toString()), 30_000))
  assert.deepEqual((line.addrs as string[]), edge.getMultiaddrs().map(m => m.toString().replace(`/p2p/${edge.peerId.toString()}`, '')))
})

test('a ts node learns of a js node it is not connected to, through the mesh, and can dial it', async () => {
  const middle = await tsNode()
  const js = await jsNode(middle.getMultiaddrs()[0].toString())
  const edge = await tsNode()
  const seen = discovered(edge, js.peerId)
  await edge.dial(middle.getMultiaddrs()[0])
  await seen
  assert.equal(edge.getConnections().filter(c => c.remotePeer.toString() === js.peerId).length, 0)
  // the announcement put its addresses in the peer store: the peer id alone is enough to dial
  const connection = await edge.dial(peerIdFromString(js.peerId))
  assert.equal(connection.remotePeer.toString(), js.peerId)
})
