/**
 * js-libp2p interop test peer.
 *
 * Speaks the line-oriented JSON control contract described in
 * interop/README.md (the same one as interop/go-peer):
 *
 *   - stdout: one {"event":"ready",...} line once listening, then event lines
 *     and exactly one reply line per command. Nothing else goes to stdout.
 *   - stdin: one JSON command per line ({"id":..,"cmd":"..",...}).
 *   - stderr: free-form logs.
 *
 * Run with node >= 24 (type stripping):
 *   node interop/js-peer/peer.ts --listen /ip4/127.0.0.1/tcp/0 --muxer mplex
 *
 * To add a feature (DHT, pubsub, ...): add services in `buildServices`, stream
 * handlers in `setupHandlers`, and commands with `commands.register`. The
 * contract's plumbing (output, common flags, echo payload, command loop) is
 * interop/line-contract.ts, shared with interop/ts-peer.
 */
import { createInterface } from 'node:readline'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { webRTC, webRTCDirect } from '@libp2p/webrtc'
import { quic } from '@chainsafe/libp2p-quic'
import { noise } from '@chainsafe/libp2p-noise'
import { tls } from '@libp2p/tls'
import { preSharedKey } from '@libp2p/pnet'
import { yamux } from '@chainsafe/libp2p-yamux'
import { mplex } from '@libp2p/mplex'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { generateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p, PeerId, IdentifyResult, Stream, PrivateKey, StreamMessageEvent, StreamCloseEvent } from '@libp2p/interface'
import type { Identify } from '@libp2p/identify'
import type { Ping } from '@libp2p/ping'
import type { Uint8ArrayList } from 'uint8arraylist'
import { gossipsub } from '@libp2p/gossipsub'
import { floodsub } from '@libp2p/floodsub'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { CID } from 'multiformats/cid'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { autoNAT } from '@libp2p/autonat'
import { PERF_PROTOCOL, decodePerfRequest, encodePerfRequest, sendZeros } from './perf-wire.ts'
import { Commands, echoCommand, echoMismatch, emitEvent, errorMessage, parsePeerFlags, patternBytes, pingCommand, stderrLog, type Json, type PeerFlags, type Request } from '../line-contract.ts'

const ECHO_PROTOCOL = '/echo/1.0.0'
const RESET_PROTOCOL = '/test/reset/1.0.0'
const MAX_STREAMS_PER_PROTOCOL = 1024
const INBOUND_STREAM_TIMEOUT_MS = 120_000
const STOP_TIMEOUT_MS = 5_000

const log = stderrLog('js-peer')

// ----------------------------------------------------------------- flags --

interface Config extends PeerFlags {
  /** serve /perf/1.0.0 (off by default, as the perf spec asks) */
  perf: boolean
  /** run the Kademlia DHT (/ipfs/kad/1.0.0) in this mode (off by default) */
  dht?: 'server' | 'client'
  /** run a pubsub router (off by default) */
  pubsub?: 'gossipsub' | 'floodsub'
  /** serve the circuit relay v2 hop protocol (--relay-server) */
  relayServer: boolean
  /** relays to reserve on (--relay MA, repeatable); `ready` waits for their circuit addresses */
  relays: string[]
  /** run @libp2p/autonat (AutoNAT v1 client and server, --autonat) */
  autonat: boolean
}

function parseArgs (argv: string[]): Config {
  const own = { perf: false, relayServer: false, relays: [] as string[], autonat: false, dht: undefined as Config['dht'], pubsub: undefined as Config['pubsub'] }
  const flags = parsePeerFlags(argv, (flag, value) => {
    switch (flag) {
      case '--perf': own.perf = true; break
      case '--dht': {
        const m = value()
        if (m !== 'server' && m !== 'client') throw new Error(`--dht must be server or client, got ${JSON.stringify(m)}`)
        own.dht = m
        break
      }
      case '--pubsub': {
        const r = value()
        if (r !== 'gossipsub' && r !== 'floodsub') throw new Error(`--pubsub must be gossipsub or floodsub, got ${JSON.stringify(r)}`)
        own.pubsub = r
        break
      }
      case '--relay-server': own.relayServer = true; break
      case '--relay': own.relays.push(value()); break
      case '--autonat': own.autonat = true; break
      default: return false
    }
    return true
  })
  for (const relay of own.relays) flags.listen.push(`${relay}/p2p-circuit`)
  return { ...flags, ...own }
}

