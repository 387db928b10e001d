/**
 * ts-libp2p benchmark peer (server or client role), driven by bench/run.ts through the
 * JSON-line loop of peer-loop.ts.
 *
 *   node --expose-gc bench/peers/ts-peer.ts --role server --stack noise+yamux --identify 1
 *   node --expose-gc bench/peers/ts-peer.ts --role client --stack noise+yamux --identify 1 --addr /ip4/...
 *
 * The data path uses the library's fast API: synchronous `send()` with `drain()` only on
 * back-pressure, and pull `read()`.
 */
// As an application imports the package: createLibp2p and the types from the front door
// (ts-libp2p), each component from its own module (the subpath exports), so the heap holds
// only what the benchmark runs.
import { createLibp2p, multiaddr } from '../../src/index.ts'
import type { Connection, Libp2p, Libp2pOptions, Multiaddr, ServiceFactories, Stream } from '../../src/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { tls } from '../../src/security/tls/index.ts'
import { plaintext } from '../../src/security/plaintext.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { mplex } from '../../src/muxer/mplex/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import type { PingService } from '../../src/protocols/ping/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { webSockets } from '../../src/transport/websockets/index.ts'
import { quic } from '../../src/transport/quic/index.ts'
import { webRTCDirect } from '../../src/transport/webrtc/webrtc-direct.ts'
import { intField, log, parseFlags, requireFlag, runPeer } from './peer-loop.ts'
import type { Command, Json } from './peer-loop.ts'
import { ECHO_PROTOCOL, elapsedMs, encodeHeader, TransferReceiver, MAX_STREAMS, payloadBlock, TRANSFER_PROTOCOL } from './wire.ts'

const SIDE = 'ts'
const flags = parseFlags(process.argv.slice(2))
const role = requireFlag(flags, 'role')
const stackName = requireFlag(flags, 'stack')
const withIdentify = flags.get('identify') === '1'
/** Where a WebRTC Direct server listens (default 127.0.0.1; the Chromium bench uses its lab's address). */
const host = flags.get('host') ?? '127.0.0.1'
const chunkSize = Number(flags.get('chunk') ?? 65536)
/** QUIC: the largest UDP payload this peer takes and sends (default: what the path allows). */
const maxDatagram = flags.get('max-datagram') === undefined ? undefined : Number(flags.get('max-datagram'))
/** QUIC: congestion avoidance, newreno (default) or cubic. */
const congestionControl = flags.get('cc') === 'cubic' ? 'cubic' as const : 'newreno' as const
// `--resource-manager off` runs without it, so two bench runs show what it costs.
const withResourceManager = (flags.get('resource-manager') ?? 'on') !== 'off'

const stacks: Record<string, Pick<Libp2pOptions, 'connectionEncrypters' | 'streamMuxers'>> = {
  'noise+yamux': { connectionEncrypters: [noise()], streamMuxers: [yamux()] },
  'tls+yamux': { connectionEncrypters: [tls()], streamMuxers: [yamux()] },
  'noise+mplex': { connectionEncrypters: [noise()], streamMuxers: [mplex()] },
  'plaintext+yamux': { connectionEncrypters: [plaintext()], streamMuxers: [yamux()] },
  // Noise + Yamux over WebSockets (ws://) instead of bare TCP
  websockets: { connectionEncrypters: [noise()], streamMuxers: [yamux()] },
  // QUIC brings its own TLS and streams (bench/quic/run.ts)
  quic: {},
  // WebRTC Direct: Noise on data channel 0, one data channel per stream (bench/webrtc/run.ts)
  'webrtc-direct': { connectionEncrypters: [noise()] }
}
const isQuic = stackName === 'quic'
const isWebRTCDirect = stackName === 'webrtc-direct'
const isWebSockets = stackName === 'websockets'

type Node = Libp2p<Record<string, unknown>>
let node: Node
let connection: Connection | undefined
let serverAddr: Multiaddr | undefined

