/**
 * In-process memory transport for tests and simulations: thousands of nodes in one process,
 * no sockets. Addresses are `/memory/<name>`; a node listening on one registers it in a
 * `MemoryNetwork` (a shared default, or one passed in so test networks stay apart), and a dial
 * wires the two sides back to back with in-memory pipes.
 *
 * Connections are "already secure": both ends are created by the network, which knows both
 * identities, so `memoryEncrypter()` (protocol `/memory-trusted/1.0.0`, usable only over
 * memory connections and refusing anything else) authenticates without a handshake or
 * encryption. Use it instead of Noise for simulations:
 *
 * ```ts
 * import { memory, memoryEncrypter, MemoryNetwork } from 'ts-libp2p/memory'
 * const net = new MemoryNetwork()
 * createLibp2p({ transports: [memory({ network: net })], connectionEncrypters: [memoryEncrypter()],
 *   addresses: { listen: ['/memory/node-1'] } })
 * ```
 */
import { CODE_P2P, multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../../interface/common.ts'
import type { PublicKey } from '../../interface/keys.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import type { ConnectionEncrypter, SecuredConnection } from '../../interface/security.ts'
import type { ByteStream } from '../../interface/stream.ts'
import type { Listener, ListenerInit, RawConnection, Transport } from '../../interface/transport.ts'
import type { ComponentFactoryInput } from '../../interface/components.ts'
import { PipeEnd } from '../../util/duplex-pair.ts'
import { ConnectionFailedError, HandshakeError, InvalidMultiaddrError, ListenError, UnexpectedPeerError } from '../../util/errors.ts'
import { throwIfAborted } from '../../util/abort.ts'

const MEMORY_CODE = 777
export const MEMORY_ENCRYPTER_PROTOCOL = '/memory-trusted/1.0.0'

interface Identity { peerId: PeerId, publicKey: PublicKey }

/** One end of an in-memory connection; knows who is at each end. */
export class MemoryConnection extends PipeEnd implements RawConnection {
  readonly remoteAddr: Multiaddr
  readonly localAddr: Multiaddr
  readonly direction: 'inbound' | 'outbound'
  readonly localIdentity: Identity
  readonly remoteIdentity: Identity

  constructor (init: { remoteAddr: Multiaddr, localAddr: Multiaddr, direction: 'inbound' | 'outbound', local: Identity, remote: Identity, highWaterMark: number }) {
    super(init.highWaterMark)
    this.remoteAddr = init.remoteAddr
    this.localAddr = init.localAddr
    this.direction = init.direction
    this.localIdentity = init.local
    this.remoteIdentity = init.remote
  }
}

interface MemoryEndpoint { identity: Identity, onConnection(conn: RawConnection): void }

/** The namespace of memory addresses; each name is held by at most one listener. */
export class MemoryNetwork {
  readonly #listeners = new Map<string, MemoryEndpoint>()
  #nextDialer = 0

  /** @internal */
  register (name: string, endpoint: MemoryEndpoint): void {
    if (this.#listeners.has(name)) throw new ListenError(`/memory/${name} is already in use`)
    this.#listeners.set(name, endpoint)
  }

  /** @internal */
  unregister (name: string, endpoint: MemoryEndpoint): void {
    if (this.#listeners.get(name) === endpoint) this.#listeners.delete(name)
  }

  /** @internal */
  connect (name: string, dialer: Identity, highWaterMark: number): MemoryConnection {
    const listener = this.#listeners.get(name)
    if (listener === undefined) throw new ConnectionFailedError(`nothing listens on /memory/${name}`)
    const listenAddr = multiaddr(`/memory/${name}`)
    const dialerAddr = multiaddr(`/memory/dialer-${++this.#nextDialer}`)
    const outbound = new MemoryConnection({ remoteAddr: listenAddr, localAddr: dialerAddr, direction: 'outbound', local: dialer, remote: listener.identity, highWaterMark })
    const inbound = new MemoryConnection({ remoteAddr: dialerAddr, localAddr: listenAddr, direction: 'inbound', local: listener.identity, remote: dialer, highWaterMark })
    outbound.peer = inbound
    inbound.peer = outbound
    listener.onConnection(inbound)
    return outbound
  }

  get size (): number { return this.#listeners.size }
}

/** The network used when none is given. */
export const defaultMemoryNetwork = new MemoryNetwork()

export interface MemoryTransportOptions {
  network?: MemoryNetwork
  /** Unread bytes buffered per connection end before the writer must wait (default 64 KiB). */
  highWaterMark?: number
}

function memoryName (addr: Multiaddr): string | undefined {
  const components = addr.getComponents()
  if (components.length === 0 || components[0].code !== MEMORY_CODE) return undefined
  if (components.length > 2 || (components.length === 2 && components[1].code !== CODE_P2P)) return undefined
  const name = components[0].value
  return name !== undefined && name.length > 0 ? name : undefined
}

export class MemoryTransport implements Transport {
  readonly name = 'memory'
  readonly #network: MemoryNetwork
  readonly #identity: Identity
  readonly #highWaterMark: number

  constructor (identity: Identity, options: MemoryTransportOptions = {}) {
    this.#identity = identity
    this.#network = options.network ?? defaultMemoryNetwork
    this.#highWaterMark = options.highWaterMark ?? 64 * 1024
  }

  async dial (addr: Multiaddr, options: AbortOptions = {}): Promise<RawConnection> {
    throwIfAborted(options.signal)
    const name = memoryName(addr)
    if (name === undefined) throw new InvalidMultiaddrError(`cannot dial ${addr.toString()} with the memory transport`)
    return this.#network.connect(name, this.#identity, this.#highWaterMark)
  }

  createListener (init: ListenerInit): Listener {
    const network = this.#network
    const identity = this.#identity
    let bound: { name: string, endpoint: MemoryEndpoint } | undefined
    return {
      async listen (addr: Multiaddr): Promise<void> {
        const name = memoryName(addr)
        if (name === undefined) throw new ListenError(`cannot listen on ${addr.toString()} with the memory transport`)
        if (bound !== undefined) throw new ListenError('this memory listener is already listening')
        const endpoint: MemoryEndpoint = { identity, onConnection: conn => { init.onConnection(conn) } }
        network.register(name, endpoint)
        bound = { name, endpoint }
      },
      getAddrs (): Multiaddr[] {
        return bound === undefined ? [] : [multiaddr(`/memory/${bound.name}`)]
      },
      async close (): Promise<void> {
        if (bound !== undefined) network.unregister(bound.name, bound.endpoint)
        bound = undefined
      }
    }
  }

  listenFilter (addrs: Multiaddr[]): Multiaddr[] {
    return addrs.filter(a => memoryName(a) !== undefined)
  }

  dialFilter (addrs: Multiaddr[]): Multiaddr[] {
    return addrs.filter(a => memoryName(a) !== undefined)
  }
}

/** `transports: [memory()]` */
export function memory (options: MemoryTransportOptions = {}): (components: Pick<ComponentFactoryInput, 'peerId' | 'privateKey'>) => Transport {
  return (components) => new MemoryTransport({ peerId: components.peerId, publicKey: components.privateKey.publicKey }, options)
}

/**
 * The identity check of memory connections: the network created both ends, so the remote
 * identity is known without a handshake. Refuses connections of any other transport.
 */
export class MemoryEncrypter implements ConnectionEncrypter {
  readonly protocol = MEMORY_ENCRYPTER_PROTOCOL

  async secureOutbound (conn: ByteStream, options: { remotePeer?: PeerId } = {}): Promise<SecuredConnection> {
    return this.#secure(conn, options.remotePeer)
  }

  async secureInbound (conn: ByteStream): Promise<SecuredConnection> {
    return this.#secure(conn)
  }

  #secure (conn: ByteStream, expected?: PeerId): SecuredConnection {
    if (!(conn instanceof MemoryConnection)) throw new HandshakeError(`${MEMORY_ENCRYPTER_PROTOCOL} only works over memory connections`)
    const remote = conn.remoteIdentity
    if (expected !== undefined && !expected.equals(remote.peerId)) throw new UnexpectedPeerError(`dialed ${expected.toString()} but reached ${remote.peerId.toString()}`)
    return { conn, remotePeer: remote.peerId, remotePublicKey: remote.publicKey }
  }
}

/** `connectionEncrypters: [memoryEncrypter()]` (memory transport only). */
export function memoryEncrypter (): () => ConnectionEncrypter {
  return () => new MemoryEncrypter()
}
