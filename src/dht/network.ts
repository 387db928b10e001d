/**
 * The DHT's outbound RPCs: send one length-prefixed Message on a `/ipfs/kad/1.0.0` stream and
 * read the one reply (ADD_PROVIDER has none). Every call is bounded by a per-peer timeout and
 * the caller's signal; on any failure the stream is reset.
 *
 * Several requests per stream: after a clean request/reply the stream is kept as the peer's
 * idle stream (at most one per peer, at most `maxIdleStreams` in all, least recently used
 * closed first) and the next request to that peer reuses it if it is younger than
 * `idleStreamTimeout` (below the usual 1 min server idle timeout of go, js and ours). A reused
 * stream the server meanwhile closed or reset fails before any reply; the request is then
 * sent once more on a new stream, so reuse never turns into a failed request. ADD_PROVIDER
 * half-closes its stream (the remote answers nothing), so it always uses a new one.
 *
 * Closer/provider peers' addresses from replies are not stored here: the query stores them
 * only for the peers it actually contacts.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { NodeComponents } from '../interface/components.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { Stream } from '../interface/stream.ts'
import { Deadline } from '../util/deadline.ts'
import { InvalidMessageError, StreamResetError, UnexpectedEOFError } from '../util/errors.ts'
import { encodeLP, StreamReader } from '../util/stream-reader.ts'
import { decodeMessage, encodeMessage, type DhtMessage, type DhtPeer, type MessageLimits } from './message.ts'
import { withoutPeerId } from '../util/multiaddr.ts'

export type NetworkComponents = Pick<NodeComponents, 'connectionManager' | 'peerStore' | 'peerId' | 'addressManager'>

export interface DhtNetworkInit {
  protocol: string
  /** Budget of one RPC including the dial, in ms. */
  timeout: number
  maxMessageSize: number
  limits: MessageLimits
  /** Idle outbound streams kept for reuse, in all (default 64; 0 = one stream per request). */
  maxIdleStreams?: number
  /** An idle stream older than this is not reused, in ms (default 20 s). */
  idleStreamTimeout?: number
}

interface IdleStream {
  stream: Stream
  reader: StreamReader
  since: number
}

/** Closing a stream we no longer need waits this long for the remote's close, then resets. */
const CLOSE_TIMEOUT = 5_000

export class DhtNetwork {
  readonly #components: NetworkComponents
  readonly #init: DhtNetworkInit
  readonly #maxIdle: number
  readonly #idleTimeout: number
  /** Peer id -> its idle stream; Map order is least recently used first. */
  readonly #idle = new Map<string, IdleStream>()
  /** RPC frames sent (diagnostics). */
  messagesSent = 0
  /** Requests that went out on a reused stream (diagnostics). */
  streamsReused = 0

  constructor (components: NetworkComponents, init: DhtNetworkInit) {
    this.#components = components
    this.#init = init
    this.#maxIdle = Math.max(0, init.maxIdleStreams ?? 64)
    this.#idleTimeout = init.idleStreamTimeout ?? 20_000
  }

