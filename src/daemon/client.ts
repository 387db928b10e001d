/**
 * `ts-libp2p/daemon-client`: a TypeScript client of the p2pd control protocol, for our daemon
 * or go's p2pd. One control connection per request (what every daemon accepts); a stream
 * opened with `openStream` is that connection itself after the response.
 *
 * Unlike the npm @libp2p/daemon-client, a handler registered with `registerStreamHandler` keeps
 * serving every inbound stream until `close()`: the client listens on one local socket and
 * reads the StreamInfo the daemon writes first on each dialed-back connection.
 */
import type { Server } from 'node:net'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { ByteStream } from '../interface/stream.ts'
import type { PeerId } from '../interface/peer-id.ts'
import { peerIdFromMultihash } from '../peer/peer-id.ts'
import { StreamReader, encodeLP } from '../util/stream-reader.ts'
import { Libp2pError, UnexpectedEOFError } from '../util/errors.ts'
import { dialLocal, listenLocal, wrapSocket } from './local-socket.ts'
import {
  MAX_CONTROL_MESSAGE_SIZE, RequestType, ResponseType, decodeResponse, decodeStreamInfo, encodeRequest,
  type Request, type Response, type StreamInfo
} from './messages.ts'

/** The daemon answered `Response{ERROR}`; `message` is its error text. */
export class DaemonRequestError extends Libp2pError {
  static readonly code = 'ERR_DAEMON_REQUEST'
  constructor (message: string = 'The daemon refused the request', options?: ErrorOptions) {
    super(message, DaemonRequestError.code, options)
    this.name = 'DaemonRequestError'
  }
}

export interface InboundStreamInfo { peer: PeerId, addr: Multiaddr, protocol: string }
export type DaemonStreamHandler = (stream: ByteStream, info: InboundStreamInfo) => void

export interface PeerAddrs { id: PeerId, addrs: Multiaddr[] }

const STREAM_INFO_TIMEOUT_MS = 10_000

export class DaemonClient {
  readonly controlAddr: Multiaddr
  readonly #listeners: Server[] = []

  constructor (controlAddr: Multiaddr | string) {
    this.controlAddr = typeof controlAddr === 'string' ? multiaddr(controlAddr) : controlAddr
  }

  /** Sends one request on a new control connection; returns the response and the connection. */
  async #request (request: Request, signal?: AbortSignal): Promise<{ response: Response, control: ByteStream }> {
    const control = await dialLocal(this.controlAddr, signal)
    try {
      await control.write(encodeLP(encodeRequest(request)))
      const reader = new StreamReader(control)
      const bytes = await reader.readLP({ maxLength: MAX_CONTROL_MESSAGE_SIZE, signal })
      // bytes past the response belong to the stream (STREAM_OPEN): hand them back
      reader.release()
      if (bytes === null) throw new UnexpectedEOFError('the daemon closed the control connection without a response')
      const response = decodeResponse(bytes)
      if (response.type !== ResponseType.OK) throw new DaemonRequestError(response.error?.msg ?? 'unknown daemon error')
      return { response, control }
    } catch (err) {
      control.abort(err as Error)
      throw err
    }
  }

  async #call (request: Request, signal?: AbortSignal): Promise<Response> {
    const { response, control } = await this.#request(request, signal)
    await control.close()
    return response
  }

  async identify (): Promise<PeerAddrs> {
    const r = await this.#call({ type: RequestType.IDENTIFY })
    if (r.identify === undefined) throw new DaemonRequestError('IDENTIFY response without identify')
    return { id: peerIdFromMultihash(r.identify.id), addrs: r.identify.addrs.map(a => multiaddr(a)) }
  }

  async connect (peer: PeerId, addrs: Multiaddr[], options: { timeoutSeconds?: number } = {}): Promise<void> {
    await this.#call({ type: RequestType.CONNECT, connect: { peer: peer.bytes, addrs: addrs.map(a => a.bytes), timeout: options.timeoutSeconds } })
  }

  async disconnect (peer: PeerId): Promise<void> {
    await this.#call({ type: RequestType.DISCONNECT, disconnect: { peer: peer.bytes } })
  }

  /** One entry per connection (p2pd's shape). */
  async listPeers (): Promise<PeerAddrs[]> {
    const r = await this.#call({ type: RequestType.LIST_PEERS })
    return (r.peers ?? []).map(p => ({ id: peerIdFromMultihash(p.id), addrs: p.addrs.map(a => multiaddr(a)) }))
  }

  /** Opens a stream to `peer`; the returned stream is the control connection itself. */
  async openStream (peer: PeerId, protocols: string[], options: { timeoutSeconds?: number } = {}): Promise<{ stream: ByteStream, info: InboundStreamInfo }> {
    const { response, control } = await this.#request({ type: RequestType.STREAM_OPEN, streamOpen: { peer: peer.bytes, proto: protocols, timeout: options.timeoutSeconds } })
    if (response.streamInfo === undefined) { control.abort(new DaemonRequestError('STREAM_OPEN response without streamInfo')); throw new DaemonRequestError('STREAM_OPEN response without streamInfo') }
    return { stream: control, info: toInfo(response.streamInfo) }
  }

  /**
   * Listens on `listen` (default a fresh 127.0.0.1 port) and asks the daemon to send every
   * inbound stream of `protocols` there; `handler` gets each one.
   */
  async registerStreamHandler (protocols: string[], handler: DaemonStreamHandler, listen: Multiaddr = multiaddr('/ip4/127.0.0.1/tcp/0')): Promise<Multiaddr> {
    const { server, addr } = await listenLocal(listen, (socket) => {
      const stream = wrapSocket(socket, addr, 'inbound')
      const reader = new StreamReader(stream)
      reader.readLP({ maxLength: MAX_CONTROL_MESSAGE_SIZE, signal: AbortSignal.timeout(STREAM_INFO_TIMEOUT_MS) }).then((bytes) => {
        reader.release()
        if (bytes === null) throw new UnexpectedEOFError('daemon closed before the StreamInfo')
        handler(stream, toInfo(decodeStreamInfo(bytes)))
      }).catch((err: Error) => { stream.abort(err) })
    })
    this.#listeners.push(server)
    try {
      await this.#call({ type: RequestType.STREAM_HANDLER, streamHandler: { addr: addr.bytes, proto: protocols } })
    } catch (err) {
      server.close()
      throw err
    }
    return addr
  }

  /** Stops every stream handler listener. */
  async close (): Promise<void> {
    await Promise.all(this.#listeners.splice(0).map(async s => { await new Promise<void>(resolve => s.close(() => { resolve() })) }))
  }
}

function toInfo (s: StreamInfo): InboundStreamInfo {
  return { peer: peerIdFromMultihash(s.peer), addr: multiaddr(s.addr), protocol: s.proto }
}
