/**
 * The relay under test for `npm run bench:relay`, one process per side: `--side ts` runs
 * ts-libp2p's circuitRelayServer, `--side js` js-libp2p's (@libp2p/circuit-relay-v2), each over
 * TCP + Noise + Yamux with circuit limits off and admission limits lifted (every client comes
 * from 127.0.0.1). Prints {"event":"ready","addr":...}; answers {"cmd":"memory"} with the heap
 * and RSS after a full GC (node --expose-gc), and exits when stdin ends.
 */
import { createInterface } from 'node:readline'

const side = process.argv[process.argv.indexOf('--side') + 1]
const MAX = 100_000

async function tsRelay (): Promise<{ addr: string, stop(): Promise<void> }> {
  const { createLibp2p } = await import('../../src/index.ts')
  const { tcp } = await import('../../src/transport/tcp/index.ts')
  const { noise } = await import('../../src/security/noise/index.ts')
  const { yamux } = await import('../../src/muxer/yamux/index.ts')
  const { identify } = await import('../../src/protocols/identify/index.ts')
  const { circuitRelayServer } = await import('../../src/relay/index.ts')
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    resourceManager: false,
    connectionManager: { maxConnections: MAX, inboundConnectionThreshold: MAX, maxIncomingPendingConnections: 1000 },
    services: { identify: identify(), relay: circuitRelayServer({ maxReservations: MAX, maxReservationsPerIp: MAX, maxCircuitsPerPeer: MAX, maxCircuits: MAX, circuitLimit: false }) }
  })
  return { addr: node.getMultiaddrs()[0].toString(), stop: async () => { await node.stop() } }
}

async function jsRelay (): Promise<{ addr: string, stop(): Promise<void> }> {
  const { createLibp2p } = await import('libp2p')
  const { tcp } = await import('@libp2p/tcp')
  const { noise } = await import('@chainsafe/libp2p-noise')
  const { yamux } = await import('@chainsafe/libp2p-yamux')
  const { identify } = await import('@libp2p/identify')
  const { circuitRelayServer } = await import('@libp2p/circuit-relay-v2')
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: MAX, inboundConnectionThreshold: MAX, maxIncomingPendingConnections: 1000 },
    services: {
      identify: identify(),
      relay: circuitRelayServer({ maxInboundHopStreams: MAX, maxOutboundStopStreams: MAX, reservations: { maxReservations: MAX, applyDefaultLimit: false } })
    }
  })
  return { addr: node.getMultiaddrs()[0].toString(), stop: async () => { await node.stop() } }
}

const relay = side === 'js' ? await jsRelay() : await tsRelay()
process.stdout.write(JSON.stringify({ event: 'ready', addr: relay.addr }) + '\n')
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
lines.on('line', (line) => {
  const msg = JSON.parse(line) as { id: number, cmd: string }
  if (msg.cmd === 'memory') {
    for (let i = 0; i < 3; i++) (globalThis as { gc?: () => void }).gc?.()
    const m = process.memoryUsage()
    process.stdout.write(JSON.stringify({ id: msg.id, ok: true, heapUsed: m.heapUsed, rss: m.rss }) + '\n')
  } else {
    process.stdout.write(JSON.stringify({ id: msg.id, ok: false, error: `unknown command ${msg.cmd}` }) + '\n')
  }
})
lines.on('close', () => { void relay.stop().finally(() => process.exit(0)) })