// --------------------------------------------------------------- helpers --

function toBytes (chunk: Uint8Array | Uint8ArrayList): Uint8Array {
  return chunk instanceof Uint8Array ? chunk : chunk.subarray()
}

function concat (chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total)
  let off = 0
  for (const c of chunks) {
    out.set(c, off)
    off += c.byteLength
  }
  return out
}

/**
 * Iterate over the bytes a stream receives until the remote closes its write
 * side (return) or the stream is reset/aborted (throw).
 *
 * js-libp2p's own `for await (const chunk of stream)` waits for the
 * 'remoteCloseWrite' event, so it never ends when the remote half-closed
 * before the iterator was attached (e.g. a 0-byte echo whose FIN arrives with
 * the protocol negotiation). This reader relies on the 'end'/'close' events
 * and the `readableEnded` state instead.
 */
async function * readChunks (stream: Stream): AsyncGenerator<Uint8Array, void, undefined> {
  const queue: Uint8Array[] = []
  let ended = false
  let error: Error | undefined
  let wake: (() => void) | undefined
  const notify = (): void => { const w = wake; wake = undefined; w?.() }
  const onMessage = (evt: StreamMessageEvent): void => { queue.push(toBytes(evt.data)); notify() }
  const onEnd = (): void => { ended = true; notify() }
  const onClose = (evt: StreamCloseEvent): void => {
    if (evt.error != null) error = evt.error
    ended = true
    notify()
  }
  stream.addEventListener('message', onMessage)
  stream.addEventListener('end', onEnd)
  stream.addEventListener('close', onClose)
  try {
    for (;;) {
      while (queue.length > 0) {
        const chunk = queue.shift()
        if (chunk != null) yield chunk
      }
      // 'end' is dispatched just before the reset/abort 'close' event, in the
      // same tick, so by the time we get here both have been seen
      if (error != null) throw error
      if (stream.status === 'reset' || stream.status === 'aborted') {
        throw new Error(`stream ${stream.status}`)
      }
      if (ended || (stream.readableEnded && stream.readBufferLength === 0)) return
      await new Promise<void>((resolve) => { wake = resolve })
    }
  } finally {
    stream.removeEventListener('message', onMessage)
    stream.removeEventListener('end', onEnd)
    stream.removeEventListener('close', onClose)
  }
}

/** Write all of `data` honouring back-pressure, in chunks of at most 64 KiB. */
async function sendAll (stream: Stream, data: Uint8Array, signal?: AbortSignal): Promise<void> {
  const CHUNK = 64 * 1024
  for (let off = 0; off < data.byteLength; off += CHUNK) {
    if (!stream.send(data.subarray(off, off + CHUNK))) {
      await stream.onDrain({ signal })
    }
  }
}

function sleep (ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(t); reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

// ------------------------------------------------------------------ node --

type Services = { identify: Identify, ping: Ping, pubsub?: PubSubService }
type Node = Libp2p<Services>

function buildServices (cfg: Config): Record<string, any> {
  const services: Record<string, any> = {
    identify: identify(),
    // js-libp2p counts a ping stream until the remote's FIN arrives, which over QUIC can come
    // after the pong: with its default of one outbound ping stream, the `ping` command's next
    // ping could race its own limit (TooManyOutboundProtocolStreamsError "2/1").
    ping: ping({ maxOutboundStreams: 2 })
  }
  if (cfg.pubsub === 'gossipsub') {
    // go's message id (from || seqno) instead of js's default (public key || seqno), so
    // IHAVE/IWANT ids match across implementations
    services.pubsub = gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false, msgIdFn: goMessageId })
  } else if (cfg.pubsub === 'floodsub') {
    services.pubsub = floodsub({ emitSelf: false })
  }
  if (cfg.relayServer) services.relay = circuitRelayServer()
  if (cfg.autonat) services.autonat = autoNAT()
  if (cfg.dht != null) {
    // the public protocol id (js defaults to /ipfs/lan/kad/1.0.0) and loopback addresses kept
    services.dht = kadDHT({ protocol: '/ipfs/kad/1.0.0', clientMode: cfg.dht === 'client', peerInfoMapper: passthroughMapper })
  }
  return services
}

