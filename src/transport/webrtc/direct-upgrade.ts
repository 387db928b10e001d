/**
 * The last step of a WebRTC Direct connection, on both sides (specs webrtc/webrtc-direct.md):
 * once DTLS is up, Noise XX runs on the pre-negotiated data channel 0 with the prologue
 * `"libp2p-webrtc-noise:" || multihash(client fp) || multihash(server fp)`, the server being
 * the initiator. The prologue binds the DTLS certificates to the libp2p identities: a man in
 * the middle with other certificates cannot finish the handshake. Browser-safe.
 *
 * The client, which reads Noise's last message, closes channel 0 afterwards; the server leaves
 * it to the client, so no handshake byte is cut by an early close.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '../../interface/peer-id.ts'
import type { ConnectionEncrypter, SecureOptions } from '../../interface/security.ts'
import { UnsupportedProtocolError } from '../../util/errors.ts'
import { raceSignal } from '../../util/abort.ts'
import type { DataChannelLike, PeerConnectionLike } from './data-channel.ts'
import { WebRTCConnectionError } from './errors.ts'
import { WebRTCConnection } from './muxer.ts'
import type { WebRTCConnectionOptions } from './muxer.ts'
import { WebRTCStream } from './stream.ts'
import { noisePrologue } from './direct-sdp.ts'

export interface PrologueSecureOptions extends SecureOptions {
  prologue?: Uint8Array
}

/** The node's Noise (a transport may not import security/: it takes it from its components). */
export function noiseOf (encrypters: readonly ConnectionEncrypter[] | undefined): ConnectionEncrypter {
  const noise = encrypters?.find(e => e.protocol === '/noise')
  if (noise === undefined) throw new UnsupportedProtocolError('WebRTC Direct needs Noise among the node\'s connectionEncrypters')
  return noise
}

export interface DirectUpgradeInit {
  role: 'server' | 'client'
  pc: PeerConnectionLike
  /** The negotiated channel with id 0. */
  handshakeChannel: DataChannelLike
  noise: ConnectionEncrypter
  clientFingerprint: Uint8Array
  serverFingerprint: Uint8Array
  /** The client knows whom it dials; the server learns it from Noise. */
  remotePeer?: PeerId
  remoteAddr: Multiaddr
  localAddr?: Multiaddr
  signal: AbortSignal
  options?: WebRTCConnectionOptions
}

/** Waits for channel 0, runs Noise on it, and returns the connection for the switch. */
export async function upgradeDirect (init: DirectUpgradeInit): Promise<WebRTCConnection> {
  const channel = init.handshakeChannel
  let onOpen: (() => void) | undefined
  const stream = new WebRTCStream(channel, init.role === 'server' ? 'outbound' : 'inbound', () => {})
  channel.setEvents({
    onOpen: () => { onOpen?.() },
    onMessage: (data) => { stream.receive(data) },
    onBufferedAmountLow: () => { stream.bufferedAmountLow() },
    onClose: () => { stream.channelClosed() }
  })
  if (!channel.isOpen) {
    await raceSignal(new Promise<void>((resolve, reject) => {
      onOpen = resolve
      void stream.closed.then(() => { reject(new WebRTCConnectionError('the handshake channel closed before it opened')) })
    }), init.signal)
  }
  const options: PrologueSecureOptions = {
    prologue: noisePrologue(init.clientFingerprint, init.serverFingerprint),
    signal: init.signal
  }
  let remotePeer: PeerId
  if (init.role === 'server') {
    remotePeer = (await init.noise.secureOutbound(stream, options)).remotePeer
  } else {
    remotePeer = (await init.noise.secureInbound(stream, { ...options, remotePeer: init.remotePeer })).remotePeer
    channel.close()
  }
  return new WebRTCConnection({
    pc: init.pc,
    remotePeer,
    remoteAddr: init.remoteAddr,
    localAddr: init.localAddr,
    direction: init.role === 'server' ? 'inbound' : 'outbound',
    encryption: '/noise',
    options: init.options
  })
}
