/**
 * ts-libp2p interop test peer: our own node behind the same JSON-lines control contract as
 * interop/js-peer and interop/go-peer (interop/README.md), so a test can drive ts-libp2p and a
 * reference implementation symmetrically, each in its own process.
 *
 * One difference on purpose: after `stop` (or stdin closing, SIGTERM, SIGINT) the process does
 * not call process.exit. It stops the node, lets go of stdin and waits for the event loop to
 * empty. A node that leaks a socket, server or timer keeps the loop alive; then, after
 * LEAK_GRACE_MS, the peer prints what is still active to stderr and exits with code 3. So an
 * exit code of 0 proves the stopped node left nothing behind.
 *
 *   node interop/ts-peer/peer.ts --listen /ip4/127.0.0.1/tcp/0 --muxer mplex
 */
import { createInterface } from 'node:readline'
import type { Interface } from 'node:readline'
import { createLibp2p, generateKeyPair, generateKeyPairFromSeed, multiaddr, peerIdFromString } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { mplex } from '../../src/muxer/mplex/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { tls } from '../../src/security/tls/index.ts'
import { preSharedKey } from '../../src/security/pnet/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import type { IdentifyResult, Libp2p, PeerId, Stream } from '../../src/index.ts'
import type { IdentifyService } from '../../src/protocols/identify/index.ts'
import type { PingService } from '../../src/protocols/ping/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { Commands, echoCommand, echoMismatch, emitEvent, errorMessage, parsePeerFlags, patternBytes, pingCommand, stderrLog, type Json, type PeerFlags, type Request } from '../line-contract.ts'

const ECHO_PROTOCOL = '/echo/1.0.0'
const RESET_PROTOCOL = '/test/reset/1.0.0'
const MAX_STREAMS_PER_PROTOCOL = 1024
const INBOUND_STREAM_TIMEOUT_MS = 120_000
const STOP_TIMEOUT_MS = 5_000
/** How long a stopped peer may take to exit on its own before it counts as leaking. */
const LEAK_GRACE_MS = 3_000
const WRITE_CHUNK = 64 * 1024

type Node = Libp2p<{ identify: IdentifyService, ping: PingService }>

const log = stderrLog('ts-peer')

type Config = PeerFlags

// -------------------------------------------------------------- handlers --

async function serveEcho (stream: Stream, remote: string): Promise<void> {
  let total = 0
  try {
    for (;;) {
      const chunk = await stream.read({ signal: AbortSignal.timeout(INBOUND_STREAM_TIMEOUT_MS) })
      if (chunk === null) break
      total += chunk.length
      if (!stream.send(chunk)) await stream.drain({ signal: AbortSignal.timeout(INBOUND_STREAM_TIMEOUT_MS) })
    }
    await stream.closeWrite({ signal: AbortSignal.timeout(INBOUND_STREAM_TIMEOUT_MS) })
    emitEvent('echo:done', { peerId: remote, bytes: total })
  } catch (err) {
    log(`echo stream from ${remote} failed after ${total} bytes:`, err)
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    emitEvent('echo:error', { peerId: remote, bytes: total, error: errorMessage(err) })
  }
}

async function serveReset (stream: Stream): Promise<void> {
  try {
    for (;;) {
      const chunk = await stream.read({ signal: AbortSignal.timeout(INBOUND_STREAM_TIMEOUT_MS) })
      if (chunk === null || chunk.length > 0) break
    }
  } catch (err) {
    log('reset stream: read failed before reset:', err)
  }
  stream.abort(new Error('reset by /test/reset/1.0.0 handler'))
}

// -------------------------------------------------------------- commands --

const stopController = new AbortController()
const commands = new Commands<Node>(log, stopController.signal)
const identified = new Map<string, IdentifyResult>()
const identifyWaiters = new Set<() => void>()

