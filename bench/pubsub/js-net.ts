/**
 * The js-libp2p side of the pubsub benchmark: network.ts with js-libp2p 3.x nodes (@libp2p/tcp
 * on loopback, Noise, Yamux, identify, @libp2p/gossipsub with default parameters and
 * StrictSign), the same transport and stack as the ts side.
 *
 *   node bench/pubsub/js-net.ts --scoring on|off   (then JSON commands on stdin; see network.ts)
 *
 * --scoring on: @libp2p/gossipsub's peer scoring with its default parameters, IP colocation
 * off (every node shares 127.0.0.1: with more than 10 neighbours the colocation penalty would
 * keep a node out of every mesh), as on the ts side. off: js-libp2p cannot turn scoring off, so
 * every weight is zero and the scores stay 0; its bookkeeping still runs.
 */
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { gossipsub } from '@libp2p/gossipsub'
import { multiaddr } from '@multiformats/multiaddr'
import { runPubSubNetwork, scoringFlag, type NetNode } from './network.ts'

const scoring = scoringFlag(process.argv)
const scoreParams = scoring === 'on'
  ? { IPColocationFactorWeight: 0 }
  : { IPColocationFactorWeight: 0, appSpecificWeight: 0, behaviourPenaltyWeight: 0, topicScoreCap: 0 }

async function createNode (): Promise<NetNode> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: 10_000, maxIncomingPendingConnections: 1_000, inboundConnectionThreshold: 1_000_000, allow: ['/ip4/127.0.0.1'], maxParallelDials: 1_000 },
    services: { identify: identify(), pubsub: gossipsub({ emitSelf: false, scoreParams }) }
  })
  const ps = node.services.pubsub as any
  return {
    addr: node.getMultiaddrs()[0].toString(),
    async dial (addr) { await node.dial(multiaddr(addr)) },
    subscribe (topic) { ps.subscribe(topic) },
    async publish (topic, data) { await ps.publish(topic, data) },
    onMessage (onData) { ps.addEventListener('message', (evt: CustomEvent<{ data: Uint8Array }>) => { onData(evt.detail.data) }) },
    meshSize: (topic) => ps.getMeshPeers(topic).length,
    subscriberCount: (topic) => ps.getSubscribers(topic).length,
    async stop () { await node.stop() }
  }
}

runPubSubNetwork('js', createNode)