async function createNode (cfg: Config): Promise<Node> {
  const privateKey: PrivateKey = cfg.keySeed != null
    ? await generateKeyPairFromSeed('Ed25519', cfg.keySeed)
    : await generateKeyPair('Ed25519')
  const node = await createLibp2p({
    start: false,
    privateKey,
    addresses: { listen: cfg.listen },
    // webSockets for /ws listen addresses (--listen /ip4/127.0.0.1/tcp/0/ws)
    // circuitRelayTransport: dial and listen on /p2p-circuit addresses (--relay)
    // quic: /udp/N/quic-v1 (its Rust addon; not with a private network, which cannot protect it)
    // webRTCDirect: /udp/N/webrtc-direct (node-datachannel; likewise not with a private network)
    // webRTC: /webrtc, signaled over a relay; only with --listen /webrtc (and --relay), since it
    // adds /webrtc-signaling/0.0.1 to the protocols identify reports
    transports: [tcp(), webSockets(), circuitRelayTransport(), ...(cfg.psk != null ? [] : [quic(), webRTCDirect(), ...(cfg.listen.includes('/webrtc') ? [webRTC()] : [])])],
    connectionEncrypters: [cfg.security === 'tls' ? tls() : noise()],
    ...(cfg.psk != null ? { connectionProtector: preSharedKey({ psk: cfg.psk }) } : {}),
    // js mplex aborts the whole connection when the remote opens more than
    // `disconnectThreshold` (default 5) new streams per second; tests open
    // hundreds, so lift that limit
    streamMuxers: [cfg.muxer === 'mplex' ? mplex({ disconnectThreshold: 100_000 }) : yamux()],
    services: buildServices(cfg),
    connectionManager: {
      // tests dial a lot from 127.0.0.1; don't rate limit them
      inboundConnectionThreshold: 10_000,
      maxIncomingPendingConnections: 1_000
    },
    ...(cfg.agent != null ? { nodeInfo: { userAgent: cfg.agent } } : {})
  })
  return node as unknown as Node
}

// what identify told us about each peer, plus waiters for peers not seen yet
const identified = new Map<string, IdentifyResult>()
const identifyWaiters = new Set<() => void>()

function watchEvents (node: Node): void {
  node.addEventListener('peer:connect', (evt) => {
    emitEvent('peer:connect', { peerId: evt.detail.toString() })
  })
  node.addEventListener('peer:disconnect', (evt) => {
    emitEvent('peer:disconnect', { peerId: evt.detail.toString() })
  })
  node.addEventListener('peer:identify', (evt) => {
    identified.set(evt.detail.peerId.toString(), evt.detail)
    for (const wake of [...identifyWaiters]) wake()
  })
}

async function waitIdentify (peer: PeerId, signal: AbortSignal): Promise<IdentifyResult> {
  const key = peer.toString()
  for (;;) {
    const r = identified.get(key)
    if (r != null) return r
    signal.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const wake = (): void => { cleanup(); resolve() }
      const onAbort = (): void => { cleanup(); reject(new Error(`identify with ${key} did not complete: ${errorMessage(signal.reason)}`)) }
      const cleanup = (): void => { identifyWaiters.delete(wake); signal.removeEventListener('abort', onAbort) }
      identifyWaiters.add(wake)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }
}

// -------------------------------------------------------- stream handlers --

