/**
 * The p2pd-compatible control server: serves go-libp2p-daemon's control protocol (specs/
 * CONTROL.md) for one libp2p node over a local socket.
 *
 * Contract, as p2pd's conn.go loop: a control connection carries requests one after another
 * until a STREAM_OPEN succeeds (the socket then becomes the stream) or the client closes. Unlike
 * p2pd, an unknown or malformed request gets `Response{ERROR}` (p2pd just closes), every request
 * read has a size limit and an idle timeout, and streams carry half-close through.
 *
 * STREAM_HANDLER stores `protocol -> client address` (overwriting, as p2pd) and, for every
 * inbound stream, dials the client's address, writes one bare varint-delimited StreamInfo and
 * then pipes bytes.
 */
import type { Server, Socket } from 'node:net'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from '../interface/libp2p.ts'
import type { ByteStream, Stream } from '../interface/stream.ts'
import type { Connection } from '../interface/connection.ts'
import { peerIdFromMultihash } from '../peer/peer-id.ts'
import { StreamReader, encodeLP } from '../util/stream-reader.ts'
import { logger } from '../util/logger.ts'
import { isRelayed, withoutPeerId } from '../util/multiaddr.ts'
import { dialLocal, listenLocal, wrapSocket } from './local-socket.ts'
import { pipeBoth } from './pipe.ts'
import {
  ConnManagerRequestType, MAX_CONTROL_MESSAGE_SIZE, RequestType, ResponseType, decodeRequest, encodeResponse, encodeStreamInfo,
  type PeerInfo, type Request, type Response
} from './messages.ts'
import { handleExtraRequest, type ExtraRequestResult } from './extra-requests.ts'
import { withDeadline } from '../util/deadline.ts'
import { unrefTimeout } from '../util/timers.ts'
import { decodeVarint } from '../util/varint.ts'
import { DaemonConnectionManager, GO_DEFAULT_WATERMARKS, type Watermarks } from './conn-manager.ts'
import { DaemonNotifier } from './notifications.ts'
import { DEFAULT_CONTROL_LIMITS, IncompleteRequestError, writeControl, type ControlLimits } from './control-limits.ts'

const log = logger('ts-libp2p:daemon')

/** p2pd's default for requests that carry no timeout (seconds on the wire). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000
/** p2pd bounds TRIM with a 60 s context. */
export const TRIM_TIMEOUT_MS = 60_000
/** Concurrent control connections; more are refused at accept. */
export const MAX_CONTROL_CONNECTIONS = 1024

export interface DaemonServerOptions {
  /** Where to listen: `/unix/PATH` or `/ip4/127.0.0.1/tcp/PORT`. */
  listen: Multiaddr
  /**
   * CONNMANAGER's watermarks (`-connManager -connLo -connHi -connGrace`); without them go-libp2p's
   * default manager's (160/192/1 min), which p2pd runs when -connManager is not given.
   */
  watermarks?: Watermarks
  /** Time limits against stalling clients (control-limits.ts); the defaults unless given. */
  limits?: Partial<ControlLimits>
  /** Called with the reason whenever a control connection ends in an error (observability). */
  onControlError?: (err: Error) => void
}

/** True when `chunk` starts with a complete varint-delimited frame. */
function holdsWholeFrame (chunk: Uint8Array): boolean {
  const prefix = decodeVarint(chunk, 0)
  return prefix !== undefined && prefix[1] + prefix[0] <= chunk.length
}

export function requestTimeoutMs (seconds: number | undefined): number {
  if (seconds === undefined || seconds <= 0) return DEFAULT_REQUEST_TIMEOUT_MS
  return Math.min(seconds, 24 * 3600) * 1000
}

export function errorResponse (msg: string): Response {
  return { type: ResponseType.ERROR, error: { msg } }
}

const OK: Response = { type: ResponseType.OK }

export class DaemonServer {
  readonly node: Libp2p
  #server: Server | undefined
  #addr: Multiaddr
  readonly #sockets = new Set<Socket>()
  /** protocol -> the client address inbound streams of it are dialed to. */
  readonly #handlers = new Map<string, Multiaddr>()
  readonly connManager: DaemonConnectionManager
  readonly notifier: DaemonNotifier
  readonly limits: ControlLimits
  readonly #onControlError: ((err: Error) => void) | undefined

  constructor (node: Libp2p, options: DaemonServerOptions) {
    this.node = node
    this.limits = { ...DEFAULT_CONTROL_LIMITS, ...options.limits }
    this.#onControlError = options.onControlError
    this.#addr = options.listen
    this.connManager = new DaemonConnectionManager(node, options.watermarks ?? GO_DEFAULT_WATERMARKS)
    this.notifier = new DaemonNotifier(node)
  }