function peerArg (req: Request): PeerId {
  if (typeof req.peer !== 'string' || req.peer === '') throw new Error('missing "peer"')
  try {
    return peerIdFromString(req.peer)
  } catch (err) {
    throw new Error(`bad peer id ${JSON.stringify(req.peer)}: ${errorMessage(err)}`)
  }
}

/** Resolves when `check` returns a value; re-checked whenever `waiters` are woken. */
async function waitFor<T> (waiters: Set<() => void>, check: () => T | undefined, signal: AbortSignal, what: string): Promise<T> {
  for (;;) {
    const value = check()
    if (value !== undefined) return value
    signal.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const wake = (): void => { cleanup(); resolve() }
      const onAbort = (): void => { cleanup(); reject(new Error(`${what}: ${errorMessage(signal.reason)}`)) }
      const cleanup = (): void => { waiters.delete(wake); signal.removeEventListener('abort', onAbort) }
      waiters.add(wake)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }
}

const disconnectWaiters = new Set<() => void>()

commands.register('dial', 30_000, async (req, { node, signal }) => {
  if (typeof req.addr !== 'string') throw new Error('missing "addr"')
  const addr = multiaddr(req.addr)
  if (addr.getComponents().findLast(c => c.name === 'p2p') === undefined) throw new Error('multiaddr must end with /p2p/<peer id>')
  const connection = await node.dial(addr, { signal })
  return { peerId: connection.remotePeer.toString() }
})

commands.register('ping', 30_000, async (req, { node, signal }) => {
  const peer = peerArg(req)
  return await pingCommand(req, async () => await node.services.ping.ping(peer, { signal }))
})

commands.register('identify', 10_000, async (req, { signal }) => {
  const key = peerArg(req).toString()
  const r = await waitFor(identifyWaiters, () => identified.get(key), signal, `identify with ${key} did not complete`)
  const out: Json = {
    protocols: r.protocols,
    listenAddrs: r.listenAddrs.map(String),
    agentVersion: r.agentVersion ?? '',
    protocolVersion: r.protocolVersion ?? ''
  }
  if (r.observedAddr !== undefined) out.observedAddr = r.observedAddr.toString()
  return out
})

commands.register('connections', 5_000, async (_req, { node }) => ({ peers: node.getPeers().map(String) }))

