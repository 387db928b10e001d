/**
 * The pairs bench:rm measures (run.ts) and counts instructions of (fixed-work.ts): two ts-libp2p
 * nodes in one process, with or without the resource manager, and the two kinds of work.
 */
import { createLibp2p } from '../../src/index.ts'
import type { Libp2p } from '../../src/index.ts'
import type { Connection } from '../../src/interface/connection.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { quic } from '../../src/transport/quic/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { handleSinkAndOpen, sendToSink } from '../lib/sink-open.ts'

export const STACKS = ['noise+yamux', 'quic'] as const
export type Stack = typeof STACKS[number]
export type Side = 'on' | 'off'
export const SINK = '/bench/rm-sink/1.0.0'
export const OPEN = '/bench/rm-open/1.0.0'
export const CHUNK = 64 * 1024
export const MiB = 1024 * 1024

/**
 * Dial, upgrade and negotiation bounds for a run under valgrind (fixed-work.ts), which runs
 * ~50x slower: the defaults (5 s per address dial) fail there on a loaded machine. A timer per
 * dial and stream either way, so the count does not change with them.
 */
const PATIENT = { dialTimeout: 300_000, addressDialTimeout: 300_000, inboundUpgradeTimeout: 300_000, outboundUpgradeTimeout: 300_000, protocolNegotiationTimeout: 300_000 }

export async function makeNode (stack: Stack, side: Side, patient = false): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: [stack === 'quic' ? '/ip4/127.0.0.1/udp/0/quic-v1' : '/ip4/127.0.0.1/tcp/0'] },
    transports: [stack === 'quic' ? quic() : tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {},
    ...(patient ? { connectionManager: PATIENT } : {}),
    ...(side === 'off' ? { resourceManager: false as const } : {})
  })
  await handleSinkAndOpen(node, SINK, OPEN)
  return node
}

export interface Measure { cpuMicros: number, wallMicros: number }

function cpuNow (): number {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}

export async function transfer (connection: Connection, bytes: number): Promise<Measure> {
  const chunk = new Uint8Array(CHUNK).fill(7)
  const cpu = cpuNow()
  const started = performance.now()
  const stream = await connection.newStream(SINK)
  await sendToSink(stream, bytes, chunk)
  await stream.close()
  return { cpuMicros: cpuNow() - cpu, wallMicros: (performance.now() - started) * 1000 }
}

export async function openStreams (connection: Connection, streams: number): Promise<Measure> {
  const cpu = cpuNow()
  const started = performance.now()
  for (let i = 0; i < streams; i++) {
    const stream = await connection.newStream(OPEN, { maxOutboundStreams: 10_000 })
    await stream.close()
  }
  return { cpuMicros: cpuNow() - cpu, wallMicros: (performance.now() - started) * 1000 }
}

export interface Pair { client: Libp2p, server: Libp2p, connection: Connection }

export async function makePair (stack: Stack, side: Side, patient = false): Promise<Pair> {
  const server = await makeNode(stack, side, patient)
  const client = await makeNode(stack, side, patient)
  const connection = await client.dial(server.getMultiaddrs()[0])
  return { client, server, connection }
}

