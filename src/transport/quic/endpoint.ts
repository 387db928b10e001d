/**
 * A QUIC endpoint: one UDP socket (node:dgram) shared by every connection on it, inbound and
 * outbound, so a hole punched for one dial serves the next (DCUtR). Datagrams are routed to
 * connections by destination connection id (RFC 9000 5.2).
 *
 * For a datagram no connection claims, the endpoint answers as RFC 9000 asks, with bounded
 * state: a Version Negotiation packet for an unknown version (6.1), a new server connection for
 * a 1200-byte Initial, a Retry instead when too many handshakes are pending, node-wide or from
 * the client's IP address (8.1.2: so one address cannot fill the table others need; the client
 * must prove its address before we keep state for it; the token is MACed with a per-endpoint
 * key, binds the address, the original id and the Retry's id, and expires after 10 s), and a
 * stateless reset for a short-header packet of a connection we no longer know (10.3),
 * smaller than the packet that caused it and rate-limited.
 */
import { createSocket } from 'node:dgram'
import { lookup as dnsLookup } from 'node:dns'
import type { LookupOneOptions } from 'node:dns'
import { isIP } from 'node:net'
import type { Socket, RemoteInfo } from 'node:dgram'
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { PrivateKey } from '../../interface/keys.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import { QuicConnection } from './connection.ts'
import type { QuicCrypto } from './connection.ts'
import type { QuicConfig } from './config.ts'
import { DEFAULT_QUIC_CONFIG, LOCAL_CID_LENGTH } from './config.ts'
import { buildVersionNegotiation, MIN_INITIAL_DATAGRAM, parseHeader, QUIC_V1 } from './packet.ts'
import type { PacketHeader } from './packet.ts'
import type { QuicStream } from './stream.ts'
import type { PlainCertificates, QuicCertificate } from './crypto/types.ts'
import { isLoopbackIp } from '../../util/multiaddr.ts'
import { logger } from '../../util/logger.ts'
import { ConnectionClosedError } from '../../util/errors.ts'
import { runOnNextTurn } from '../../util/timers.ts'

const log = logger('quic:endpoint')

/** Unvalidated handshakes from one IP address before it must answer a Retry. */
const DEFAULT_MAX_UNVALIDATED_PER_ADDRESS = 8
/** Retry tokens are good for this long (ms). */
const RETRY_TOKEN_LIFETIME = 10_000
/** Stateless resets sent per second at most. */
const MAX_RESETS_PER_SECOND = 100
/** Socket buffers asked of the kernel (it caps them at net.core.[rw]mem_max). */
const SOCKET_BUFFER_SIZE = 4 * 1024 * 1024

/** TLS settings other than libp2p's (HTTP/3 for WebTransport; see crypto/types.ts). */
export interface HandshakeSettings {
  alpn?: string[]
  certificate?: QuicCertificate
  plainCertificates?: PlainCertificates
}

export interface EndpointOptions {
  privateKey: PrivateKey
  /** Applies to the connections this endpoint accepts (default: libp2p TLS, ALPN 'libp2p'). */
  handshake?: HandshakeSettings
  crypto: QuicCrypto & { statelessResetToken(staticKey: Uint8Array, connectionId: Uint8Array): Uint8Array }
  config?: Partial<QuicConfig>
  /** Server handshakes in progress before new clients must answer a Retry (default 64; 0 = always). */
  retryThreshold?: number
  /** Server handshakes in progress at most, validated or not (default 1024); more are dropped. */
  maxPendingHandshakes?: number
  /**
   * Handshakes from one IP address with no validated address (no Retry token) in progress at
   * once (default 8); past it that address gets a Retry, which costs us no state.
   */
  maxUnvalidatedPerAddress?: number
  /** An inbound connection finished its handshake. */
  onInboundConnection?(connection: QuicConnection): void
  /** A stream was opened by the remote on `connection`. */
  onIncomingStream(connection: QuicConnection, stream: QuicStream): void
}

export interface RemoteAddress {
  address: string
  port: number
  family: 4 | 6
}

export class QuicEndpoint {
  readonly #options: EndpointOptions
  readonly #socket: Socket
  readonly #family: 4 | 6
  readonly #byCid = new Map<string, QuicConnection>()
  readonly #connections = new Map<QuicConnection, RemoteAddress>()
  readonly #staticKey = randomBytes(32)
  #accepting = false
  #pendingHandshakes = 0
  /** Unvalidated handshakes in progress per IP address; an entry goes with its last one. */
  readonly #unvalidatedByAddress = new Map<string, number>()
  #resetBudget = MAX_RESETS_PER_SECOND
  #resetWindowStart = 0
  #closed = false
  #closing: Promise<void> | undefined
  /** Runs once the socket is closed. */
  onClose?: () => void

