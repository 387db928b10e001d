import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions, Direction } from './common.ts'
import type { ByteStream } from './stream.ts'

/** A connection as a transport produces it: bytes only, not yet secured or multiplexed. */
export interface RawConnection extends ByteStream {
  readonly remoteAddr: Multiaddr
  readonly localAddr?: Multiaddr
  readonly direction: Direction
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

export interface Transport {
  /** Short name for logs and errors, e.g. 'tcp'. */
  readonly name: string
  dial(addr: Multiaddr, options?: AbortOptions): Promise<RawConnection>
  createListener(init: ListenerInit): Listener
  /** The subset of `addrs` this transport can listen on. */
  listenFilter(addrs: Multiaddr[]): Multiaddr[]
  /** The subset of `addrs` this transport can dial. */
  dialFilter(addrs: Multiaddr[]): Multiaddr[]
}
