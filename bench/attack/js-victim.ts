/**
 * js-libp2p as a user runs it, for bench/attack: createLibp2p with TCP, Noise, Yamux, identify
 * and ping, and every limit at its default (connection manager, no resource manager option).
 * Prints one JSON line {"addrs": [...]} once listening; exits on SIGTERM.
 */
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify(), ping: ping() }
})
process.stdout.write(JSON.stringify({ addrs: node.getMultiaddrs().map(a => a.toString()) }) + '\n')
process.once('SIGTERM', () => { void Promise.resolve(node.stop()).then(() => process.exit(0)) })
