/**
 * A fixed amount of QUIC dial work for an instruction count (valgrind), which the machine's load
 * does not move as it moves times: two nodes in one process (QUIC only, ping, no identify),
 * `--warmup` dials + first ping + close, then `--dials` more, then exit. Run it twice, with
 * `--dials N` and `--dials 0`: the difference over N is the instructions of one dial + first
 * ping + close over both peers. Run with node's --single-threaded so V8 compiles on the main
 * thread and the count does not depend on how threads are scheduled.
 *
 *   valgrind --tool=cachegrind --cache-sim=no --smc-check=all-non-file --cachegrind-out-file=/dev/null \
 *     node --single-threaded bench/quic/fixed-dials.ts --warmup 100 --dials 100   # then --dials 0
 *
 * `--stack tcp` does the same over TCP + Noise + Yamux (the switch's part of the path is shared).
 */
import { createLibp2p } from '../../src/index.ts'
import { quic } from '../../src/transport/quic/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import type { PingService } from '../../src/protocols/ping/index.ts'

const flags = new Map<string, string>()
for (let i = 2; i < process.argv.length; i += 2) flags.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1])
const warmup = Number(flags.get('warmup') ?? 150)
const dials = Number(flags.get('dials') ?? 100)
// `--stack tcp`: the same work over TCP + Noise + Yamux, which shares the switch's path
const stack = flags.get('stack') ?? 'quic'
if (!Number.isSafeInteger(warmup) || !Number.isSafeInteger(dials) || (stack !== 'quic' && stack !== 'tcp')) throw new Error('usage: --warmup N --dials N [--stack quic|tcp]')

// Under valgrind a dial runs ~50x slower: no time limit may fire in the count.
const LONG = 600_000
const makeNode = async (listen: string[]) => await createLibp2p({
  addresses: { listen },
  transports: [stack === 'quic' ? quic({ handshakeTimeout: LONG, maxIdleTimeout: LONG }) : tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { ping: ping({ timeout: LONG }) },
  connectionManager: {
    maxConnections: 10_000,
    allow: ['127.0.0.1'],
    dialTimeout: LONG,
    addressDialTimeout: LONG,
    inboundUpgradeTimeout: LONG,
    outboundUpgradeTimeout: LONG,
    protocolNegotiationTimeout: LONG,
    connectionCloseTimeout: LONG
  },
  // Closed connections leave the server's tables a moment after the client's close resolves:
  // the per-peer limit (8 inbound, as in go-libp2p) is lifted as the bench peers lift it.
  resourceManager: { limits: { peer: { conns: 100_000, connsInbound: 100_000, connsOutbound: 100_000, fds: 100_000 } } }
})
const server = await makeNode([stack === 'quic' ? '/ip4/127.0.0.1/udp/0/quic-v1' : '/ip4/127.0.0.1/tcp/0'])
const client = await makeNode([])
const address = server.getMultiaddrs()[0]
const pinger = client.services.ping as PingService

async function dialPingClose (count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const connection = await client.dial(address, { force: true })
    await pinger.ping(connection)
    await connection.close()
  }
}

await dialPingClose(warmup)
const cpu = process.cpuUsage()
await dialPingClose(dials)
const used = process.cpuUsage(cpu)
if (dials > 0) process.stderr.write(`CPU per dial + ping + close (both peers, one process): ${((used.user + used.system) / dials / 1000).toFixed(3)} ms\n`)
await client.stop()
await server.stop()
