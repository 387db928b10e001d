/**
 * js-libp2p's side of the cold-start figures (bench/startup/measure.ts), as a js-libp2p user
 * would write it: TCP + Noise + Yamux, nothing else. Every client run is a fresh process.
 *
 *   node js-cold.js server             listens on 127.0.0.1 and serves ping; prints
 *                                      {"addrs":[...]} once listening, runs until SIGTERM
 *   node js-cold.js dial MA            createLibp2p + dial + one ping, then exits; prints
 *                                      {"connectedMs","pingedMs"} in ms since the process started
 *
 * The perf contract's figures run js-libp2p's perf executable, interop/test-plans/js-perf.ts.
 */
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { ping } from '@libp2p/ping'
import { multiaddr } from '@multiformats/multiaddr'
import type { Ping } from '@libp2p/ping'

const [mode, target] = process.argv.slice(2)

if (mode === 'server') {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { ping: ping() }
  })
  process.once('SIGTERM', () => { void (async () => { await node.stop(); process.exit(0) })() })
  process.stdout.write(JSON.stringify({ addrs: node.getMultiaddrs().map(String) }) + '\n')
} else if (mode === 'dial') {
  const node = await createLibp2p({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { ping: ping() }
  })
  const connection = await node.dial(multiaddr(target))
  const connectedMs = performance.now()
  await (node.services.ping as Ping).ping(connection.remoteAddr)
  process.stdout.write(JSON.stringify({ connectedMs, pingedMs: performance.now() }) + '\n')
  await node.stop()
} else {
  throw new Error(`usage: js-cold.ts server | dial MA (got ${String(mode)})`)
}