commands.register('hangup', 10_000, async (req, { node, signal }) => {
  const peer = peerArg(req)
  await node.hangUp(peer, { signal })
  // hangUp aborts the connections when the signal fires: that is not a graceful hang-up
  if (signal.aborted) throw new Error(`hang-up did not finish gracefully in time: ${errorMessage(signal.reason)}`)
  await waitFor(disconnectWaiters, () => node.getConnections(peer).length === 0 ? true : undefined, signal, 'connections did not close')
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
  const stream = await node.dialProtocol(peer, ECHO_PROTOCOL, { signal, maxOutboundStreams: MAX_STREAMS_PER_PROTOCOL })
  const want = patternBytes(size, index)
  const got = new Uint8Array(size)
  let received = 0
  const reading = (async () => {
    for (;;) {
      const chunk = await stream.read({ signal })
      if (chunk === null) return
      if (chunk.length > size - received) throw new Error(`echo returned more than the ${size} bytes sent`)
      got.set(chunk, received)
      received += chunk.length
    }
  })()
  try {
    for (let offset = 0; offset < size; offset += WRITE_CHUNK) {
      if (!stream.send(want.subarray(offset, offset + WRITE_CHUNK))) await stream.drain({ signal })
    }
    await stream.closeWrite({ signal })
    await reading
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    await reading.catch(() => {})
    throw err
  }
  const problem = echoMismatch(got.subarray(0, received), want)
  if (problem !== undefined) throw new Error(problem)
}

commands.register('reset', 10_000, async (req, { node, signal }) => {
  const stream = await node.dialProtocol(peerArg(req), RESET_PROTOCOL, { signal })
  try {
    try {
      stream.send(new TextEncoder().encode('reset me'))
    } catch (err) {
      return { error: `write: ${errorMessage(err)}` }
    }
    try {
      while (await stream.read({ signal }) !== null) { /* discard */ }
    } catch (err) {
      if (signal.aborted) throw new Error('no reset observed before timeout')
      return { error: errorMessage(err) }
    }
    throw new Error(`stream ended cleanly (status ${stream.status}) instead of being reset`)
  } finally {
    if (stream.status === 'open') stream.abort(new Error('reset command done'))
  }
})

// ------------------------------------------------------------- lifecycle --

let nodeRef: Node | undefined
let lineReader: Interface | undefined
let stopping: Promise<void> | undefined

function shutdown (why: string): Promise<void> {
  stopping ??= (async () => {
    log(`stopping (${why})`)
    stopController.abort(new Error('node stopping'))
    lineReader?.close()
    process.stdin.destroy()
    const stuck = setTimeout(() => { log('node.stop() did not finish; exiting'); process.exit(1) }, STOP_TIMEOUT_MS)
    try {
      await nodeRef?.stop()
    } catch (err) {
      log('error while stopping node:', err)
    }
    clearTimeout(stuck)
    // Unref'd: it fires only if something else still holds the event loop open.
    setTimeout(() => {
      log(`still running ${LEAK_GRACE_MS} ms after stop; active resources: ${process.getActiveResourcesInfo().join(', ')}`)
      process.exit(3)
    }, LEAK_GRACE_MS).unref()
  })()
  return stopping
}

async function main (): Promise<void> {
  let cfg: Config
  try {
    cfg = parsePeerFlags(process.argv.slice(2))
  } catch (err) {
    log(`error: ${errorMessage(err)}`)
    process.exit(2)
  }
  process.on('SIGINT', () => { void shutdown('SIGINT') })
  process.on('SIGTERM', () => { void shutdown('SIGTERM') })
  process.on('unhandledRejection', (err) => { log('unhandled rejection:', err) })

  const node: Node = await createLibp2p({
    privateKey: cfg.keySeed !== undefined ? generateKeyPairFromSeed('Ed25519', cfg.keySeed) : await generateKeyPair('Ed25519'),
    nodeInfo: cfg.agent !== undefined ? { userAgent: cfg.agent } : undefined,
    addresses: { listen: cfg.listen },
    transports: [tcp()],
    connectionEncrypters: [cfg.security === 'tls' ? tls() : noise()],
    ...(cfg.psk !== undefined ? { connectionProtector: preSharedKey({ psk: cfg.psk }) } : {}),
    streamMuxers: [cfg.muxer === 'mplex' ? mplex() : yamux()],
    services: { identify: identify(), ping: ping() },
    start: false
  })
  nodeRef = node
  node.addEventListener('peer:connect', (evt) => { emitEvent('peer:connect', { peerId: evt.detail.toString() }) })
  node.addEventListener('peer:disconnect', (evt) => {
    emitEvent('peer:disconnect', { peerId: evt.detail.toString() })
    for (const wake of [...disconnectWaiters]) wake()
  })
  node.addEventListener('peer:identify', (evt) => {
    identified.set(evt.detail.peerId.toString(), evt.detail)
    for (const wake of [...identifyWaiters]) wake()
  })
  const limits = { maxInboundStreams: MAX_STREAMS_PER_PROTOCOL, maxOutboundStreams: MAX_STREAMS_PER_PROTOCOL }
  await node.handle(ECHO_PROTOCOL, async (stream, connection) => { await serveEcho(stream, connection.remotePeer.toString()) }, limits)
  await node.handle(RESET_PROTOCOL, serveReset, limits)
  await node.start()

  emitEvent('ready', { peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) })

  lineReader = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false })
  lineReader.on('line', (line) => {
    if (line.trim() !== '') void commands.dispatch(node, line)
  })
  lineReader.on('close', () => { void shutdown('stdin closed') })
}

main().catch((err) => {
  log('fatal:', err)
  process.exit(1)
})