async function start (): Promise<Json> {
  const stack = stacks[stackName]
  if (stack === undefined) throw new Error(`unknown stack ${stackName}`)
  const services: ServiceFactories = withIdentify ? { ping: ping(), identify: identify() } : { ping: ping() }
  node = await createLibp2p({
    addresses: { listen: role === 'server' ? [isQuic ? '/ip4/127.0.0.1/udp/0/quic-v1' : isWebRTCDirect ? `/ip4/${host}/udp/0/webrtc-direct` : isWebSockets ? '/ip4/127.0.0.1/tcp/0/ws' : '/ip4/127.0.0.1/tcp/0'] : [] },
    transports: [isQuic ? quic({ congestionControl, ...(maxDatagram === undefined ? {} : { maxUdpPayloadSize: maxDatagram }) }) : isWebRTCDirect ? webRTCDirect() : isWebSockets ? webSockets() : tcp()],
    ...stack,
    services,
    connectionManager: {
      maxConnections: 10_000,
      maxIncomingPendingConnections: 1_000,
      inboundConnectionThreshold: 1_000_000,
      allow: ['127.0.0.1'],
      maxParallelDials: 1_000
    },
    // The memory figure holds 1000 connections between the same two peers: lift the per-peer
    // limit (8 by default, as in go-libp2p), as the connection manager's limits are lifted above.
    resourceManager: withResourceManager
      ? {
          limits: {
            peer: { conns: 100_000, connsInbound: 100_000, connsOutbound: 100_000, fds: 100_000 },
            // the Chromium bench holds its connections from one lab address (not loopback)
            ip: { conns: 100_000, connsInbound: 100_000, connsOutbound: 100_000 },
            subnet: { conns: 100_000, connsInbound: 100_000, connsOutbound: 100_000 }
          }
        }
      : false
  })
  await node.handle(TRANSFER_PROTOCOL, serveTransfer, { maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS })
  await node.handle(ECHO_PROTOCOL, serveEcho, { maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS })
  if (role === 'client') serverAddr = multiaddr(requireFlag(flags, 'addr'))
  return { side: SIDE, addrs: node.getMultiaddrs().map(String) }
}

async function sendBytes (stream: Stream, total: number): Promise<void> {
  const block = payloadBlock(chunkSize)
  for (let sent = 0; sent < total; sent += block.length) {
    const chunk = total - sent >= block.length ? block : block.subarray(0, total - sent)
    if (!stream.send(chunk)) await stream.drain()
  }
}

async function serveTransfer (stream: Stream): Promise<void> {
  try {
    const transfer = new TransferReceiver()
    for (;;) {
      const chunk = await stream.read()
      if (chunk === null) break
      transfer.feed(chunk)
    }
    transfer.finish()
    await sendBytes(stream, transfer.downloadBytes)
    await stream.closeWrite()
  } catch (err) {
    log(SIDE, 'transfer stream failed:', err)
    stream.abort(err as Error)
  }
}

async function serveEcho (stream: Stream): Promise<void> {
  try {
    for (;;) {
      const chunk = await stream.read()
      if (chunk === null) break
      if (!stream.send(chunk)) await stream.drain()
    }
    await stream.closeWrite()
  } catch (err) {
    log(SIDE, 'echo stream failed:', err)
    stream.abort(err as Error)
  }
}

function target (): Multiaddr {
  if (serverAddr === undefined) throw new Error('this command needs the client role')
  return serverAddr
}

async function sharedConnection (): Promise<Connection> {
  if (connection === undefined || connection.status !== 'open') connection = await node.dial(target(), { force: true })
  return connection
}

/** One transfer stream: upload `up` bytes, then receive `down` bytes; returns ms. */
async function transfer (conn: Connection, up: number, down: number): Promise<number> {
  const started = process.hrtime.bigint()
  const stream = await conn.newStream(TRANSFER_PROTOCOL, { maxOutboundStreams: MAX_STREAMS })
  stream.send(encodeHeader(up, down))
  await sendBytes(stream, up)
  await stream.closeWrite()
  let received = 0
  for (;;) {
    const chunk = await stream.read()
    if (chunk === null) break
    received += chunk.length
  }
  if (received !== down) throw new Error(`received ${received} bytes, expected ${down}`)
  return elapsedMs(started)
}

