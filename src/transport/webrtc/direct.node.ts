/**
 * WebRTC Direct in Node on node-datachannel (specs webrtc/webrtc-direct.md): the listener and
 * the dialer.
 *
 * Listener: one UDP socket per listen address, shared by every peer connection through
 * libdatachannel's ICE UDP mux. A STUN binding request with an unknown ufrag is the only sign of
 * a new client; before any native peer connection is made for it, the ufrag is validated (v1 or
 * v2, see direct-sdp.ts), the same ufrag is not served twice, and new peer connections pass a
 * token bucket and a cap on handshakes in progress, so a STUN flood costs a bounded amount of
 * memory and work. Every peer connection is closed explicitly when it fails, times out or ends
 * (node-datachannel never collects one otherwise).
 *
 * Dialer: a peer connection whose ICE credentials we set (v1 by default, v2 on request), the
 * server's answer made up from its address and certhash (the DTLS fingerprint is verified
 * against it), then Noise as responder.
 */
import { createSocket } from 'node:dgram'
import type { Multiaddr } from '@multiformats/multiaddr'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '../../interface/peer-id.ts'
import type { ConnectionEncrypter } from '../../interface/security.ts'
import type { Listener, ListenerInit, RawConnection } from '../../interface/transport.ts'
import { ListenError } from '../../util/errors.ts'
import { TokenBucket } from '../../util/token-bucket.ts'
import { withDeadline } from '../../util/deadline.ts'
import { logger } from '../../util/logger.ts'
import { isWildcardIp } from '../../util/multiaddr.ts'
import { interfaceAddrs } from '../interface-addrs.node.ts'
import { closePeerConnection, loadNodeDatachannel, fromNdcDataChannel, fromNdcPeerConnection, onPeerConnectionState } from './native.node.ts'
import type { NdcPeerConnection } from './native.node.ts'
import { loadOrCreateDirectCertificate } from './certificate.node.ts'
import type { DirectCertificate } from './certificate.node.ts'
import { clientOfferSdp, credentialsFromStunUsername, fingerprintFromSdp, fingerprintFromSdpValue, newClientCredentials, serverAnswerSdp } from './direct-sdp.ts'
import type { DirectIceCredentials } from './direct-sdp.ts'
import { upgradeDirect } from './direct-upgrade.ts'
import { WebRTCConnectionError } from './errors.ts'
import type { WebRTCDirectTarget } from './direct-address.ts'
import { parseWebRTCDirectAddress, toWebRTCDirectMultiaddr } from './direct-address.ts'
import type { WebRTCConnectionOptions } from './muxer.ts'

const log = logger('webrtc-direct')

/** Frames are <= 16 KiB; SCTP messages need no more. */
const MAX_MESSAGE_SIZE = 16 * 1024

export interface WebRTCDirectListenOptions {
  /** Where the certificate is kept (stable certhash across restarts); temporary without. */
  certificateDirectory?: string
  /** ICE + DTLS + Noise must finish within this (default 10 s). */
  handshakeTimeout?: number
  /** New peer connections per second (default 50) and burst (default 100). */
  newConnectionsPerSecond?: number
  newConnectionsBurst?: number
  /** Handshakes in progress at once (default 64); further clients are ignored until one ends. */
  maxPendingHandshakes?: number
  connection?: WebRTCConnectionOptions
}

export interface WebRTCDirectDialOptions {
  /** ICE credential scheme (default 1: go-libp2p and js-libp2p listeners accept it). */
  ufragVersion?: 1 | 2
  connection?: WebRTCConnectionOptions
}

/** Counters a test (or a metrics exporter) reads. */
export interface WebRTCDirectListenerStats {
  /** Native peer connections alive (handshaking or open). */
  peerConnections: number
  pendingHandshakes: number
  rejectedUfrags: number
  rateLimited: number
}

export class WebRTCDirectListener implements Listener {
  readonly #init: ListenerInit
  readonly #noise: () => ConnectionEncrypter
  readonly #options: WebRTCDirectListenOptions
  readonly #bucket: TokenBucket
  readonly #pending = new Map<string, NdcPeerConnection>()
  readonly #live = new Set<NdcPeerConnection>()
  #mux: { stop(): void } | undefined
  #certificate: DirectCertificate | undefined
  /** The bound address (its host may be a wildcard; getAddrs expands it). */
  #bound: { host: string, port: number, family: 4 | 6 } | undefined
  #listenAddr: Multiaddr | undefined
  #closed = false
  readonly stats: WebRTCDirectListenerStats = { peerConnections: 0, pendingHandshakes: 0, rejectedUfrags: 0, rateLimited: 0 }

  constructor (noise: () => ConnectionEncrypter, options: WebRTCDirectListenOptions, init: ListenerInit) {
    this.#noise = noise
    this.#options = options
    this.#init = init
    this.#bucket = new TokenBucket(options.newConnectionsBurst ?? 100, options.newConnectionsPerSecond ?? 50)
  }

