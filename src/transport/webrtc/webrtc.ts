/**
 * The WebRTC transport (`/webrtc`, specs webrtc/webrtc.md): two peers that cannot listen
 * (browsers, or nodes behind NATs) get a direct connection by exchanging SDP and ICE candidates
 * over a circuit relay v2 connection (`/webrtc-signaling/0.0.1`). The result is a peer
 * connection whose data channels are the streams (stream.ts); its remote address is the
 * selected ICE candidate's (`/ip4/<ip>/udp/<port>/webrtc/p2p/<peer>`, or `/webrtc/p2p/<peer>`
 * when the browser hides it), with no `/p2p-circuit`: the relay carries no byte of it.
 *
 * Usage: `transports: [webSockets(), circuitRelayTransport(), webRTC()]`, and listen on
 * `<relay addr>/p2p-circuit/webrtc` (or `/p2p-circuit/webrtc` for auto-relay): that reserves
 * a slot on the relay, as `<relay addr>/p2p-circuit` does, and the node announces both
 * `<relay>/p2p-circuit` and `<relay>/p2p-circuit/webrtc`. Peers dial
 * `<relay addr>/p2p-circuit/webrtc/p2p/<peer>`. Needs the circuit relay transport; in Node it
 * needs the optional dependency `node-datachannel` (WebRTCUnavailableError otherwise).
 *
 * ICE servers: none by default, so only host candidates are exchanged (peers on one network, or
 * with public addresses); across NATs give STUN servers in `rtcConfiguration.iceServers`.
 */
