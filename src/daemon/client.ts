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
import { dialLocal, listenLocal, parseDaemonMultiaddr, wrapSocket } from './local-socket.ts'
import { withDeadline } from '../util/deadline.ts'
import {
  MAX_CONTROL_MESSAGE_SIZE, DHTRequestType, DHTResponseType, PSRequestType, RequestType, ResponseType, decodeDHTResponse,
  ConnManagerRequestType, decodePSMessage, decodeResponse, decodeStreamInfo, encodeRequest, type DHTRequest, type DHTResponse, type Request,
  type Response, type StreamInfo
} from './messages.ts'
import { decodeEvent, EventDirection, EventType } from './event-messages.ts'

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
    this.controlAddr = typeof controlAddr === 'string' ? parseDaemonMultiaddr(controlAddr) : controlAddr
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
      withDeadline(STREAM_INFO_TIMEOUT_MS, undefined, 'no StreamInfo from the daemon in time', async signal => await reader.readLP({ maxLength: MAX_CONTROL_MESSAGE_SIZE, signal })).then((bytes) => {
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

  // ---- notifications (ours: docs/daemon/notifications.md) ---------------------------------

  /**
   * Subscribes to connection and stream events; resolves once the daemon has the subscription,
   * so every event after that is seen. The events: first a CONNECTED event per connection
   * already open, then every change, until `signal` aborts (which closes the subscription).
   * `types` filters (default all).
   */
  async notifications (options: { types?: DaemonEventType[], signal?: AbortSignal } = {}): Promise<AsyncGenerator<DaemonEvent, void, undefined>> {
    const types = (options.types ?? []).map(t => EventType[t])
    const { control } = await this.#request({ type: RequestType.NOTIFY, notify: { types } }, options.signal)
    return readEvents(control, options.signal)
  }

  // ---- connection manager ------------------------------------------------------------------

  /** Sets `tag` on `peer` to `weight`; the daemon trims lower-valued peers first. */
  async connManagerTagPeer (peer: PeerId, tag: string, weight: number): Promise<void> {
    await this.#call({ type: RequestType.CONNMANAGER, connManager: { type: ConnManagerRequestType.TAG_PEER, peer: peer.bytes, tag, weight } })
  }

  async connManagerUntagPeer (peer: PeerId, tag: string): Promise<void> {
    await this.#call({ type: RequestType.CONNMANAGER, connManager: { type: ConnManagerRequestType.UNTAG_PEER, peer: peer.bytes, tag } })
  }

  /** Asks the daemon to close connections down to its low watermark now. */
  async connManagerTrim (): Promise<void> {
    await this.#call({ type: RequestType.CONNMANAGER, connManager: { type: ConnManagerRequestType.TRIM } })
  }

  // ---- pubsub ------------------------------------------------------------------------------

  async pubsubGetTopics (): Promise<string[]> {
    return (await this.#call({ type: RequestType.PUBSUB, pubsub: { type: PSRequestType.GET_TOPICS } })).pubsub?.topics ?? []
  }

  async pubsubListPeers (topic: string): Promise<PeerId[]> {
    const r = await this.#call({ type: RequestType.PUBSUB, pubsub: { type: PSRequestType.LIST_PEERS, topic } })
    return (r.pubsub?.peerIDs ?? []).map(id => peerIdFromMultihash(id))
  }

  async pubsubPublish (topic: string, data: Uint8Array): Promise<void> {
    await this.#call({ type: RequestType.PUBSUB, pubsub: { type: PSRequestType.PUBLISH, topic, data } })
  }

  /** Messages on `topic` until `signal` aborts (which closes the subscription socket). */
  async * pubsubSubscribe (topic: string, signal?: AbortSignal): AsyncGenerator<DaemonPubSubMessage, void, undefined> {
    const { control } = await this.#request({ type: RequestType.PUBSUB, pubsub: { type: PSRequestType.SUBSCRIBE, topic } }, signal)
    const reader = new StreamReader(control)
    try {
      for (;;) {
        const bytes = await reader.readLP({ maxLength: MAX_CONTROL_MESSAGE_SIZE, signal })
        if (bytes === null) return
        const m = decodePSMessage(bytes)
        yield { from: m.from === undefined ? undefined : peerIdFromMultihash(m.from), data: (m.data ?? new Uint8Array(0)).slice(), seqno: m.seqno?.slice(), topics: m.topicIDs }
      }
    } finally {
      control.abort(new Error('unsubscribed'))
    }
  }

  // ---- DHT ---------------------------------------------------------------------------------

  async dhtFindPeer (peer: PeerId, options: { timeoutSeconds?: number } = {}): Promise<PeerAddrs> {
    const r = await this.#call({ type: RequestType.DHT, dht: { type: DHTRequestType.FIND_PEER, peer: peer.bytes, timeout: options.timeoutSeconds } })
    if (r.dht?.peer === undefined) throw new DaemonRequestError('FIND_PEER response without a peer')
    return { id: peerIdFromMultihash(r.dht.peer.id), addrs: r.dht.peer.addrs.map(a => multiaddr(a)) }
  }

  async dhtPutValue (key: Uint8Array, value: Uint8Array, options: { timeoutSeconds?: number } = {}): Promise<void> {
    await this.#call({ type: RequestType.DHT, dht: { type: DHTRequestType.PUT_VALUE, key, value, timeout: options.timeoutSeconds } })
  }

  async dhtGetValue (key: Uint8Array, options: { timeoutSeconds?: number } = {}): Promise<Uint8Array> {
    const r = await this.#call({ type: RequestType.DHT, dht: { type: DHTRequestType.GET_VALUE, key, timeout: options.timeoutSeconds } })
    if (r.dht?.value === undefined) throw new DaemonRequestError('GET_VALUE response without a value')
    return r.dht.value.slice()
  }

  async dhtProvide (cid: Uint8Array, options: { timeoutSeconds?: number } = {}): Promise<void> {
    await this.#call({ type: RequestType.DHT, dht: { type: DHTRequestType.PROVIDE, cid, timeout: options.timeoutSeconds } })
  }

  /** The streaming DHT answers: `Response{OK, BEGIN}`, bare DHTResponse VALUEs, a bare END. */
  async * #dhtStream (dht: DHTRequest): AsyncGenerator<DHTResponse, void, undefined> {
    const { response, control } = await this.#request({ type: RequestType.DHT, dht })
    try {
      if (response.dht?.type !== DHTResponseType.BEGIN) throw new DaemonRequestError('a streaming DHT answer must start with BEGIN')
      const reader = new StreamReader(control)
      for (;;) {
        const bytes = await reader.readLP({ maxLength: MAX_CONTROL_MESSAGE_SIZE })
        if (bytes === null) throw new UnexpectedEOFError('the daemon closed before the DHT END')
        const d = decodeDHTResponse(bytes)
        if (d.type === DHTResponseType.END) return
        yield d
      }
    } finally {
      await control.close().catch(() => {})
    }
  }

  async * dhtGetClosestPeers (key: Uint8Array, options: { timeoutSeconds?: number } = {}): AsyncGenerator<PeerId, void, undefined> {
    for await (const d of this.#dhtStream({ type: DHTRequestType.GET_CLOSEST_PEERS, key, timeout: options.timeoutSeconds })) {
      if (d.value !== undefined) yield peerIdFromMultihash(d.value.slice())
    }
  }

  async * dhtFindProviders (cid: Uint8Array, options: { count?: number, timeoutSeconds?: number } = {}): AsyncGenerator<PeerAddrs, void, undefined> {
    for await (const d of this.#dhtStream({ type: DHTRequestType.FIND_PROVIDERS, cid, count: options.count, timeout: options.timeoutSeconds })) {
      if (d.peer !== undefined) yield { id: peerIdFromMultihash(d.peer.id.slice()), addrs: d.peer.addrs.map(a => multiaddr(a)) }
    }
  }

  /** Stops every stream handler listener. */
  async close (): Promise<void> {
    await Promise.all(this.#listeners.splice(0).map(async s => { await new Promise<void>(resolve => s.close(() => { resolve() })) }))
  }
}

function toInfo (s: StreamInfo): InboundStreamInfo {
  return { peer: peerIdFromMultihash(s.peer), addr: multiaddr(s.addr), protocol: s.proto }
}

async function * readEvents (control: ByteStream, signal?: AbortSignal): AsyncGenerator<DaemonEvent, void, undefined> {
  const reader = new StreamReader(control)
  try {
    for (;;) {
      const bytes = await reader.readLP({ maxLength: MAX_CONTROL_MESSAGE_SIZE, signal })
      if (bytes === null) return
      const e = decodeEvent(bytes)
      const type = (Object.keys(EventType) as DaemonEventType[]).find(k => EventType[k] === e.type)
      if (type === undefined) continue
      yield { type, peer: peerIdFromMultihash(e.peer), addr: multiaddr(e.addr), direction: e.direction === EventDirection.INBOUND ? 'inbound' : 'outbound', protocol: e.proto }
    }
  } finally {
    control.abort(new Error('unsubscribed'))
  }
}

export type DaemonEventType = keyof typeof EventType
export interface DaemonEvent { type: DaemonEventType, peer: PeerId, addr: Multiaddr, direction: 'inbound' | 'outbound', protocol?: string }

export interface DaemonPubSubMessage { from?: PeerId, data: Uint8Array, seqno?: Uint8Array, topics: string[] }