  async listen (addr: Multiaddr): Promise<void> {
    const target = parseWebRTCDirectAddress(addr, 'listen')
    if (target === undefined) throw new ListenError(`cannot listen on ${addr.toString()} with webrtc-direct`)
    this.#noise() // fails now, not on the first client, when the node has no Noise
    const ndc = await loadNodeDatachannel()
    this.#certificate = await loadOrCreateDirectCertificate(this.#options.certificateDirectory)
    let mux: InstanceType<typeof ndc.IceUdpMuxListener> | undefined
    // libdatachannel's mux cannot bind port 0: for an ephemeral port we ask the OS for a free
    // one and retry if another socket takes it in between.
    for (let attempt = 0; mux === undefined; attempt++) {
      const port = target.port !== 0 ? target.port : await freeUdpPort(target.host, target.family)
      try {
        mux = new ndc.IceUdpMuxListener(port, target.host)
      } catch (err) {
        if (target.port !== 0 || attempt >= 4) throw new ListenError(`cannot listen on ${addr.toString()}: ${(err as Error).message}`, { cause: err })
      }
    }
    const port = mux.port()
    this.#mux = mux
    const host = target.host
    const family = target.family
    mux.onUnhandledStunRequest((req) => {
      this.#onStunRequest(ndc, req, host, port, family)
    })
    this.#bound = { host, port, family }
    this.#listenAddr = toWebRTCDirectMultiaddr(host, port, family, [this.#certificate.fingerprint])
    log('listening on %s', this.#listenAddr.toString())
  }

  /** The listen address; a wildcard host (0.0.0.0, ::) becomes this machine's interface addresses. */
  getAddrs (): Multiaddr[] {
    const bound = this.#bound
    const certificate = this.#certificate
    if (bound === undefined || certificate === undefined || this.#closed) return []
    const hosts = isWildcardIp(bound.host)
      ? interfaceAddrs(bound.family, bound.port).map(a => a.getComponents()[0].value ?? '')
      : [bound.host]
    return hosts.map(h => toWebRTCDirectMultiaddr(h, bound.port, bound.family, [certificate.fingerprint]))
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try { this.#mux?.stop() } catch {}
    for (const pc of this.#pending.values()) {
      closePeerConnection(pc)
    }
    this.#pending.clear()
    await this.#certificate?.dispose()
  }

  #onStunRequest (ndc: Awaited<ReturnType<typeof loadNodeDatachannel>>, req: { ufrag: string, localUfrag: string, host: string, port: number }, host: string, port: number, family: 4 | 6): void {
    if (this.#closed) return
    let credentials: DirectIceCredentials
    try {
      credentials = credentialsFromStunUsername(String(req.localUfrag), String(req.ufrag))
    } catch (err) {
      this.stats.rejectedUfrags++
      log('ignoring a STUN request from %s:%d: %s', req.host, req.port, (err as Error).message)
      return
    }
    // STUN retransmits arrive until the new peer connection owns the ufrag.
    if (this.#pending.has(credentials.serverUfrag)) return
    if (this.#pending.size >= (this.#options.maxPendingHandshakes ?? 64) || !this.#bucket.take()) {
      this.stats.rateLimited++
      return
    }
    const remoteFamily: 4 | 6 = req.host.includes(':') ? 6 : 4
    const remoteAddr = multiaddr(`/ip${remoteFamily}/${req.host}/udp/${req.port}/webrtc-direct`)
    const pc = new ndc.PeerConnection(`webrtc-direct-server-${credentials.clientUfrag.slice(-8)}`, {
      iceServers: [],
      enableIceUdpMux: true,
      bindAddress: host,
      portRangeBegin: port,
      portRangeEnd: port,
      disableAutoNegotiation: true,
      disableFingerprintVerification: true,
      certificatePemFile: this.#certificate!.certFile,
      keyPemFile: this.#certificate!.keyFile,
      maxMessageSize: MAX_MESSAGE_SIZE
    })
    this.#pending.set(credentials.serverUfrag, pc)
    this.#track(pc)
    void withDeadline(this.#options.handshakeTimeout ?? 10_000, undefined, `WebRTC Direct handshake with ${req.host}:${req.port} timed out`, async (signal) => {
      const adapter = fromNdcPeerConnection(pc)
      const closedEarly = new Promise<never>((_resolve, reject) => {
        adapter.onClosed((err) => { reject(err ?? new WebRTCConnectionError('the peer connection closed during the handshake')) })
      })
      closedEarly.catch(() => {})
      pc.setRemoteDescription(clientOfferSdp({ host: req.host, port: req.port, family: remoteFamily, ufrag: credentials.clientUfrag, pwd: credentials.clientPwd }), 'offer')
      pc.setLocalDescription('answer', { iceUfrag: credentials.serverUfrag, icePwd: credentials.serverPwd })
      const handshakeChannel = fromNdcDataChannel(pc, pc.createDataChannel('', { negotiated: true, id: 0 }))
      const conn = await Promise.race([closedEarly, (async () => {
        await waitConnected(pc, signal)
        const clientFingerprint = fingerprintFromSdpValue(pc.remoteFingerprint().value)
        if (clientFingerprint === undefined) throw new WebRTCConnectionError('the client\'s certificate has no sha-256 fingerprint')
        return await upgradeDirect({
          role: 'server',
          pc: adapter,
          handshakeChannel,
          noise: this.#noise(),
          clientFingerprint,
          serverFingerprint: this.#certificate!.fingerprint,
          remoteAddr,
          localAddr: this.#listenAddr,
          signal,
          options: this.#options.connection
        })
      })()])
      return conn
    }).then((conn) => {
      this.#pending.delete(credentials.serverUfrag)
      if (this.#closed) {
        conn.abort(new WebRTCConnectionError('the listener closed'))
        return
      }
      this.#init.onConnection(conn)
    }, (err: unknown) => {
      this.#pending.delete(credentials.serverUfrag)
      log('WebRTC Direct handshake with %s:%d failed: %s', req.host, req.port, (err as Error).message)
      closePeerConnection(pc)
    })
  }

  #track (pc: NdcPeerConnection): void {
    this.#live.add(pc)
    this.stats.peerConnections = this.#live.size
    this.stats.pendingHandshakes = this.#pending.size
    onPeerConnectionState(pc, (state) => {
      if (state === 'closed') {
        this.#live.delete(pc)
        this.stats.peerConnections = this.#live.size
      }
      this.stats.pendingHandshakes = this.#pending.size
    })
  }
}

/** A UDP port that was free a moment ago. */
async function freeUdpPort (host: string, family: 4 | 6): Promise<number> {
  const socket = createSocket(family === 6 ? 'udp6' : 'udp4')
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(0, host, () => { resolve() })
    })
    return socket.address().port
  } finally {
    socket.close()
  }
}