async function setupHandlers (node: Node, cfg: Config): Promise<void> {
  // copy every byte back; close our write side once the remote closed theirs
  await node.handle(ECHO_PROTOCOL, async (stream, connection) => {
    const remote = connection.remotePeer.toString()
    stream.inactivityTimeout = INBOUND_STREAM_TIMEOUT_MS
    let total = 0
    try {
      for await (const chunk of readChunks(stream)) {
        total += chunk.byteLength
        if (!stream.send(chunk)) {
          await stream.onDrain({ signal: AbortSignal.timeout(INBOUND_STREAM_TIMEOUT_MS) })
        }
      }
      await stream.close({ signal: AbortSignal.timeout(INBOUND_STREAM_TIMEOUT_MS) })
      emitEvent('echo:done', { peerId: remote, bytes: total })
    } catch (err) {
      log(`echo stream from ${remote} failed after ${total} bytes:`, err)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      emitEvent('echo:error', { peerId: remote, bytes: total, error: errorMessage(err) })
    }
  }, { maxInboundStreams: MAX_STREAMS_PER_PROTOCOL, maxOutboundStreams: MAX_STREAMS_PER_PROTOCOL, runOnLimitedConnection: true })

  // wait for at least one byte, then reset the stream
  await node.handle(RESET_PROTOCOL, async (stream) => {
    try {
      for await (const chunk of readChunks(stream)) {
        if (chunk.byteLength > 0) break
      }
    } catch (err) {
      log('reset stream: read failed before reset:', err)
    }
    stream.abort(new Error('reset by /test/reset/1.0.0 handler'))
  }, { maxInboundStreams: MAX_STREAMS_PER_PROTOCOL, maxOutboundStreams: MAX_STREAMS_PER_PROTOCOL })

  if (cfg.perf) {
    await node.handle(PERF_PROTOCOL, async (stream, connection) => {
      await servePerf(stream, connection.remotePeer.toString())
    }, { maxInboundStreams: MAX_STREAMS_PER_PROTOCOL, maxOutboundStreams: MAX_STREAMS_PER_PROTOCOL })
  }
}

// ------------------------------------------------------------------ perf --
// /perf/1.0.0's request and send loop: perf-wire.ts (shared with test-plans/js-perf.ts).

/**
 * Server: read the request, the upload until EOF, only then send the bytes
 * asked for, then close. Emits perf:done / perf:error.
 */
async function servePerf (stream: Stream, remote: string): Promise<void> {
  stream.inactivityTimeout = INBOUND_STREAM_TIMEOUT_MS
  const signal = AbortSignal.timeout(INBOUND_STREAM_TIMEOUT_MS)
  const request = new Uint8Array(8)
  let requestLength = 0
  let received = 0
  let sent = 0
  try {
    for await (const chunk of readChunks(stream)) {
      const take = Math.min(8 - requestLength, chunk.byteLength)
      request.set(chunk.subarray(0, take), requestLength)
      requestLength += take
      received += chunk.byteLength - take
    }
    if (requestLength < 8) throw new Error(`stream ended after ${requestLength} of 8 request bytes`)
    sent = await sendZeros(stream, decodePerfRequest(request), signal)
    await stream.close({ signal })
    emitEvent('perf:done', { peerId: remote, received, sent })
  } catch (err) {
    log(`perf stream from ${remote} failed (received ${received}, sent ${sent}):`, err)
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    emitEvent('perf:error', { peerId: remote, received, sent, error: errorMessage(err) })
  }
}

// -------------------------------------------------------------- commands --

const stopController = new AbortController()
const commands = new Commands<Node>(log, stopController.signal)

function peerArg (req: Request): PeerId {
  if (typeof req.peer !== 'string' || req.peer === '') throw new Error('missing "peer"')
  try {
    return peerIdFromString(req.peer)
  } catch (err) {
    throw new Error(`bad peer id ${JSON.stringify(req.peer)}: ${errorMessage(err)}`)
  }
}

// what identify would report: js then asks AutoNAT servers (--autonat) to verify the address
commands.register('observe', 5_000, async (req, { node }) => {
  const internals = node as unknown as { components: { addressManager: { addObservedAddr(addr: ReturnType<typeof multiaddr>): void } } }
  internals.components.addressManager.addObservedAddr(multiaddr(String(req.addr)))
  return {}
})

commands.register('dial', 30_000, async (req, { node, signal }) => {
  if (typeof req.addr !== 'string') throw new Error('missing "addr"')
  const ma = multiaddr(req.addr)
  if (ma.getComponents().findLast(c => c.name === 'p2p') == null) throw new Error('multiaddr must end with /p2p/<peer id>')
  const conn = await node.dial(ma, { signal })
  return { peerId: conn.remotePeer.toString(), remoteAddr: conn.remoteAddr.toString(), limited: conn.limits != null }
})

commands.register('ping', 30_000, async (req, { node, signal }) => {
  const peer = peerArg(req)
  return await pingCommand(req, async () => await node.services.ping.ping(peer, { signal }))
})

