/**
 * Our side of the "createLibp2p() + dial in a fresh process" figure (bench/startup/measure.ts),
 * as an application would write it: TCP + Noise + Yamux + ping from the package's subpaths.
 *
 *   node ts-cold.js dial MA    createLibp2p + dial + one ping, then exits; prints
 *                              {"connectedMs","pingedMs"} in ms since the process started
 *
 * The CLI figures (`ts-libp2p ping`, `ts-libp2p perf`) run the command itself.
 */
import { createLibp2p, multiaddr } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'

const [mode, target] = process.argv.slice(2)
if (mode !== 'dial' || target === undefined) throw new Error('usage: ts-cold.ts dial MA')
const node = await createLibp2p({
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { ping: ping() }
})
const connection = await node.dial(multiaddr(target))
const connectedMs = performance.now()
await node.services.ping.ping(connection)
process.stdout.write(JSON.stringify({ connectedMs, pingedMs: performance.now() }) + '\n')
await node.stop()