/** Resolves when ICE and DTLS are up; rejects when the connection fails or `signal` fires. */
async function waitConnected (pc: NdcPeerConnection, signal: AbortSignal): Promise<void> {
  if (pc.state() === 'connected') return
  let stop: (() => void) | undefined
  let onAbort: (() => void) | undefined
  try {
    await new Promise<void>((resolve, reject) => {
      onAbort = () => { reject(signal.reason) }
      signal.addEventListener('abort', onAbort, { once: true })
      stop = onPeerConnectionState(pc, (state) => {
        if (state === 'connected') resolve()
        if (state === 'failed' || state === 'closed') reject(new WebRTCConnectionError(`the peer connection ${state}`))
      })
    })
  } finally {
    stop?.()
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}

/** Dials a WebRTC Direct listener from Node. */
export async function dialDirect (target: WebRTCDirectTarget, noise: ConnectionEncrypter, remotePeer: PeerId | undefined, options: WebRTCDirectDialOptions, signal: AbortSignal): Promise<RawConnection> {
  const ndc = await loadNodeDatachannel()
  const credentials = newClientCredentials(options.ufragVersion ?? 1)
  const pc = new ndc.PeerConnection('webrtc-direct-client', {
    iceServers: [],
    disableAutoNegotiation: true,
    maxMessageSize: MAX_MESSAGE_SIZE
  })
  try {
    const adapter = fromNdcPeerConnection(pc)
    const handshakeChannel = fromNdcDataChannel(pc, pc.createDataChannel('', { negotiated: true, id: 0 }))
    pc.setLocalDescription('offer', { iceUfrag: credentials.clientUfrag, icePwd: credentials.clientPwd })
    const local = pc.localDescription()
    const clientFingerprint = local === null ? undefined : fingerprintFromSdp(local.sdp)
    if (clientFingerprint === undefined) throw new WebRTCConnectionError('node-datachannel gave no sha-256 fingerprint')
    const serverFingerprint = target.certhashes[0]
    pc.setRemoteDescription(serverAnswerSdp({ host: target.host, port: target.port, family: target.family, ufrag: credentials.serverUfrag, pwd: credentials.serverPwd }, serverFingerprint), 'answer')
    await waitConnected(pc, signal)
    return await upgradeDirect({
      role: 'client',
      pc: adapter,
      handshakeChannel,
      noise,
      clientFingerprint,
      serverFingerprint,
      remotePeer,
      remoteAddr: toWebRTCDirectMultiaddr(target.host, target.port, target.family, target.certhashes),
      signal,
      options: options.connection
    })
  } catch (err) {
    closePeerConnection(pc)
    throw err
  }
}