commands.register('identify', 10_000, async (req, { signal }) => {
  const r = await waitIdentify(peerArg(req), signal)
  const out: Json = {
    protocols: r.protocols,
    listenAddrs: r.listenAddrs.map(a => a.toString()),
    agentVersion: r.agentVersion ?? '',
    protocolVersion: r.protocolVersion ?? ''
  }
  if (r.observedAddr != null) out.observedAddr = r.observedAddr.toString()
  return out
})

commands.register('connections', 5_000, async (_req, { node }) => {
  return {
    peers: node.getPeers().map(p => p.toString()),
    conns: node.getConnections().map(c => ({ peer: c.remotePeer.toString(), addr: c.remoteAddr.toString(), limited: c.limits != null }))
  }
})

commands.register('hangup', 10_000, async (req, { node, signal }) => {
  const peer = peerArg(req)
  await node.hangUp(peer, { signal })
  while (node.getConnections(peer).length > 0) {
    await sleep(20, signal)
  }
  return {}
})

commands.register('stop', 5_000, async (_req, ctx) => {
  ctx.afterReply = () => { void shutdown('stop command') }
  return {}
})

commands.register('echo', 120_000, async (req, { node, signal }) => {
  const peer = peerArg(req)
  return await echoCommand(req, async (size, index) => { await echoOnce(node, peer, size, index, signal) })
})

async function echoOnce (node: Node, peer: PeerId, size: number, index: number, signal: AbortSignal): Promise<void> {
  // echo runs over relayed (limited) connections too
  const stream = await node.dialProtocol(peer, ECHO_PROTOCOL, { signal, runOnLimitedConnection: true })
  const onAbort = (): void => { stream.abort(new Error(`timed out: ${errorMessage(signal.reason)}`)) }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    const want = patternBytes(size, index)
    // start reading before writing so no echoed byte is missed
    const reading = (async () => {
      const chunks: Uint8Array[] = []
      let total = 0
      for await (const chunk of readChunks(stream)) {
        chunks.push(chunk)
        total += chunk.byteLength
      }
      return concat(chunks, total)
    })()
    const writing = (async () => {
      await sendAll(stream, want, signal)
      await stream.close({ signal })
    })()
    const [got] = await Promise.all([reading, writing])
    const mismatch = echoMismatch(got, want)
    if (mismatch != null) throw new Error(mismatch)
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

commands.register('reset', 10_000, async (req, { node, signal }) => {
  const peer = peerArg(req)
  const stream = await node.dialProtocol(peer, RESET_PROTOCOL, { signal })
  let timedOut = false
  const onAbort = (): void => { timedOut = true; stream.abort(new Error('timed out waiting for reset')) }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    try {
      stream.send(new TextEncoder().encode('reset me'))
    } catch (err) {
      // the reset may already have arrived: that counts as observing it
      return { error: `write: ${errorMessage(err)}` }
    }
    try {
      for await (const _ of readChunks(stream)) { /* discard */ }
    } catch (err) {
      if (timedOut) throw new Error('no reset observed before timeout')
      return { error: errorMessage(err) }
    }
    if (timedOut) throw new Error('no reset observed before timeout')
    throw new Error(`stream ended cleanly (status ${stream.status}) instead of being reset`)
  } finally {
    signal.removeEventListener('abort', onAbort)
    if (stream.status === 'open') stream.abort(new Error('reset command done'))
  }
})

commands.register('perf', 120_000, async (req, { node, signal }) => {
  const peer = peerArg(req)
  const upload = typeof req.upload === 'number' ? req.upload : 0
  const download = typeof req.download === 'number' ? req.download : 0
  if (!Number.isSafeInteger(upload) || upload < 0 || !Number.isSafeInteger(download) || download < 0) {
    throw new Error('"upload" and "download" must be integers >= 0')
  }
  const stream = await node.dialProtocol(peer, PERF_PROTOCOL, { signal })
  const onAbort = (): void => { stream.abort(new Error(`timed out: ${errorMessage(signal.reason)}`)) }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    // read alongside writing, so nothing the server sends is missed
    const reading = (async () => {
      let total = 0
      for await (const chunk of readChunks(stream)) total += chunk.byteLength
      return total
    })()
    const writing = (async () => {
      stream.send(encodePerfRequest(download))
      const sent = await sendZeros(stream, upload, signal)
      await stream.close({ signal })
      return sent
    })()
    const [downloaded, uploaded] = await Promise.all([reading, writing])
    if (downloaded !== download) throw new Error(`perf server sent ${downloaded} bytes, asked for ${download}`)
    return { uploaded, downloaded }
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
})

