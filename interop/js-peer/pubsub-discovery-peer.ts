/**
 * A js-libp2p node with gossipsub and @libp2p/pubsub-peer-discovery, for the pubsub peer
 * discovery interop test (test/interop/pubsub-peer-discovery.test.ts). Prints JSON lines:
 *   {"event":"ready","peerId":"...","addrs":[...]} once listening, then
 *   {"event":"peer:discovery","peer":"...","addrs":[...]} per peer discovered.
 * Runs until SIGTERM. Usage: node pubsub-discovery-peer.ts [--dial MA] [--interval MS]
 */
import { parseArgs } from 'node:util'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { gossipsub } from '@libp2p/gossipsub'
import { pubsubPeerDiscovery } from '@libp2p/pubsub-peer-discovery'
import { multiaddr } from '@multiformats/multiaddr'

const { values } = parseArgs({ options: { dial: { type: 'string' }, interval: { type: 'string' } } })
const line = (v: object): void => { process.stdout.write(JSON.stringify(v) + '\n') }

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  peerDiscovery: [pubsubPeerDiscovery({ interval: Number(values.interval ?? 500) })],
  services: { identify: identify(), pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }) }
})
node.addEventListener('peer:discovery', evt => { line({ event: 'peer:discovery', peer: evt.detail.id.toString(), addrs: evt.detail.multiaddrs.map(String) }) })
if (values.dial !== undefined) await node.dial(multiaddr(values.dial))
line({ event: 'ready', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) })
process.on('SIGTERM', () => { Promise.resolve(node.stop()).then(() => process.exit(0), () => process.exit(1)) })
