/**
 * The ts-libp2p side of the pubsub benchmark: network.ts with ts-libp2p nodes (TCP on
 * loopback, Noise, Yamux, identify, GossipSub with default parameters and StrictSign).
 *
 *   node bench/pubsub/ts-net.ts --scoring on|off   (then JSON commands on stdin; see network.ts)
 *
 * --scoring on: GossipSub v1.1 peer scoring with the default parameters, IP colocation off
 * (every node shares 127.0.0.1, so it would keep them out of each other's meshes), as on the
 * js side; off: no scoring (ours scores only when given score parameters).
 */
import { createLibp2p, multiaddr, type Libp2p } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { gossipsub, type GossipSub } from '../../src/pubsub/gossipsub/index.ts'
import { runPubSubNetwork, scoringFlag, type NetNode } from './network.ts'

type Node = Libp2p<{ identify: unknown, pubsub: GossipSub }>

const scoring = scoringFlag(process.argv)

async function createNode (): Promise<NetNode> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: 10_000, maxIncomingPendingConnections: 1_000, inboundConnectionThreshold: 1_000_000, allow: ['127.0.0.1'], maxParallelDials: 1_000 },
    services: { identify: identify(), pubsub: gossipsub(scoring === 'on' ? { scoreParams: { IPColocationFactorWeight: 0 } } : {}) }
  }) as unknown as Node
  const ps = node.services.pubsub
  return {
    addr: node.getMultiaddrs()[0].toString(),
    async dial (addr) { await node.dial(multiaddr(addr)) },
    subscribe (topic) { ps.subscribe(topic) },
    async publish (topic, data) { await ps.publish(topic, data) },
    onMessage (onData) { ps.addEventListener('message', (evt) => { onData(evt.detail.data) }) },
    meshSize: (topic) => ps.getMeshPeers(topic).length,
    subscriberCount: (topic) => ps.getSubscribers(topic).length,
    async stop () { await node.stop() }
  }
}

runPubSubNetwork('ts', createNode)
