/**
 * js-libp2p 3.x benchmark peer (server or client role), the comparison side, driven by
 * bench/run.ts through the JSON-line loop of peer-loop.ts. Same commands and wire protocols
 * as ts-peer.ts, written with js-libp2p's own fast stream API: `send()` with `onDrain()` on
 * back-pressure, and 'message' events for reading (no async iterators on the data path).
 *
 *   node --expose-gc bench/peers/js-peer.ts --role server --stack noise+yamux --identify 1
 */
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { quic } from '@chainsafe/libp2p-quic'
import { webRTCDirect } from '@libp2p/webrtc'
import { noise } from '@chainsafe/libp2p-noise'
import { tls } from '@libp2p/tls'
import { yamux } from '@chainsafe/libp2p-yamux'
import { mplex } from '@libp2p/mplex'
import { plaintext } from '@libp2p/plaintext'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection, Libp2p, Stream, StreamMessageEvent, StreamCloseEvent } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import { intField, log, parseFlags, requireFlag, runPeer } from './peer-loop.ts'
import type { Command, Json } from './peer-loop.ts'
import { ECHO_PROTOCOL, elapsedMs, encodeHeader, TransferReceiver, MAX_STREAMS, payloadBlock, TRANSFER_PROTOCOL } from './wire.ts'

const SIDE = 'js'
const flags = parseFlags(process.argv.slice(2))
const role = requireFlag(flags, 'role')
const stackName = requireFlag(flags, 'stack')
const withIdentify = flags.get('identify') === '1'
/** Where a WebRTC Direct server listens (default 127.0.0.1; the Chromium bench uses its lab's address). */
const host = flags.get('host') ?? '127.0.0.1'
const chunkSize = Number(flags.get('chunk') ?? 65536)

function stack (): { connectionEncrypters: any[], streamMuxers: any[] } {
  switch (stackName) {
    // js mplex disconnects a peer opening more than 5 streams per second by default
    case 'noise+yamux': return { connectionEncrypters: [noise()], streamMuxers: [yamux()] }
    case 'tls+yamux': return { connectionEncrypters: [tls()], streamMuxers: [yamux()] }
    case 'noise+mplex': return { connectionEncrypters: [noise()], streamMuxers: [mplex({ disconnectThreshold: 1_000_000, maxUnprocessedMessageQueueSize: 256 * 2 ** 20 })] }
    case 'plaintext+yamux': return { connectionEncrypters: [plaintext()], streamMuxers: [yamux()] }
    // Noise + Yamux over WebSockets (ws://) instead of bare TCP
    case 'websockets': return { connectionEncrypters: [noise()], streamMuxers: [yamux()] }
    // QUIC brings its own TLS and streams (bench/quic/run.ts); the encrypter/muxer lists are unused
    case 'quic': return { connectionEncrypters: [noise()], streamMuxers: [yamux()] }
    // WebRTC Direct (@libp2p/webrtc): Noise on data channel 0, data channels as streams
    case 'webrtc-direct': return { connectionEncrypters: [noise()], streamMuxers: [yamux()] }
    default: throw new Error(`unknown stack ${stackName}`)
  }
}

let node: Libp2p<{ ping: Ping }>
let connection: Connection | undefined
let serverAddr: Multiaddr | undefined

async function start (): Promise<Json> {
  node = (await createLibp2p({
    addresses: { listen: role === 'server' ? [stackName === 'quic' ? '/ip4/127.0.0.1/udp/0/quic-v1' : stackName === 'webrtc-direct' ? `/ip4/${host}/udp/0/webrtc-direct` : stackName === 'websockets' ? '/ip4/127.0.0.1/tcp/0/ws' : '/ip4/127.0.0.1/tcp/0'] : [] },
    transports: [stackName === 'quic' ? quic() : stackName === 'webrtc-direct' ? webRTCDirect() : stackName === 'websockets' ? webSockets() : tcp()],
    ...stack(),
    services: (withIdentify ? { ping: ping(), identify: identify() } : { ping: ping() }) as { ping: any },
    connectionManager: {
      maxConnections: 10_000,
      maxIncomingPendingConnections: 1_000,
      inboundConnectionThreshold: 1_000_000,
      allow: ['/ip4/127.0.0.1'],
      maxParallelDials: 1_000
    }
  })) as unknown as Libp2p<{ ping: Ping }>
  const limits = { maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS }
  await node.handle(TRANSFER_PROTOCOL, (stream) => { void serveTransfer(stream) }, limits)
  await node.handle(ECHO_PROTOCOL, (stream) => { void serveEcho(stream) }, limits)
  if (role === 'client') serverAddr = multiaddr(requireFlag(flags, 'addr'))
  return { side: SIDE, addrs: node.getMultiaddrs().map(String) }
}