import { CODE_P2P, CODE_P2P_CIRCUIT, CODE_WEBRTC, multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../../interface/common.ts'
import type { Connection } from '../../interface/connection.ts'
import type { Logger } from '../../interface/logger.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import type { Stream } from '../../interface/stream.ts'
import type { Listener, ListenerInit, RawConnection, Transport, TransportNodeContext } from '../../interface/transport.ts'
import { peerIdFromString } from '../../peer/peer-id.ts'
import { closeOrAbort, Deadline, withDeadline } from '../../util/deadline.ts'
import { InvalidMultiaddrError, LimitExceededError, NotStartedError } from '../../util/errors.ts'
import { parseIp } from '../../util/ip.ts'
import { StreamReader } from '../../util/stream-reader.ts'
import { loadRTCPeerConnection } from '#webrtc-runtime'
import { fromRTCPeerConnection } from './data-channel.ts'
import { WebRTCConnection } from './muxer.ts'
import type { WebRTCConnectionOptions } from './muxer.ts'
import { answerSignaling, closeInitChannel, initiateSignaling } from './signaling.ts'
import { SIGNALING_PROTOCOL } from './signaling-message.ts'

export { SIGNALING_PROTOCOL } from './signaling-message.ts'
export { WebRTCSignalingError, WebRTCUnavailableError, WebRTCConnectionError, WebRTCMessageError, WebRTCFrameTooLargeError } from './errors.ts'

export interface WebRTCOptions {
  /** Given to every RTCPeerConnection (ICE servers: none by default). */
  rtcConfiguration?: RTCConfiguration
  /** Whole dial budget: the relayed connection, signaling and ICE (default 30 s). */
  dialTimeout?: number
  /** Bound on an inbound signaling exchange (default 30 s). */
  signalingTimeout?: number
  /** Inbound signaling exchanges at once, over all connections (default 32; more are reset). */
  maxInboundSignaling?: number
  connection?: WebRTCConnectionOptions
}

/** How long the signaling stream may take to close after the connection is up. */
const SIGNALING_CLOSE_TIMEOUT = 5_000
/** Bound on the responder's wait for its answer to reach the initiator (see relayRoundTrip). */
const ANSWER_DELIVERY_TIMEOUT = 2_000
/** The ping protocol (specs ping/ping.md): every libp2p node serves it, relayed or not. */
const PING_PROTOCOL = '/ipfs/ping/1.0.0'
const PING_LENGTH = 32

/**
 * One ping round trip on `carrier` (the relayed connection our answer just went over): when
 * the pong is back, the answer, written before the ping on the same connection, has reached
 * the initiator. Bounded; any failure (a peer without ping) just ends the wait.
 */
async function relayRoundTrip (carrier: Connection, signal: AbortSignal): Promise<void> {
  await withDeadline(ANSWER_DELIVERY_TIMEOUT, [signal], 'the ping round trip over the relay timed out', async bounded => {
    const stream = await carrier.newStream(PING_PROTOCOL, { signal: bounded, runOnLimitedConnection: true })
    try {
      const payload = new Uint8Array(PING_LENGTH)
      globalThis.crypto.getRandomValues(payload)
      await stream.write(payload, { signal: bounded })
      const reader = new StreamReader(stream)
      await reader.readExactly(PING_LENGTH, { signal: bounded })
      await stream.close({ signal: bounded })
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  })
}

/** `<relay>/p2p-circuit/webrtc/p2p/<peer>` -> the circuit address to signal over and the peer. */
export function parseWebRTCAddr (addr: Multiaddr): { circuitAddr: Multiaddr, peer: string } | undefined {
  const components = addr.getComponents()
  const n = components.length
  if (n < 4 || components[n - 1].code !== CODE_P2P || components[n - 2].code !== CODE_WEBRTC || components[n - 3].code !== CODE_P2P_CIRCUIT) return undefined
  const peer = components[n - 1].value
  if (peer === undefined) return undefined
  if (components.slice(0, n - 3).some(c => c.code === CODE_P2P_CIRCUIT || c.code === CODE_WEBRTC)) return undefined
  return { circuitAddr: multiaddr([...components.slice(0, n - 2), components[n - 1]]), peer }
}

/** `<relay addr>/p2p-circuit/webrtc` or `/p2p-circuit/webrtc` -> the circuit listen address. */
export function parseWebRTCListenAddr (addr: Multiaddr): Multiaddr | undefined {
  const components = addr.getComponents()
  const n = components.length
  if (n < 2 || components[n - 1].code !== CODE_WEBRTC || components[n - 2].code !== CODE_P2P_CIRCUIT) return undefined
  return multiaddr(components.slice(0, n - 1))
}

export class WebRTCTransport implements Transport {
  readonly name = 'webrtc'
  readonly #options: WebRTCOptions
  #context: TransportNodeContext | undefined
  #log: Logger | undefined
  #stop = new AbortController()
  #started = false
  #inboundSignaling = 0

  constructor (options: WebRTCOptions = {}) {
    this.#options = options
  }

  attachNode (context: TransportNodeContext): void {
    this.#context = context
    this.#log = context.components.logger('webrtc')
  }

  #requireContext (): TransportNodeContext {
    if (this.#context === undefined) throw new NotStartedError('webRTC() needs a node: give it in `transports` of createLibp2p')
    return this.#context
  }

  start (): void {
    const context = this.#requireContext()
    if (this.#started) return
    this.#started = true
    this.#stop = new AbortController()
    context.components.registrar.handle(SIGNALING_PROTOCOL, (stream, connection) => { void this.#onSignaling(stream, connection) }, {
      // signaling runs over relayed connections, which are limited
      runOnLimitedConnection: true,
      maxInboundStreams: 4
    })
  }

  stop (): void {
    if (!this.#started) return
    this.#started = false
    this.#context?.components.registrar.unhandle(SIGNALING_PROTOCOL)
    this.#stop.abort(new NotStartedError('the node is stopping'))
  }

  dialFilter (addrs: Multiaddr[]): Multiaddr[] {
    return addrs.filter(a => parseWebRTCAddr(a) !== undefined)
  }

  listenFilter (addrs: Multiaddr[]): Multiaddr[] {
    return addrs.filter(a => parseWebRTCListenAddr(a) !== undefined)
  }

  createListener (init: ListenerInit): Listener {
    return new WebRTCListener(this.#requireContext(), init)
  }

  async dial (addr: Multiaddr, options: AbortOptions = {}): Promise<RawConnection> {
    const context = this.#requireContext()
    const target = parseWebRTCAddr(addr)
    if (target === undefined) throw new InvalidMultiaddrError(`cannot dial ${addr.toString()} with webrtc (<relay>/p2p-circuit/webrtc/p2p/<peer> expected)`)
    const peer = peerIdFromString(target.peer)
    const RTC = await loadRTCPeerConnection()
    return await withDeadline(this.#options.dialTimeout ?? 30_000, [options.signal, this.#stop.signal], `WebRTC dial to ${addr.toString()} timed out`, async signal => {
      const cm = context.components.connectionManager
      // Signal over any open connection to the peer (usually the relayed one). A new one is
      // forced: a plain dial to the peer would join the dial this one is part of.
      const carrier = cm.getConnections(peer).find(c => c.status === 'open') ??
        await cm.openConnection(target.circuitAddr, { signal, force: true })
      const stream = await carrier.newStream(SIGNALING_PROTOCOL, { signal, runOnLimitedConnection: true })
      const pc = new RTC(this.#options.rtcConfiguration ?? {})
      // Built now, so channels the remote opens as soon as it is connected are not missed.
      const connection = this.#connectionOf(pc, peer, 'outbound')
      try {
        const { initChannel } = await initiateSignaling(pc, stream, signal)
        await closeInitChannel(initChannel)
        void closeOrAbort(stream, SIGNALING_CLOSE_TIMEOUT)
        connection.remoteAddr = await remoteAddressOf(pc, peer)
        this.#log?.('direct connection to %s at %s (signaled over %s)', peer, connection.remoteAddr, carrier.remoteAddr)
        return connection
      } catch (err) {
        stream.abort(err as Error)
        connection.abort(err as Error)
        throw err
      }
    })
  }

  async #onSignaling (stream: Stream, carrier: Connection): Promise<void> {
    const context = this.#requireContext()
    const max = this.#options.maxInboundSignaling ?? 32
    if (this.#inboundSignaling >= max) {
      stream.abort(new LimitExceededError(`more than ${max} inbound WebRTC signaling exchanges at once`))
      return
    }
    this.#inboundSignaling++
    const timeout = this.#options.signalingTimeout ?? 30_000
    const deadline = new Deadline(timeout, this.#stop.signal, `WebRTC signaling timed out after ${timeout} ms`)
    let connection: WebRTCConnection | undefined
    try {
      const RTC = await loadRTCPeerConnection()
      const pc = new RTC(this.#options.rtcConfiguration ?? {})
      connection = this.#connectionOf(pc, carrier.remotePeer, 'inbound')
      await answerSignaling(pc, stream, deadline.signal, async () => { await relayRoundTrip(carrier, deadline.signal) })
      void closeOrAbort(stream, SIGNALING_CLOSE_TIMEOUT)
      connection.remoteAddr = await remoteAddressOf(pc, carrier.remotePeer)
      this.#log?.('direct connection from %s at %s (signaled over %s)', carrier.remotePeer, connection.remoteAddr, carrier.remoteAddr)
      context.acceptIncoming(connection)
    } catch (err) {
      this.#log?.('signaling from %s failed: %s', carrier.remotePeer, err)
      stream.abort(err as Error)
      connection?.abort(err as Error)
    } finally {
      deadline.clear()
      this.#inboundSignaling--
    }
  }

  #connectionOf (pc: RTCPeerConnection, remotePeer: PeerId, direction: 'inbound' | 'outbound'): WebRTCConnection {
    return new WebRTCConnection({
      pc: fromRTCPeerConnection(pc),
      remotePeer,
      remoteAddr: multiaddr(`/webrtc/p2p/${remotePeer.toString()}`),
      direction,
      // the SDP exchange over an authenticated connection authenticated the peer (no Noise)
      encryption: '/webrtc',
      options: this.#options.connection
    })
  }
}

/**
 * Listens on `<relay addr>/p2p-circuit/webrtc` through the circuit relay transport's listener
 * for `<relay addr>/p2p-circuit` (the reservation), announcing its addresses with and without
 * `/webrtc`. Inbound WebRTC connections arrive through the signaling handler, not here.
 */
class WebRTCListener implements Listener {
  readonly #context: TransportNodeContext
  readonly #init: ListenerInit
  #inner: Listener | undefined

  constructor (context: TransportNodeContext, init: ListenerInit) {
    this.#context = context
    this.#init = init
  }

  async listen (addr: Multiaddr): Promise<void> {
    const circuit = parseWebRTCListenAddr(addr)
    if (circuit === undefined) throw new InvalidMultiaddrError(`not a WebRTC listen address: ${addr.toString()}`)
    if (this.#context.createListener === undefined) throw new NotStartedError('this node cannot listen through another transport')
    this.#inner = this.#context.createListener(circuit, this.#init)
    await this.#inner.listen(circuit)
  }

  getAddrs (): Multiaddr[] {
    const circuits = this.#inner?.getAddrs() ?? []
    return [...circuits, ...circuits.map(a => a.encapsulate('/webrtc'))]
  }

  async close (): Promise<void> {
    const inner = this.#inner
    this.#inner = undefined
    await inner?.close()
  }
}

/**
 * The selected candidate pair's remote side as `/ip4|ip6/<ip>/udp/<port>/webrtc/p2p/<peer>`;
 * `/webrtc/p2p/<peer>` when the stats do not show an IP (a browser's mDNS host name).
 */
async function remoteAddressOf (pc: RTCPeerConnection, peer: PeerId): Promise<Multiaddr> {
  const fallback = multiaddr(`/webrtc/p2p/${peer.toString()}`)
  try {
    const stats: Array<Record<string, unknown>> = []
    ;(await pc.getStats()).forEach((s: Record<string, unknown>) => { stats.push(s) })
    const byId = new Map(stats.map(s => [s.id, s]))
    const transport = stats.find(s => s.type === 'transport' && typeof s.selectedCandidatePairId === 'string')
    const pair = (transport === undefined ? undefined : byId.get(transport.selectedCandidatePairId)) ??
      stats.find(s => s.type === 'candidate-pair' && (s.selected === true || s.nominated === true))
    const remote = (pair === undefined ? undefined : byId.get(pair.remoteCandidateId)) ??
      (stats.filter(s => s.type === 'remote-candidate').length === 1 ? stats.find(s => s.type === 'remote-candidate') : undefined)
    const ip = remote?.address ?? remote?.ip
    const port = remote?.port
    if (typeof ip !== 'string' || typeof port !== 'number') return fallback
    const bytes = parseIp(ip)
    if (bytes === undefined) return fallback
    return multiaddr(`/${bytes.length === 4 ? 'ip4' : 'ip6'}/${ip}/udp/${port}/webrtc/p2p/${peer.toString()}`)
  } catch {
    return fallback
  }
}

/** The WebRTC transport factory for `transports: [webRTC()]`. */
export function webRTC (options: WebRTCOptions = {}): () => WebRTCTransport {
  return () => new WebRTCTransport(options)
}
