/**
 * The QUIC v1 transport (`/ip4|ip6/<ip>/udp/<port>/quic-v1`), Node-only (node:dgram,
 * node:crypto): this whole folder is Node-only. QUIC is secure (libp2p TLS 1.3 inside QUIC, ALPN
 * "libp2p") and multiplexed (one QUIC stream per libp2p stream) by itself, so its connections
 * reach the switch with `native` set and the upgrader only runs the gater on them.
 *
 * Usage: `import { quic } from 'ts-libp2p/quic'`, then `transports: [tcp(), quic()]`.
 *
 * One UDP socket per listen address, also used to dial peers of its family (so a dial goes out
 * from the port others know, which UDP hole punching needs); without a listener of that family
 * a dial-only socket is opened, and closed with its last connection.
 */
import { multiaddr, CODE_P2P, CODE_QUIC_V1, CODE_UDP } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../../interface/common.ts'
import type { PrivateKey } from '../../interface/keys.ts'
import type { Listener, ListenerInit, RawConnection, Transport, TransportDialOptions } from '../../interface/transport.ts'
import { InvalidMultiaddrError, InvalidParametersError } from '../../util/errors.ts'
import { peerIdStringOf, isWildcardIp } from '../../util/multiaddr.ts'
import { peerIdFromString } from '../../peer/peer-id.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import { parseHost } from '../multiaddr-utils.ts'
import { interfaceAddrs } from '../interface-addrs.node.ts'
import { raceSignal } from '../../util/abort.ts'
import { delay } from '../../util/timers.ts'
import { randomBytes } from 'node:crypto'
import { QuicEndpoint } from './endpoint.ts'
import type { EndpointOptions, RemoteAddress } from './endpoint.ts'
import type { QuicConnection } from './connection.ts'
import type { QuicConfig } from './config.ts'
import { QuicNativeConnection } from './native-connection.ts'
import { createQuicHandshake, initialProtectors, retryIntegrityTag, statelessResetToken } from './crypto/index.ts'

/** Bytes per hole-punching datagram (what go-libp2p sends). */
const PUNCH_DATAGRAM_SIZE = 64

/** QUIC's own cryptography: libp2p TLS 1.3 in CRYPTO frames, RFC 9001 packet protection. */
export const QUIC_TLS_CRYPTO: QuicCryptoProvider = { createHandshake: createQuicHandshake, initialProtectors, retryIntegrityTag, statelessResetToken }

export type QuicCryptoProvider = EndpointOptions['crypto']

export interface QuicOptions extends Partial<QuicConfig> {
  /** QUIC's cryptography; tests may stand in for it (default: libp2p TLS 1.3, QUIC_TLS_CRYPTO). */
  crypto?: QuicCryptoProvider
  /** Server handshakes in progress before new clients must answer a Retry (default 64; 0 = always). */
  retryThreshold?: number
  /** Server handshakes in progress at most (default 1024). */
  maxPendingHandshakes?: number
  /** Handshakes without a Retry token from one IP address before it gets a Retry (default 8). */
  maxUnvalidatedPerAddress?: number
}

export interface QuicComponents {
  privateKey: PrivateKey
}

interface Target extends RemoteAddress {
  peerId?: string
}

