/**
 * A js-libp2p node with @libp2p/mdns, for the mDNS interop test (test/interop/mdns.test.ts),
 * which runs it inside a network namespace. Prints JSON lines on stdout:
 *   {"event":"ready","peerId":"...","addrs":[...]} once listening, then
 *   {"event":"peer:discovery","peer":"...","addrs":[...]} per peer mDNS reports, and
 *   {"event":"peer:connect","peer":"..."} per connection.
 * Runs until SIGTERM.
 * Usage: node mdns-peer.ts [--listen MA]... [--interval MS]
 */
import { parseArgs } from 'node:util'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { mdns } from '@libp2p/mdns'

const { values } = parseArgs({ options: { listen: { type: 'string', multiple: true }, interval: { type: 'string' } } })
const line = (v: object): void => { process.stdout.write(JSON.stringify(v) + '\n') }

const node = await createLibp2p({
  addresses: { listen: values.listen ?? ['/ip4/0.0.0.0/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  peerDiscovery: [mdns({ interval: Number(values.interval ?? 1000) })],
  services: { identify: identify() }
})
node.addEventListener('peer:discovery', evt => { line({ event: 'peer:discovery', peer: evt.detail.id.toString(), addrs: evt.detail.multiaddrs.map(String) }) })
node.addEventListener('peer:connect', evt => { line({ event: 'peer:connect', peer: evt.detail.toString() }) })
line({ event: 'ready', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) })
process.on('SIGTERM', () => { Promise.resolve(node.stop()).then(() => process.exit(0), () => process.exit(1)) })