type Data = StreamMessageEvent['data']

/** Flattens only when the bytes are looked at (a Uint8ArrayList would be copied). */
function toBytes (data: Data): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray()
}

/** Calls `onChunk` for every received chunk; resolves at the remote's end-of-stream. */
function consume (stream: Stream, onChunk: (chunk: Data) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (evt: StreamMessageEvent): void => {
      try {
        onChunk(evt.data)
      } catch (err) {
        stream.abort(err as Error)
      }
    }
    const finish = (err?: Error): void => {
      stream.removeEventListener('message', onMessage)
      stream.removeEventListener('end', onEnd)
      stream.removeEventListener('close', onClose)
      if (err !== undefined) reject(err)
      else resolve()
    }
    // 'end' also fires just before the 'close' of a reset or aborted stream
    const onEnd = (): void => { finish(stream.status === 'reset' || stream.status === 'aborted' ? new Error(`stream ${stream.status}`) : undefined) }
    const onClose = (evt: StreamCloseEvent): void => { finish(evt.error) }
    stream.addEventListener('message', onMessage)
    stream.addEventListener('end', onEnd)
    stream.addEventListener('close', onClose)
    if (stream.readableEnded && stream.readBufferLength === 0) onEnd()
  })
}

async function sendBytes (stream: Stream, total: number): Promise<void> {
  const block = payloadBlock(chunkSize)
  for (let sent = 0; sent < total; sent += block.length) {
    const chunk = total - sent >= block.length ? block : block.subarray(0, total - sent)
    if (!stream.send(chunk)) await stream.onDrain()
  }
}

async function serveTransfer (stream: Stream): Promise<void> {
  try {
    const transfer = new TransferReceiver()
    await consume(stream, (data) => { if (transfer.headerDone) transfer.count(data.byteLength); else transfer.feed(toBytes(data)) })
    transfer.finish()
    await sendBytes(stream, transfer.downloadBytes)
    await stream.close()
  } catch (err) {
    log(SIDE, 'transfer stream failed:', err)
    stream.abort(err as Error)
  }
}

async function serveEcho (stream: Stream): Promise<void> {
  try {
    let waiting: Promise<void> | undefined
    await consume(stream, (chunk) => {
      // back-pressure: stop the flow while our own send buffer is full
      if (!stream.send(chunk) && waiting === undefined) {
        stream.pause()
        waiting = stream.onDrain().then(() => { waiting = undefined; stream.resume() })
      }
    })
    await waiting
    await stream.close()
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

async function transfer (conn: Connection, up: number, down: number): Promise<number> {
  const started = process.hrtime.bigint()
  const stream = await conn.newStream(TRANSFER_PROTOCOL, { maxOutboundStreams: MAX_STREAMS })
  let received = 0
  const reading = consume(stream, (data) => { received += data.byteLength })
  stream.send(encodeHeader(up, down))
  await sendBytes(stream, up)
  await stream.close()
  await reading
  if (received !== down) throw new Error(`received ${received} bytes, expected ${down}`)
  return elapsedMs(started)
}

async function echoByte (conn: Connection, byte: Uint8Array): Promise<void> {
  const stream = await conn.newStream(ECHO_PROTOCOL, { maxOutboundStreams: MAX_STREAMS })
  let received = 0
  const reading = consume(stream, (data) => { received += data.byteLength })
  stream.send(byte)
  await stream.close()
  await reading
  if (received !== 1) throw new Error(`echo returned ${received} bytes`)
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
    return { ms: await transfer(conn, upload ? bytes : 0, upload ? 0 : bytes) }
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
    const dialMs: number[] = []
    const pingMs: number[] = []
    const totalMs: number[] = []
    const identifyMs: number[] = []
    for (let i = 0; i < count; i++) {
      const started = process.hrtime.bigint()
      const conn = await node.dial(target(), { force: true })
      const identified = withIdentify ? waitIdentify(conn).then(() => identifyMs.push(elapsedMs(started))) : undefined
      const dialed = elapsedMs(started)
      await node.services.ping.ping(conn.remotePeer)
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