  constructor (family: 4 | 6, options: EndpointOptions) {
    this.#options = options
    this.#family = family
    this.#socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, recvBufferSize: SOCKET_BUFFER_SIZE, sendBufferSize: SOCKET_BUFFER_SIZE, lookup: literalLookup })
    this.#socket.on('message', (msg, rinfo) => { this.#onMessage(msg, rinfo) })
    this.#socket.on('error', err => { log('socket error (a refused datagram is a lost packet): %s', err) })
  }

  get family (): 4 | 6 { return this.#family }
  get accepting (): boolean { return this.#accepting }
  get connectionCount (): number { return this.#connections.size }
  /** The connections on this socket, handshaking and closing ones too. */
  get connections (): Iterable<QuicConnection> { return this.#connections.keys() }
  get closed (): boolean { return this.#closed }

  async bind (host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => { reject(err) }
      this.#socket.once('error', onError)
      this.#socket.bind({ address: host, port, exclusive: true }, () => {
        this.#socket.off('error', onError)
        resolve()
      })
    })
  }

  address (): { address: string, port: number } {
    const a = this.#socket.address()
    return { address: a.address, port: a.port }
  }

  /** Starts / stops accepting inbound connections (connections already open are not touched). */
  setAccepting (accepting: boolean): void { this.#accepting = accepting }

  // ---- dialing -----------------------------------------------------------------------------

  /** Where `connection` talks to. */
  remoteOf (connection: QuicConnection): RemoteAddress | undefined { return this.#connections.get(connection) }

  dial (remote: RemoteAddress, expectedRemotePeer?: PeerId, onEstablished?: (connection: QuicConnection) => void, handshake?: HandshakeSettings): QuicConnection {
    if (this.#closed) throw new ConnectionClosedError('the QUIC endpoint is closed')
    const localCid = randomBytes(LOCAL_CID_LENGTH)
    const dcid = randomBytes(LOCAL_CID_LENGTH)
    const connection = new QuicConnection({
      role: 'client',
      crypto: this.#options.crypto,
      privateKey: this.#options.privateKey,
      expectedRemotePeer,
      localCid,
      remoteCid: dcid,
      originalDcid: dcid,
      addressValidated: true,
      loopback: isLoopbackIp(remote.address),
      config: this.#options.config,
      ...handshake,
      send: parts => { this.#send(parts, remote) },
      onEstablished,
      onIncomingStream: stream => { this.#options.onIncomingStream(connection, stream) },
      onTerminated: c => { this.#forget(c) },
      onClosing: () => { this.closeIfIdle() }
    })
    this.#byCid.set(cidKey(localCid), connection)
    this.#connections.set(connection, remote)
    return connection
  }

  // ---- receiving ---------------------------------------------------------------------------

  #onMessage (msg: Buffer, rinfo: RemoteInfo): void {
    if (this.#closed || msg.length === 0) return
    // A view over the Buffer: connections modify packets in place (header protection).
    const datagram = new Uint8Array(msg.buffer, msg.byteOffset, msg.length)
    let header: PacketHeader
    try {
      header = parseHeader(datagram, 0, LOCAL_CID_LENGTH)
    } catch {
      return
    }
    const connection = this.#byCid.get(cidKey(header.dcid))
    if (connection !== undefined) {
      connection.receiveDatagram(datagram)
      return
    }
    if (header.type === 'short') {
      this.#sendStatelessReset(header.dcid, datagram.length, rinfo)
      return
    }
    if (!this.#accepting || datagram.length < MIN_INITIAL_DATAGRAM) return
    if (header.type === 'unknown_version') {
      this.#sendRaw(buildVersionNegotiation(header.dcid, header.scid, [QUIC_V1], randomBytes(1)[0]), rinfo)
      return
    }
    if (header.type === 'initial') this.#accept(datagram, header, rinfo)
  }

  #accept (datagram: Uint8Array, header: PacketHeader, rinfo: RemoteInfo): void {
    const retryThreshold = this.#options.retryThreshold ?? 64
    const maxPending = this.#options.maxPendingHandshakes ?? 1024
    if (header.dcid.length < 8) return // RFC 9000 7.2: a client's first id has >= 8 bytes
    let originalDcid: Uint8Array | undefined
    let retrySourceCid: Uint8Array | undefined
    if (header.token.length > 0) {
      originalDcid = this.#validateToken(header.token, header.dcid, rinfo)
      if (originalDcid !== undefined) retrySourceCid = header.dcid.slice()
    }
    const unvalidatedFromAddress = originalDcid === undefined ? this.#unvalidatedByAddress.get(rinfo.address) ?? 0 : 0
    if (originalDcid === undefined && (this.#pendingHandshakes >= retryThreshold || unvalidatedFromAddress >= (this.#options.maxUnvalidatedPerAddress ?? DEFAULT_MAX_UNVALIDATED_PER_ADDRESS))) {
      this.#sendRetry(header, rinfo)
      return
    }
    if (this.#pendingHandshakes >= maxPending) return
    const remote: RemoteAddress = { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 6 : 4 }
    const localCid = randomBytes(LOCAL_CID_LENGTH)
    const clientDcid = header.dcid.slice()
    let handshaking = true
    this.#pendingHandshakes++
    // Bounded: at most maxPendingHandshakes entries, each removed with its last handshake.
    if (originalDcid === undefined) this.#unvalidatedByAddress.set(rinfo.address, unvalidatedFromAddress + 1)
    const finishHandshake = (): void => {
      if (!handshaking) return
      handshaking = false
      this.#pendingHandshakes--
      if (originalDcid !== undefined) return
      const left = (this.#unvalidatedByAddress.get(rinfo.address) ?? 1) - 1
      if (left <= 0) this.#unvalidatedByAddress.delete(rinfo.address)
      else this.#unvalidatedByAddress.set(rinfo.address, left)
    }
    const connection = new QuicConnection({
      role: 'server',
      crypto: this.#options.crypto,
      privateKey: this.#options.privateKey,
      localCid,
      remoteCid: header.scid.slice(),
      originalDcid: originalDcid ?? clientDcid,
      initialKeyCid: clientDcid,
      retrySourceCid,
      addressValidated: originalDcid !== undefined,
      statelessResetToken: this.#options.crypto.statelessResetToken(this.#staticKey, localCid),
      loopback: isLoopbackIp(rinfo.address),
      config: this.#options.config,
      ...this.#options.handshake,
      send: parts => { this.#send(parts, remote) },
      onEstablished: c => {
        finishHandshake()
        // The client now uses our id: its random one may go.
        this.#byCid.delete(cidKey(clientDcid))
        this.#options.onInboundConnection?.(c)
      },
      onIncomingStream: stream => { this.#options.onIncomingStream(connection, stream) },
      onTerminated: c => {
        finishHandshake()
        this.#byCid.delete(cidKey(clientDcid))
        this.#forget(c)
      },
      onClosing: () => { this.closeIfIdle() }
    })
    this.#byCid.set(cidKey(localCid), connection)
    this.#byCid.set(cidKey(clientDcid), connection)
    this.#connections.set(connection, remote)
    connection.receiveDatagram(datagram)
    // A first datagram that did not even decrypt is noise (or a forgery): keep no state for it.
    if (!connection.receivedValidPacket) connection.terminate()
  }

  #forget (connection: QuicConnection): void {
    this.#byCid.delete(cidKey(connection.localCid))
    this.#connections.delete(connection)
    this.closeIfIdle()
  }

  /**
   * Closes the socket once it no longer accepts and every connection on it is closing or gone:
   * a closing period (RFC 9000 10.2) must not hold a stopped node's socket open.
   */
  closeIfIdle (): void {
    if (this.#accepting || this.#closing !== undefined) return
    for (const c of this.#connections.keys()) if (!c.isClosed) return
    void this.close()
  }

  // ---- Retry tokens ------------------------------------------------------------------------

  #tokenMac (rinfo: RemoteInfo, issuedAt: number, originalDcid: Uint8Array, retryCid: Uint8Array): Buffer {
    return createHmac('sha256', this.#staticKey)
      .update(`${rinfo.address}|${rinfo.port}|${issuedAt}|`)
      .update(originalDcid).update('|').update(retryCid)
      .digest().subarray(0, 16)
  }

  #sendRetry (header: PacketHeader, rinfo: RemoteInfo): void {
    const retryCid = randomBytes(LOCAL_CID_LENGTH)
    const issuedAt = Date.now()
    const odcid = header.dcid
    // token: issuedAt (8 bytes) | odcid length | odcid | MAC (16)
    const token = new Uint8Array(8 + 1 + odcid.length + 16)
    new DataView(token.buffer).setFloat64(0, issuedAt)
    token[8] = odcid.length
    token.set(odcid, 9)
    token.set(this.#tokenMac(rinfo, issuedAt, odcid, retryCid), 9 + odcid.length)
    const packet = new Uint8Array(7 + header.scid.length + retryCid.length + token.length)
    let o = 0
    packet[o++] = 0xf0 | (randomBytes(1)[0] & 0x0f)
    packet[o++] = 0; packet[o++] = 0; packet[o++] = 0; packet[o++] = QUIC_V1
    packet[o++] = header.scid.length
    packet.set(header.scid, o); o += header.scid.length
    packet[o++] = retryCid.length
    packet.set(retryCid, o); o += retryCid.length
    packet.set(token, o)
    const tag = this.#options.crypto.retryIntegrityTag(QUIC_V1, odcid, packet)
    const out = new Uint8Array(packet.length + tag.length)
    out.set(packet)
    out.set(tag, packet.length)
    this.#sendRaw(out, rinfo)
  }

  /** The original destination id a valid token was issued for; undefined for a bad one. */
  #validateToken (token: Uint8Array, retryCid: Uint8Array, rinfo: RemoteInfo): Uint8Array | undefined {
    if (token.length < 8 + 1 + 16) return undefined
    const issuedAt = new DataView(token.buffer, token.byteOffset, 8).getFloat64(0)
    const odcidLength = token[8]
    if (odcidLength > 20 || token.length !== 8 + 1 + odcidLength + 16) return undefined
    if (!(Date.now() - issuedAt < RETRY_TOKEN_LIFETIME && issuedAt <= Date.now() + 1000)) return undefined
    const odcid = token.subarray(9, 9 + odcidLength)
    const mac = token.subarray(9 + odcidLength)
    if (!timingSafeEqual(mac, this.#tokenMac(rinfo, issuedAt, odcid, retryCid))) return undefined
    return odcid.slice()
  }

  // ---- stateless reset ---------------------------------------------------------------------

  #sendStatelessReset (dcid: Uint8Array, receivedLength: number, rinfo: RemoteInfo): void {
    // Smaller than what triggered it (so two endpoints cannot loop), and at least 21 bytes.
    if (receivedLength <= 22) return
    const now = performance.now()
    if (now - this.#resetWindowStart > 1000) {
      this.#resetWindowStart = now
      this.#resetBudget = MAX_RESETS_PER_SECOND
    }
    if (this.#resetBudget <= 0) return
    this.#resetBudget--
    const length = Math.min(receivedLength - 1, 43)
    const packet = randomBytes(length)
    packet[0] = 0x40 | (packet[0] & 0x3f)
    packet.set(this.#options.crypto.statelessResetToken(this.#staticKey, dcid), length - 16)
    this.#sendRaw(packet, rinfo)
  }

  // ---- sending -----------------------------------------------------------------------------

  #send (parts: Uint8Array[], remote: RemoteAddress): void {
    if (this.#closed) return
    this.#socket.send(parts, remote.port, remote.address)
  }

  /**
   * A datagram that is no QUIC packet, from this endpoint's socket (UDP hole punching: it
   * opens our NAT's mapping towards `remote` so that the peer's Initial gets in).
   */
  sendDatagram (bytes: Uint8Array, remote: RemoteAddress): void {
    if (this.#closed) return
    this.#socket.send(bytes, remote.port, remote.address)
  }

  #sendRaw (packet: Uint8Array, rinfo: RemoteInfo): void {
    if (this.#closed) return
    this.#socket.send(packet, rinfo.port, rinfo.address)
  }

  /** Closes every connection at once and the socket. */
  async close (): Promise<void> {
    if (this.#closing !== undefined) return await this.#closing
    this.#accepting = false
    let release!: () => void
    this.#closing = new Promise(resolve => { release = resolve })
    for (const c of [...this.#connections.keys()]) {
      if (!c.isClosed) c.close(0, 'endpoint closing')
      c.terminate()
    }
    this.#closed = true
    // The CONNECTION_CLOSEs just sent leave on the next turn; close the socket after them.
    runOnNextTurn(() => {
      this.#socket.close(() => {
        this.onClose?.()
        release()
      })
    })
    await this.#closing
  }
}

/**
 * The socket's address lookup, answered at once for an IP literal (every address we bind or send
 * to is one: QUIC addresses are /ip4 or /ip6). dgram's default sends even a literal through
 * dns.lookup and a process.nextTick, once per datagram; with that and a completion callback
 * (also a nextTick) a send cost ~15 % more CPU. A datagram the OS refuses (EMSGSIZE for a PMTU
 * probe, ENOBUFS under load) is a lost packet: the socket's 'error' event logs it.
 */
function literalLookup (hostname: string, options: LookupOneOptions, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = isIP(hostname)
  if (family !== 0) callback(null, hostname, family)
  else dnsLookup(hostname, options, callback)
}

function cidKey (cid: Uint8Array): string {
  let s = ''
  for (let i = 0; i < cid.length; i++) s += String.fromCharCode(cid[i])
  return s
}