// ---------------------------------------------------------------- pubsub --

/** The part of @libp2p/gossipsub and @libp2p/floodsub the commands use. */
interface PubSubService {
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  publish(topic: string, data: Uint8Array): Promise<{ recipients: PeerId[] }>
  getSubscribers(topic: string): PeerId[]
  addEventListener(type: 'message', listener: (evt: CustomEvent<any>) => void): void
}

/** go-libp2p-pubsub's default message id: the author's peer id bytes || the 8-byte seqno. */
function goMessageId (msg: any): Uint8Array {
  if (msg.type !== 'signed') throw new Error('unsigned message: no author id')
  const from: Uint8Array = msg.from.toMultihash().bytes
  const out = new Uint8Array(from.byteLength + 8)
  out.set(from, 0)
  new DataView(out.buffer).setBigUint64(from.byteLength, BigInt(msg.sequenceNumber), false)
  return out
}

let pubsubWatched = false

function pubsubOf (node: Node): PubSubService {
  const ps = node.services.pubsub
  if (ps == null) throw new Error('pubsub is not enabled (start with --pubsub)')
  if (!pubsubWatched) {
    pubsubWatched = true
    ps.addEventListener('message', (evt) => {
      const m = evt.detail
      emitEvent('pubsub:message', {
        topic: m.topic,
        from: m.type === 'signed' ? m.from.toString() : '',
        seqno: m.type === 'signed' ? BigInt(m.sequenceNumber).toString(16).padStart(16, '0') : '',
        data: Buffer.from(m.data).toString('base64')
      })
    })
  }
  return ps
}

function topicArg (req: Request): string {
  if (typeof req.topic !== 'string' || req.topic === '') throw new Error('missing "topic"')
  return req.topic
}

commands.register('pubsub.subscribe', 10_000, async (req, { node }) => {
  pubsubOf(node).subscribe(topicArg(req))
  return {}
})

commands.register('pubsub.unsubscribe', 10_000, async (req, { node }) => {
  pubsubOf(node).unsubscribe(topicArg(req))
  return {}
})

commands.register('pubsub.publish', 30_000, async (req, { node }) => {
  const topic = topicArg(req)
  if (typeof req.data !== 'string') throw new Error('missing "data" (base64)')
  const res = await pubsubOf(node).publish(topic, Uint8Array.from(Buffer.from(req.data, 'base64')))
  return { recipients: res.recipients.length }
})

commands.register('pubsub.peers', 5_000, async (req, { node }) => {
  return { peers: pubsubOf(node).getSubscribers(topicArg(req)).map(p => p.toString()) }
})

// ------------------------------------------------------------------- dht --
// Kademlia DHT commands (interop/README.md); keys and values are base64.

function dhtOf (node: Node): any {
  const dht = (node.services as Record<string, any>).dht
  if (dht == null) throw new Error('the DHT is not running (start the peer with --dht server|client)')
  return dht
}

function b64Arg (req: Request, field: string): Uint8Array {
  const v = req[field]
  if (typeof v !== 'string') throw new Error(`missing "${field}" (base64)`)
  return Uint8Array.from(Buffer.from(v, 'base64'))
}

function cidArg (req: Request): CID {
  if (typeof req.cid !== 'string') throw new Error('missing "cid"')
  return CID.parse(req.cid)
}

function peerInfoJson (p: { id: PeerId, multiaddrs: Array<{ toString(): string }> }): Json {
  return { peerId: p.id.toString(), addrs: p.multiaddrs.map(a => a.toString()) }
}

commands.register('dht.findPeer', 60_000, async (req, { node, signal }) => {
  const target = peerArg(req)
  for await (const evt of dhtOf(node).findPeer(target, { signal })) {
    if (evt.name === 'FINAL_PEER' && evt.peer.id.equals(target)) return peerInfoJson(evt.peer)
  }
  throw new Error(`peer ${target.toString()} not found`)
})

commands.register('dht.getClosestPeers', 60_000, async (req, { node, signal }) => {
  const peers: string[] = []
  for await (const evt of dhtOf(node).getClosestPeers(b64Arg(req, 'key'), { signal })) {
    if (evt.name === 'FINAL_PEER') peers.push(evt.peer.id.toString())
  }
  return { peers }
})