  /** The control address actually bound (real port when 0 was asked). */
  get listenAddr (): Multiaddr { return this.#addr }

  async start (): Promise<void> {
    const { server, addr } = await listenLocal(this.#addr, socket => { this.#accept(socket) })
    this.#server = server
    this.#addr = addr
    this.connManager.start()
    this.notifier.start()
  }

  async stop (): Promise<void> {
    this.connManager.stop()
    this.notifier.stop()
    const server = this.#server
    this.#server = undefined
    for (const socket of this.#sockets) socket.destroy()
    if (server !== undefined) await new Promise<void>(resolve => server.close(() => { resolve() }))
  }

  #accept (socket: Socket): void {
    if (this.#sockets.size >= MAX_CONTROL_CONNECTIONS) { socket.destroy(); return }
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
    const control = wrapSocket(socket, this.#addr, 'inbound')
    this.#serve(control).catch((err: Error) => {
      log('control connection ended: %s', err.message)
      control.abort(err)
      this.#onControlError?.(err)
    })
  }

  async #serve (control: ByteStream): Promise<void> {
    const reader = new StreamReader(control)
    const { idleTimeoutMs, frameTimeoutMs, writeStallTimeoutMs } = this.limits
    const reply = async (response: Response): Promise<void> => { await writeControl(control, encodeLP(encodeResponse(response)), writeStallTimeoutMs) }
    for (;;) {
      // the whole request already in the first chunk (the usual case) needs no frame deadline
      let whole = false
      if (reader.buffered === 0) {
        // between requests a client may stay silent for long; once a request begins, the rest
        // of it must follow within the (much shorter) frame timeout. (A plain timer here, not a
        // Deadline: its AbortController was a tenth of a control round trip's CPU.)
        const idle = unrefTimeout(() => { control.abort(new Error('the control connection was idle too long')) }, idleTimeoutMs)
        let first: Uint8Array | null
        try {
          first = await control.read()
        } catch {
          return
        } finally {
          clearTimeout(idle)
        }
        if (first === null) { await control.close(); return }
        control.unshift(first)
        whole = holdsWholeFrame(first)
      }
      let bytes: Uint8Array | null
      try {
        bytes = whole
          ? await reader.readLP({ maxLength: MAX_CONTROL_MESSAGE_SIZE })
          : await withDeadline(frameTimeoutMs, undefined, undefined, async signal => await reader.readLP({ maxLength: MAX_CONTROL_MESSAGE_SIZE, signal }))
      } catch (err) {
        // oversized, truncated or stalled: say why, then drop the connection (the framing is lost)
        const reason = (err as Error).name === 'TimeoutError' ? new IncompleteRequestError(`the request did not arrive whole within ${frameTimeoutMs} ms`) : err as Error
        await reply(errorResponse(reason.message)).catch(() => {})
        await control.close().catch(() => {})
        return
      }
      if (bytes === null) { await control.close(); return }
      let request: Request
      try {
        request = decodeRequest(bytes)
      } catch (err) {
        await reply(errorResponse(`malformed request: ${(err as Error).message}`))
        continue
      }
      if (request.type === RequestType.STREAM_OPEN) {
        const stream = await this.#openStream(request, control)
        if (stream === undefined) continue
        reader.release()
        await pipeBoth(control, stream)
        return
      }
      const result = await this.#handle(request, control)
      if (result === 'taken-over') return
      await reply(result)
    }
  }

  async #handle (request: Request, control: ByteStream): Promise<Response | 'taken-over'> {
    try {
      switch (request.type) {
        case RequestType.IDENTIFY:
          return { type: ResponseType.OK, identify: { id: this.node.peerId.bytes, addrs: this.node.getMultiaddrs().map(a => withoutPeerId(a).bytes) } }
        case RequestType.CONNECT: return await this.#connect(request)
        case RequestType.STREAM_HANDLER: return await this.#registerHandler(request)
        case RequestType.LIST_PEERS: return { type: ResponseType.OK, peers: this.#listPeers() }
        case RequestType.DISCONNECT: {
          if (request.disconnect === undefined) return errorResponse('DISCONNECT without a disconnect field')
          await this.node.hangUp(peerIdFromMultihash(request.disconnect.peer))
          return OK
        }
        case RequestType.CONNMANAGER: return await this.#connManagerRequest(request)
        case RequestType.NOTIFY:
          await this.notifier.serve(control, request.notify ?? { types: [] })
          return 'taken-over'
        default: {
          const result: ExtraRequestResult = await handleExtraRequest(this.node, request, control, this.limits.writeStallTimeoutMs)
          return result ?? errorResponse(`unknown request type ${request.type}`)
        }
      }
    } catch (err) {
      return errorResponse((err as Error).message)
    }
  }

  /** As p2pd's connmgr.go: tags need a non-empty name; TRIM is bounded by 60 s. */
  async #connManagerRequest (request: Request): Promise<Response> {
    const c = request.connManager
    if (c === undefined) return errorResponse('Malformed request; missing parameters')
    if (c.type === ConnManagerRequestType.TRIM) {
      await withDeadline(TRIM_TIMEOUT_MS, undefined, 'TRIM timed out', async signal => await this.connManager.trim(signal))
      return OK
    }
    if (c.type !== ConnManagerRequestType.TAG_PEER && c.type !== ConnManagerRequestType.UNTAG_PEER) return errorResponse(`unknown CONNMANAGER request type ${c.type}`)
    if (c.peer === undefined) return errorResponse('Malformed request; missing peer parameter')
    const peer = peerIdFromMultihash(c.peer)
    if (c.tag === undefined || c.tag === '') return errorResponse('Malformed request; missing tag parameter')
    if (c.type === ConnManagerRequestType.TAG_PEER) await this.connManager.tagPeer(peer, c.tag, c.weight ?? 0)
    else await this.connManager.untagPeer(peer, c.tag)
    return OK
  }