async function echoByte (conn: Connection, byte: Uint8Array): Promise<void> {
  const stream = await conn.newStream(ECHO_PROTOCOL, { maxOutboundStreams: MAX_STREAMS })
  stream.send(byte)
  await stream.closeWrite()
  let received = 0
  for (;;) {
    const chunk = await stream.read()
    if (chunk === null) break
    received += chunk.length
  }
  if (received !== 1) throw new Error(`echo returned ${received} bytes`)
  await stream.closed
}

function waitIdentify (conn: Connection): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { done(); reject(new Error('no identify within 10 s')) }, 10_000)
    const listener = (evt: CustomEvent<{ connection: Connection }>): void => {
      if (evt.detail.connection.id === conn.id) { done(); resolve() }
    }
    const done = (): void => { clearTimeout(timer); node.removeEventListener('peer:identify', listener) }
    node.addEventListener('peer:identify', listener)
  })
}

const handlers = {
  async throughput (req: Command): Promise<Json> {
    const bytes = intField(req, 'bytes')
    const upload = req.direction === 'upload'
    const conn = await sharedConnection()
    const ms = await transfer(conn, upload ? bytes : 0, upload ? 0 : bytes)
    return { ms }
  },

  async concurrent (req: Command): Promise<Json> {
    const streams = intField(req, 'streams')
    const bytes = intField(req, 'bytes')
    const conn = await sharedConnection()
    const started = process.hrtime.bigint()
    await Promise.all(Array.from({ length: streams }, async () => await transfer(conn, bytes, 0)))
    return { ms: elapsedMs(started) }
  },

  async setup (req: Command): Promise<Json> {
    const count = intField(req, 'count')
    const pingService = node.services.ping as PingService
    const dialMs: number[] = []
    const pingMs: number[] = []
    const totalMs: number[] = []
    const identifyMs: number[] = []
    for (let i = 0; i < count; i++) {
      const started = process.hrtime.bigint()
      const conn = await node.dial(target(), { force: true })
      const identified = withIdentify ? waitIdentify(conn).then(() => identifyMs.push(elapsedMs(started))) : undefined
      const dialed = elapsedMs(started)
      await pingService.ping(conn)
      const total = elapsedMs(started)
      dialMs.push(dialed)
      pingMs.push(total - dialed)
      totalMs.push(total)
      await identified
      await conn.close()
    }
    return { dialMs, pingMs, totalMs, identifyMs }
  },

  async streams (req: Command): Promise<Json> {
    const count = intField(req, 'count')
    const conn = await sharedConnection()
    const byte = new Uint8Array([42])
    const ms: number[] = []
    for (let i = 0; i < count; i++) {
      const started = process.hrtime.bigint()
      await echoByte(conn, byte)
      ms.push(elapsedMs(started))
    }
    return { ms }
  },

  async connectMany (req: Command): Promise<Json> {
    const count = intField(req, 'count')
    const started = process.hrtime.bigint()
    // one at a time: concurrent dials to one peer may be merged into one connection
    for (let i = 0; i < count; i++) await node.dial(target(), { force: true })
    return { ms: elapsedMs(started), connections: node.getConnections().length }
  },

  async waitConnections (req: Command): Promise<Json> {
    const count = intField(req, 'count')
    if (node.getConnections().length < count) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { done(); reject(new Error(`only ${node.getConnections().length} of ${count} connections after 60 s`)) }, 60_000)
        const listener = (): void => { if (node.getConnections().length >= count) { done(); resolve() } }
        const done = (): void => { clearTimeout(timer); node.removeEventListener('connection:open', listener) }
        node.addEventListener('connection:open', listener)
      })
    }
    return { connections: node.getConnections().length }
  }
}

void runPeer(SIDE, start, handlers, async () => { await node?.stop() })