commands.register('dht.put', 60_000, async (req, { node, signal }) => {
  for await (const _ of dhtOf(node).put(b64Arg(req, 'key'), b64Arg(req, 'value'), { signal })) { /* drain */ }
  return {}
})

commands.register('dht.get', 60_000, async (req, { node, signal }) => {
  for await (const evt of dhtOf(node).get(b64Arg(req, 'key'), { signal })) {
    if (evt.name === 'VALUE') return { value: Buffer.from(evt.value).toString('base64') }
  }
  throw new Error('no value found')
})

commands.register('dht.provide', 60_000, async (req, { node, signal }) => {
  for await (const _ of dhtOf(node).provide(cidArg(req), { signal })) { /* drain */ }
  return {}
})

commands.register('dht.findProviders', 60_000, async (req, { node, signal }) => {
  const count = typeof req.count === 'number' && req.count > 0 ? req.count : 20
  const seen = new Map<string, Json>()
  for await (const evt of dhtOf(node).findProviders(cidArg(req), { signal })) {
    if (evt.name !== 'PROVIDER') continue
    for (const p of evt.providers) seen.set(p.id.toString(), peerInfoJson(p))
    if (seen.size >= count) break
  }
  return { providers: [...seen.values()] }
})

commands.register('dht.bootstrap', 60_000, async (_req, { node, signal }) => {
  const dht = dhtOf(node)
  await dht.refreshRoutingTable({ signal })
  return { size: dht.routingTable.size }
})

commands.register('dht.routingTable', 5_000, async (_req, { node }) => {
  const peers: string[] = []
  for (const bucket of dhtOf(node).routingTable.kb?.toIterable?.() ?? []) peers.push(bucket.peerId.toString())
  return { peers }
})

// ------------------------------------------------------------- lifecycle --

let nodeRef: Node | undefined
let stopping: Promise<void> | undefined

function shutdown (why: string): Promise<void> {
  stopping ??= (async () => {
    log(`stopping (${why})`)
    stopController.abort(new Error('node stopping'))
    const timer = setTimeout(() => {
      log('node.stop() timed out, exiting anyway')
      process.exit(0)
    }, STOP_TIMEOUT_MS)
    try {
      await nodeRef?.stop()
    } catch (err) {
      log('error while stopping node:', err)
    }
    clearTimeout(timer)
    process.exit(0)
  })()
  return stopping
}

/** Waits (bounded) until we advertise a /p2p-circuit address on `count` relays. */
async function untilRelayed (node: Node, count: number): Promise<void> {
  const enough = (): boolean => node.getMultiaddrs().filter(a => a.toString().includes('/p2p-circuit')).length >= count
  if (enough()) return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error('no relay reservation within 30 s')) }, 30_000)
    const check = (): void => { if (enough()) { cleanup(); resolve() } }
    const cleanup = (): void => { clearTimeout(timer); node.removeEventListener('self:peer:update', check) }
    node.addEventListener('self:peer:update', check)
  })
}

async function main (): Promise<void> {
  let cfg: Config
  try {
    cfg = parseArgs(process.argv.slice(2))
  } catch (err) {
    log(`error: ${errorMessage(err)}`)
    process.exit(2)
  }

  process.on('SIGINT', () => { void shutdown('SIGINT') })
  process.on('SIGTERM', () => { void shutdown('SIGTERM') })
  process.on('unhandledRejection', (err) => { log('unhandled rejection:', err) })

  const node = await createNode(cfg)
  nodeRef = node
  watchEvents(node)
  await setupHandlers(node, cfg)
  await node.start()
  // js only turns server mode on by itself once it has a public address
  if (cfg.dht === 'server') await dhtOf(node).setMode('server')
  if (cfg.relays.length > 0) await untilRelayed(node, cfg.relays.length)

  emitEvent('ready', {
    peerId: node.peerId.toString(),
    addrs: node.getMultiaddrs().map(a => a.toString())
  })

  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false })
  rl.on('line', (line) => {
    if (line.trim() === '') return
    void commands.dispatch(node, line)
  })
  rl.on('close', () => { void shutdown('stdin closed') })
}

main().catch((err) => {
  log('fatal:', err)
  process.exit(1)
})
