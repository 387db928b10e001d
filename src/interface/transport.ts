import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions, Direction } from './common.ts'
import type { NodeComponents } from './components.ts'
import type { ConnectionLimits } from './connection.ts'
import type { ByteStream } from './stream.ts'
import type { PeerId } from './peer-id.ts'
import type { PeerRouting } from './routing.ts'
import type { MemoryAccount, StreamMuxerFactory } from './muxer.ts'

/**
 * A connection as a transport produces it: bytes only, not yet secured or multiplexed, unless
 * `native` is set.
 */
export interface RawConnection extends ByteStream {
  readonly remoteAddr: Multiaddr
  readonly localAddr?: Multiaddr
  readonly direction: Direction
  /**
   * Set by a transport that secures and multiplexes by itself (QUIC): the upgrader then skips
   * the protector and the security and muxer negotiations, checks the gater, and builds the
   * connection on this muxer. The byte-stream side of such a connection carries no data; its
   * `abort` and `closed` stand for the transport connection.
   */
  readonly native?: NativeUpgrade
  /**
   * Set when the transport knows the connection is limited (a relayed one: the relay cuts it
   * after so many bytes or seconds); the upgraded Connection is then limited too.
   */
  readonly limits?: ConnectionLimits
  /**
   * Set by a transport that buffers received bytes of its own (WebSocket messages): the switch
   * gives it the connection's memory account when it builds the connection, and buffering
   * beyond the transport's free base is reserved there (the connection's resource scopes).
   */
  useMemory?(account: MemoryAccount): void
}

/** What a natively secure, multiplexed transport connection already agreed on. */
export interface NativeUpgrade {
  /** The peer the transport's handshake authenticated. */
  readonly remotePeer: PeerId
  /** Reported as the connection's `encryption`, e.g. '/tls/1.0.0'. */
  readonly encryption: string
  /** Gives the transport's own muxer (called once); its protocol is the connection's `multiplexer`. */
  readonly streamMuxer: StreamMuxerFactory
}

export interface Listener {
  listen(addr: Multiaddr): Promise<void>
  /** The addresses actually bound (port 0 resolved). */
  getAddrs(): Multiaddr[]
  /** Stops accepting; resolves when the listening socket is closed (open connections stay). */
  close(): Promise<void>
}

export interface ListenerInit {
  /** Called for every accepted connection; the upgrader takes it from here. */
  onConnection(conn: RawConnection): void
  /** Called when the listener stops on its own (e.g. an error), not after `close()`. */
  onClose?(err?: Error): void
}

export interface TransportDialOptions extends AbortOptions {
  /**
   * Dial from a socket of its own: not one we listen on, not one earlier dials left from (an
   * AutoNAT dial-back: from a port the peer's NAT has seen us talk from, the dial would pass
   * its filter on the strength of that traffic and prove nothing). Default false.
   */
  separateSocket?: boolean
}

export interface Transport {
  /** Short name for logs and errors, e.g. 'tcp'. */
  readonly name: string
  dial(addr: Multiaddr, options?: TransportDialOptions): Promise<RawConnection>
  createListener(init: ListenerInit): Listener
  /** The subset of `addrs` this transport can listen on. */
  listenFilter(addrs: Multiaddr[]): Multiaddr[]
  /** The subset of `addrs` this transport can dial. */
  dialFilter(addrs: Multiaddr[]): Multiaddr[]
  /**
   * UDP hole punching (DCUtR over QUIC): sends datagrams of random bytes to `addr` from the
   * socket the node listens on, at random intervals, until the signal aborts (then resolves).
   * They open this side's NAT mapping for the peer's dial, which arrives as an inbound
   * connection. Only transports whose dials leave from their listen socket have it.
   */
  holePunch?(addr: Multiaddr, options: Required<AbortOptions>): Promise<void>
  /**
   * For a transport that runs over the node's own connections (circuit relay): called once,
   * before start, with what it needs of the node.
   */
  attachNode?(context: TransportNodeContext): void
  /** Called after the node's services started, before it listens. */
  start?(): void | Promise<void>
  /** Called after the node's services stopped, before its listeners close. */
  stop?(): void | Promise<void>
}

/** What the node gives a transport that runs over the node's own connections. */
export interface TransportNodeContext {
  components: NodeComponents
  /** Hands an inbound raw connection to the node (admission, upgrade), as a listener would. */
  acceptIncoming(conn: RawConnection): void
  /** The transport's listening addresses changed (e.g. a relay reservation was made or lost). */
  addressesChanged(): void
  /** The node's peer routing (its DHT, ...), for finding peers the peer store does not know (auto-relay). */
  peerRouting?: PeerRouting
  /**
   * A listener of another of the node's transports for `addr`, for a transport whose addresses
   * wrap another's (WebRTC listens on `<relay>/p2p-circuit/webrtc` through the relay's).
   */
  createListener?(addr: Multiaddr, init: ListenerInit): Listener
}
