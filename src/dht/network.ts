/**
 * The DHT's outbound RPCs: open a `/ipfs/kad/1.0.0` stream to a peer, send one length-prefixed
 * Message, read the one reply (except ADD_PROVIDER, which has none), close. Every call is
 * bounded by a per-peer timeout and the caller's signal; on any failure the stream is reset.
 *
 * Closer/provider peers' addresses from replies are not stored here: the query stores them
 * only for the peers it actually contacts.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { NodeComponents } from '../interface/node.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { Stream } from '../interface/stream.ts'
import { combineSignals } from '../util/abort.ts'
import { InvalidMessageError, UnexpectedEOFError } from '../util/errors.ts'
import { encodeLP, StreamReader } from '../util/stream-reader.ts'
import { decodeMessage, encodeMessage, type DhtMessage, type DhtPeer, type MessageLimits } from './message.ts'

export type NetworkComponents = Pick<NodeComponents, 'connectionManager' | 'peerStore' | 'peerId' | 'addressManager'>

export interface DhtNetworkInit {
  protocol: string
  /** Budget of one RPC including the dial, in ms. */
  timeout: number
  maxMessageSize: number
  limits: MessageLimits
}

export class DhtNetwork {
  readonly #c: NetworkComponents
  readonly #init: DhtNetworkInit
  /** RPCs sent (diagnostics: messages per lookup). */
  messagesSent = 0

  constructor (components: NetworkComponents, init: DhtNetworkInit) {
    this.#c = components
    this.#init = init
  }

  async #open (peer: PeerId, signal: AbortSignal): Promise<Stream> {
    const connection = await this.#c.connectionManager.openConnection(peer, { signal })
    return await connection.newStream(this.#init.protocol, { signal })
  }

  /** Sends `request` and returns the reply. */
  async sendRequest (peer: PeerId, request: DhtMessage, signal?: AbortSignal): Promise<DhtMessage> {
    const rpcSignal = combineSignals([signal], this.#init.timeout, `DHT request to ${peer.toString()} timed out after ${this.#init.timeout} ms`)
    this.messagesSent++
    const stream = await this.#open(peer, rpcSignal)
    try {
      if (!stream.send(encodeLP(encodeMessage(request)))) await stream.drain({ signal: rpcSignal })
      const reader = new StreamReader(stream)
      const frame = await reader.readLP({ maxLength: this.#init.maxMessageSize, signal: rpcSignal })
      if (frame === null) throw new UnexpectedEOFError('the peer closed the DHT stream without replying')
      const reply = decodeMessage(frame, this.#init.limits)
      if (reply.type !== request.type) throw new InvalidMessageError(`DHT reply of type ${reply.type} to a request of type ${request.type}`)
      await stream.close({ signal: rpcSignal })
      return reply
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  /** Sends `message` without waiting for a reply (ADD_PROVIDER). */
  async sendMessage (peer: PeerId, message: DhtMessage, signal?: AbortSignal): Promise<void> {
    const rpcSignal = combineSignals([signal], this.#init.timeout, `DHT message to ${peer.toString()} timed out after ${this.#init.timeout} ms`)
    this.messagesSent++
    const stream = await this.#open(peer, rpcSignal)
    try {
      if (!stream.send(encodeLP(encodeMessage(message)))) await stream.drain({ signal: rpcSignal })
      await stream.closeWrite({ signal: rpcSignal })
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
    // There is no reply, but the remote closes its side once it has handled the message and
    // read our end: waiting for that makes "sent" mean "stored" (a provide followed at once by
    // a lookup would otherwise race the remote's datastore). Delivered is enough, though: if
    // the close does not come in time, the message still counts as sent.
    try {
      const reader = new StreamReader(stream)
      const wait = combineSignals([signal], Math.min(this.#init.timeout, 5_000))
      while (await reader.readLP({ maxLength: this.#init.maxMessageSize, signal: wait }) !== null) { /* unexpected replies are ignored */ }
    } catch {
      stream.abort(new Error('no clean close after a one-way DHT message'))
    }
  }

  /** Our view of a peer for a reply: its id and the addresses the peer store knows. */
  async peerInfo (peer: PeerId): Promise<DhtPeer> {
    if (peer.equals(this.#c.peerId)) return { id: peer.bytes, addrs: this.#c.addressManager.getAddresses().map(a => withoutPeerId(a).bytes), connection: 0 }
    let addrs: Uint8Array[] = []
    try {
      const stored = await this.#c.peerStore.get(peer)
      addrs = stored.addresses.map(a => a.multiaddr.bytes)
    } catch {
      // unknown to the peer store: id only
    }
    return { id: peer.bytes, addrs, connection: 0 }
  }
}

const P2P_CODE = 421

/** `addr` without a trailing `/p2p/<id>` (DHT peer entries carry the id separately). */
export function withoutPeerId (addr: Multiaddr): Multiaddr {
  const components = addr.getComponents()
  if (components.length > 0 && components[components.length - 1].code === P2P_CODE) return addr.decapsulateCode(P2P_CODE)
  return addr
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