  async #connect (request: Request): Promise<Response> {
    const c = request.connect
    if (c === undefined) return errorResponse('CONNECT without a connect field')
    const peer = peerIdFromMultihash(c.peer)
    // a circuit address as IDENTIFY gives it (`<relay>/p2p-circuit`, no /p2p of the target, as
    // p2pd's) names its target only through CONNECT's peer: the circuit transport needs it
    const addrs = c.addrs.map(a => multiaddr(a)).map(a => isRelayed(a) && a.toString().endsWith('/p2p-circuit') ? a.encapsulate(`/p2p/${peer.toString()}`) : a)
    if (addrs.length > 0) await this.node.peerStore.merge(peer, { multiaddrs: addrs })
    await withDeadline(requestTimeoutMs(c.timeout), undefined, 'CONNECT timed out', async signal => await this.node.dial(peer, { signal }))
    return OK
  }

  /** Opens the stream and answers; undefined (after an error response) when it failed. */
  async #openStream (request: Request, control: ByteStream): Promise<Stream | undefined> {
    const s = request.streamOpen
    let stream: Stream
    let connection: Connection | undefined
    try {
      if (s === undefined || s.proto.length === 0) throw new Error('STREAM_OPEN needs a peer and at least one protocol')
      const peer = peerIdFromMultihash(s.peer)
      stream = await withDeadline(requestTimeoutMs(s.timeout), undefined, 'STREAM_OPEN timed out', async signal => await this.node.dialProtocol(peer, s.proto, { signal, runOnLimitedConnection: true }))
      connection = this.node.getConnections(peer).find(c => c.streams.includes(stream))
    } catch (err) {
      await writeControl(control, encodeLP(encodeResponse(errorResponse((err as Error).message))), this.limits.writeStallTimeoutMs)
      return undefined
    }
    const streamInfo = { peer: s.peer, addr: connection?.remoteAddr.bytes ?? new Uint8Array(0), proto: stream.protocol }
    if (connection !== undefined) this.notifier.streamOpened(connection, stream.protocol, 'outbound')
    try {
      await writeControl(control, encodeLP(encodeResponse({ type: ResponseType.OK, streamInfo })), this.limits.writeStallTimeoutMs)
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
    return stream
  }

  async #registerHandler (request: Request): Promise<Response> {
    const h = request.streamHandler
    if (h === undefined || h.proto.length === 0) return errorResponse('STREAM_HANDLER needs an address and at least one protocol')
    const addr = multiaddr(h.addr)
    for (const proto of h.proto) {
      const known = this.#handlers.has(proto)
      this.#handlers.set(proto, addr)
      if (known) continue
      // as p2pd's SetStreamHandler, the client's handler replaces one the node had (e.g. echo)
      if (this.node.getProtocols().includes(proto)) await this.node.unhandle(proto)
      await this.node.handle(proto, (stream, connection) => { this.#forwardInbound(proto, stream, connection) }, { runOnLimitedConnection: true })
    }
    return OK
  }

  #forwardInbound (proto: string, stream: Stream, connection: Connection): void {
    const addr = this.#handlers.get(proto)
    if (addr === undefined) { stream.abort(new Error(`no handler for ${proto}`)); return }
    const info = encodeStreamInfo({ peer: connection.remotePeer.bytes, addr: connection.remoteAddr.bytes, proto: stream.protocol })
    this.notifier.streamOpened(connection, stream.protocol, 'inbound')
    dialLocal(addr).then(async (local) => {
      await local.write(encodeLP(info))
      await pipeBoth(local, stream)
    }).catch((err: Error) => {
      log('handler %s at %s unreachable: %s', proto, addr.toString(), err.message)
      stream.abort(err)
    })
  }

  #listPeers (): PeerInfo[] {
    // one entry per connection, as p2pd
    return this.node.getConnections().map(c => ({ id: c.remotePeer.bytes, addrs: [c.remoteAddr.bytes] }))
  }
}