/** `/ip4|ip6/<ip>/udp/<port>/quic-v1[/p2p/<id>]`; undefined for any other shape. */
export function parseQuicAddress (addr: Multiaddr, allowPeerId: boolean): Target | undefined {
  const components = addr.getComponents()
  const host = parseHost(components)
  if (host === undefined || host.family === 0) return undefined
  const udp = components[host.next]
  const quic = components[host.next + 1]
  if (udp?.code !== CODE_UDP || quic?.code !== CODE_QUIC_V1) return undefined
  const rest = components.slice(host.next + 2)
  if (rest.length > 1 || (rest.length === 1 && (!allowPeerId || rest[0].code !== CODE_P2P))) return undefined
  const port = Number(udp.value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined
  return { address: host.host, port, family: host.family, peerId: rest[0]?.value }
}

export function toQuicMultiaddr (ip: string, port: number, family: 4 | 6): Multiaddr {
  return multiaddr(`/ip${family}/${ip}/udp/${port}/quic-v1`)
}

export class QuicTransport implements Transport {
  readonly name = 'quic'
  readonly #options: QuicOptions
  readonly #privateKey: PrivateKey
  readonly #crypto: QuicCryptoProvider
  readonly #listening = new Set<QuicEndpoint>()
  readonly #dialOnly = new Map<4 | 6, Promise<QuicEndpoint>>()
  readonly #wrappers = new WeakMap<QuicConnection, QuicNativeConnection>()
  /** Every socket still open, listening or not. */
  readonly #all = new Set<QuicEndpoint>()

  constructor (options: QuicOptions, components: QuicComponents) {
    this.#options = options
    this.#privateKey = components.privateKey
    this.#crypto = options.crypto ?? QUIC_TLS_CRYPTO
  }

  #endpointOptions (onInbound?: (c: QuicConnection) => void): EndpointOptions {
    return {
      privateKey: this.#privateKey,
      crypto: this.#crypto,
      config: this.#options,
      retryThreshold: this.#options.retryThreshold,
      maxPendingHandshakes: this.#options.maxPendingHandshakes,
      maxUnvalidatedPerAddress: this.#options.maxUnvalidatedPerAddress,
      onInboundConnection: onInbound,
      onIncomingStream: (connection, stream) => {
        const wrapper = this.#wrappers.get(connection)
        if (wrapper === undefined) stream.abort(new InvalidParametersError('stream before the connection was set up'))
        else wrapper.incomingStream(stream)
      }
    }
  }

  #wrap (connection: QuicConnection, endpoint: QuicEndpoint, remote: RemoteAddress, direction: 'inbound' | 'outbound'): QuicNativeConnection {
    const local = endpoint.address()
    const remotePeer = connection.result?.remotePeer
    if (remotePeer === undefined) throw new InvalidParametersError('a libp2p QUIC connection without an authenticated peer')
    const wrapper = new QuicNativeConnection(connection, remotePeer, toQuicMultiaddr(remote.address, remote.port, remote.family), toQuicMultiaddr(local.address, local.port, endpoint.family), direction)
    this.#wrappers.set(connection, wrapper)
    return wrapper
  }

  /** The last dialed peer id, parsed: redials of one peer skip its base58/CID decoding. */
  #lastExpected: { text: string, peerId: PeerId } | undefined

  #expectedPeer (text: string): PeerId {
    if (this.#lastExpected?.text !== text) this.#lastExpected = { text, peerId: peerIdFromString(text) }
    return this.#lastExpected.peerId
  }

  async dial (addr: Multiaddr, options: TransportDialOptions = {}): Promise<RawConnection> {
    const target = parseQuicAddress(addr, true)
    if (target === undefined) throw new InvalidMultiaddrError(`cannot dial ${addr.toString()} with quic`)
    const peerIdText = target.peerId ?? peerIdStringOf(addr)
    const expected = peerIdText === undefined ? undefined : this.#expectedPeer(peerIdText)
    const endpoint = options.separateSocket === true ? await this.#separateEndpoint(target.family) : await this.#endpointFor(target.family)
    options.signal?.throwIfAborted()
    let wrapper: QuicNativeConnection | undefined
    // The wrapper exists before any stream can arrive: it is made as the handshake completes.
    const connection = endpoint.dial(target, expected, c => { wrapper = this.#wrap(c, endpoint, target, 'outbound') })
    try {
      await raceSignal(connection.established, options.signal)
    } catch (err) {
      connection.close(0, 'dial aborted')
      throw err
    }
    return wrapper ?? this.#wrap(connection, endpoint, target, 'outbound')
  }

  /**
   * DCUtR's UDP hole punch (relay/DCUtR.md: the side that sent SYNC sends random UDP packets
   * at random intervals between 10 and 200 ms while the other dials): 64 random bytes at a
   * time from the socket our dials and listener use, until the signal aborts. The first
   * intervals are short (the peer's Initial is already on its way); a header byte that is no
   * QUIC long header keeps the peer's endpoint from taking them for a connection attempt.
   */
  async holePunch (addr: Multiaddr, options: Required<AbortOptions>): Promise<void> {
    const target = parseQuicAddress(addr, true)
    if (target === undefined) throw new InvalidMultiaddrError(`cannot punch a hole to ${addr.toString()} with quic`)
    const endpoint = await this.#endpointFor(target.family)
    for (let i = 0; !options.signal.aborted && !endpoint.closed; i++) {
      const payload = randomBytes(PUNCH_DATAGRAM_SIZE)
      payload[0] &= 0x3f // a short header with the fixed bit clear: not a valid QUIC packet
      endpoint.sendDatagram(payload, target)
      const maxPause = Math.min(10 * (i + 1) * (i + 1), 190)
      try {
        await delay(10 + Math.floor(Math.random() * maxPause), options.signal)
      } catch {
        return
      }
    }
  }

  /**
   * A socket for one dial (TransportDialOptions.separateSocket): an ephemeral port, accepting
   * nothing, closed with its connection (or at once when the dial fails).
   */
  async #separateEndpoint (family: 4 | 6): Promise<QuicEndpoint> {
    const e = this.#track(new QuicEndpoint(family, this.#endpointOptions()))
    try {
      await e.bind(family === 6 ? '::' : '0.0.0.0', 0)
    } catch (err) {
      await e.close()
      throw err
    }
    return e
  }

  async #endpointFor (family: 4 | 6): Promise<QuicEndpoint> {
    for (const e of this.#listening) if (e.family === family && !e.closed) return e
    const existing = this.#dialOnly.get(family)
    if (existing !== undefined) {
      const e = await existing
      if (!e.closed) return e
    }
    const created = (async () => {
      const e = this.#track(new QuicEndpoint(family, this.#endpointOptions()))
      await e.bind(family === 6 ? '::' : '0.0.0.0', 0)
      return e
    })()
    this.#dialOnly.set(family, created)
    const e = await created
    e.onClose = () => {
      this.#all.delete(e)
      if (this.#dialOnly.get(family) === created) this.#dialOnly.delete(family)
    }
    return e
  }

  #track (e: QuicEndpoint): QuicEndpoint {
    this.#all.add(e)
    e.onClose = () => { this.#all.delete(e) }
    return e
  }

  createListener (init: ListenerInit): Listener {
    let endpoint: QuicEndpoint | undefined
    let bound: { address: string, port: number } | undefined
    const transport = this
    return {
      async listen (addr: Multiaddr): Promise<void> {
        const target = parseQuicAddress(addr, false)
        if (target === undefined) throw new InvalidMultiaddrError(`cannot listen on ${addr.toString()} with quic`)
        const e = transport.#track(new QuicEndpoint(target.family, transport.#endpointOptions(connection => {
          const remote = e.remoteOf(connection)
          if (remote === undefined) return
          init.onConnection(transport.#wrap(connection, e, remote, 'inbound'))
        })))
        await e.bind(target.address, target.port)
        e.setAccepting(true)
        endpoint = e
        bound = e.address()
        transport.#listening.add(e)
      },
      getAddrs (): Multiaddr[] {
        if (endpoint === undefined || bound === undefined || !endpoint.accepting) return []
        if (isWildcardIp(bound.address)) return interfaceAddrs(endpoint.family, bound.port).map(a => toQuicMultiaddr(a.getComponents()[0].value ?? '', bound!.port, endpoint!.family))
        return [toQuicMultiaddr(bound.address, bound.port, endpoint.family)]
      },
      async close (): Promise<void> {
        const e = endpoint
        if (e === undefined) return
        transport.#listening.delete(e)
        e.setAccepting(false)
        // The socket stays while live connections use it; it closes with the last one.
        e.closeIfIdle()
        if (e.closed || e.connectionCount === 0) await e.close()
      }
    }
  }

  listenFilter (addrs: Multiaddr[]): Multiaddr[] {
    return addrs.filter(a => parseQuicAddress(a, false) !== undefined)
  }

  dialFilter (addrs: Multiaddr[]): Multiaddr[] {
    return addrs.filter(a => parseQuicAddress(a, true) !== undefined)
  }

  /** QUIC connections on all of this transport's sockets, handshaking and closing ones too. */
  get connectionCount (): number {
    let n = 0
    for (const e of this.#all) n += e.connectionCount
    return n
  }

  /**
   * The node is stopping: every connection closes now (CONNECTION_CLOSE, application code 0)
   * and every socket with it, so stop() resolves with no UDP socket or timer left. Closing the
   * listeners alone would leave a socket open until its last connection closes afterwards.
   */
  async stop (): Promise<void> { await this.close() }

  /** Key updates on the connections open now (RFC 9001 6): started by us, and by the remote. */
  get keyUpdates (): { byUs: number, byRemote: number } {
    const total = { byUs: 0, byRemote: 0 }
    for (const e of this.#all) {
      for (const c of e.connections) {
        total.byUs += c.keyUpdates.byUs
        total.byRemote += c.keyUpdates.byRemote
      }
    }
    return total
  }

  /** Closes every socket and connection now. */
  async close (): Promise<void> {
    for (const p of this.#dialOnly.values()) await p
    const all = [...this.#all]
    this.#listening.clear()
    this.#dialOnly.clear()
    await Promise.all(all.map(async e => { await e.close() }))
  }
}

/** The QUIC transport factory for `transports: [quic()]`. */
export function quic (options: QuicOptions = {}): (components: QuicComponents) => Transport {
  return (components: QuicComponents) => new QuicTransport(options, components)
}