  /** Idle streams currently kept (diagnostics, tests). */
  get idleStreams (): number { return this.#idle.size }

  async #open (peer: PeerId, signal: AbortSignal): Promise<Stream> {
    const connection = await this.#components.connectionManager.openConnection(peer, { signal })
    return await connection.newStream(this.#init.protocol, { signal })
  }

  /** Sends `request` and returns the reply. */
  async sendRequest (peer: PeerId, request: DhtMessage, signal?: AbortSignal): Promise<DhtMessage> {
    const deadline = new Deadline(this.#init.timeout, signal, `DHT request to ${peer.toString()} timed out after ${this.#init.timeout} ms`)
    try {
      const idle = this.#takeIdle(peer)
      if (idle !== undefined) {
        this.streamsReused++
        try {
          return await this.#exchange(peer, idle.stream, idle.reader, request, deadline.signal)
        } catch (err) {
          // our own abort or timeout ends the request; anything else may just be a stream the
          // server closed while it sat idle: try once more on a new one
          if (deadline.signal.aborted) throw err
        }
      }
      const stream = await this.#open(peer, deadline.signal)
      return await this.#exchange(peer, stream, new StreamReader(stream), request, deadline.signal)
    } finally {
      deadline.clear()
    }
  }

  async #exchange (peer: PeerId, stream: Stream, reader: StreamReader, request: DhtMessage, signal: AbortSignal): Promise<DhtMessage> {
    try {
      this.messagesSent++
      if (!stream.send(encodeLP(encodeMessage(request)))) await stream.drain({ signal })
      const frame = await reader.readLP({ maxLength: this.#init.maxMessageSize, signal })
      if (frame === null) throw new UnexpectedEOFError('the peer closed the DHT stream without replying')
      const reply = decodeMessage(frame, this.#init.limits)
      if (reply.type !== request.type) throw new InvalidMessageError(`DHT reply of type ${reply.type} to a request of type ${request.type}`)
      this.#keepIdle(peer, { stream, reader, since: Date.now() })
      return reply
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  #takeIdle (peer: PeerId): IdleStream | undefined {
    const key = peer.toString()
    const idle = this.#idle.get(key)
    if (idle === undefined) return undefined
    this.#idle.delete(key)
    const { stream } = idle
    if (stream.status === 'open' && stream.readStatus === 'open' && stream.writeStatus === 'open' &&
      stream.readableLength === 0 && idle.reader.buffered === 0 && Date.now() - idle.since < this.#idleTimeout) return idle
    this.#release(stream)
    return undefined
  }

  #keepIdle (peer: PeerId, idle: IdleStream): void {
    if (this.#maxIdle === 0) {
      this.#release(idle.stream)
      return
    }
    const key = peer.toString()
    const previous = this.#idle.get(key)
    if (previous !== undefined) {
      // a concurrent request to the same peer already parked one: keep the newer
      this.#idle.delete(key)
      this.#release(previous.stream)
    }
    this.#idle.set(key, idle)
    // a stream that dies while parked (connection closed, remote reset) is dropped at once, so
    // the pool never keeps a closed connection's muxer alive
    idle.stream.closed.then(() => { if (this.#idle.get(key) === idle) this.#idle.delete(key) }, () => {})
    if (this.#idle.size > this.#maxIdle) {
      const [oldestKey, oldest] = this.#idle.entries().next().value as [string, IdleStream]
      this.#idle.delete(oldestKey)
      this.#release(oldest.stream)
    }
  }

  /** Closes a stream we are done with, in the background (bounded; reset if it hangs). */
  #release (stream: Stream): void {
    if (stream.status !== 'open') {
      if (stream.status === 'closing') return
      stream.abort(new StreamResetError('DHT stream released'))
      return
    }
    const deadline = new Deadline(CLOSE_TIMEOUT)
    stream.close({ signal: deadline.signal }).catch((err: Error) => { stream.abort(err) }).finally(() => { deadline.clear() })
  }

  /** Closes every idle stream (on stop). */
  closeIdleStreams (): void {
    for (const idle of this.#idle.values()) this.#release(idle.stream)
    this.#idle.clear()
  }

  /** Sends `message` without waiting for a reply (ADD_PROVIDER). */
  async sendMessage (peer: PeerId, message: DhtMessage, signal?: AbortSignal): Promise<void> {
    const deadline = new Deadline(this.#init.timeout, signal, `DHT message to ${peer.toString()} timed out after ${this.#init.timeout} ms`)
    let stream: Stream
    try {
      this.messagesSent++
      stream = await this.#open(peer, deadline.signal)
      try {
        if (!stream.send(encodeLP(encodeMessage(message)))) await stream.drain({ signal: deadline.signal })
        await stream.closeWrite({ signal: deadline.signal })
      } catch (err) {
        stream.abort(err as Error)
        throw err
      }
    } finally {
      deadline.clear()
    }
    // There is no reply, but the remote closes its side once it has handled the message and
    // read our end: waiting for that makes "sent" mean "stored" (a provide followed at once by
    // a lookup would otherwise race the remote's datastore). Delivered is enough, though: if
    // the close does not come in time, the message still counts as sent.
    const wait = new Deadline(Math.min(this.#init.timeout, 5_000), signal)
    try {
      const reader = new StreamReader(stream)
      while (await reader.readLP({ maxLength: this.#init.maxMessageSize, signal: wait.signal }) !== null) { /* unexpected replies are ignored */ }
    } catch {
      stream.abort(new StreamResetError('no clean close after a one-way DHT message'))
    } finally {
      wait.clear()
    }
  }

  /** Our view of a peer for a reply: its id and the addresses the peer store knows. */
  async peerInfo (peer: PeerId): Promise<DhtPeer> {
    if (peer.equals(this.#components.peerId)) return { id: peer.bytes, addrs: this.#components.addressManager.getAddresses().map(a => withoutPeerId(a).bytes), connection: 0 }
    let addrs: Uint8Array[] = []
    try {
      const stored = await this.#components.peerStore.get(peer)
      addrs = stored.addresses.map(a => a.multiaddr.bytes)
    } catch {
      // unknown to the peer store: id only
    }
    return { id: peer.bytes, addrs, connection: 0 }
  }
}


/** Wire addresses that parse; the rest (unknown protocols, garbage) are dropped. */
export function parseWireAddrs (addrs: Uint8Array[]): Multiaddr[] {
  const out: Multiaddr[] = []
  for (const bytes of addrs) {
    try {
      const addr = multiaddr(bytes)
      if (addr.getComponents().length > 0) out.push(addr)
    } catch {
      // skip
    }
  }
  return out
}
