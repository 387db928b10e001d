/**
 * WebRTC Direct's browser runtime (`#webrtc-direct-runtime`): browsers only dial, with the
 * native RTCPeerConnection.
 *
 * ICE credentials: by default v1 where the browser still lets us munge the offer's ufrag/pwd
 * (every go/js listener accepts v1), else v2 (Chrome with the no-munging field trial throws
 * InvalidModificationError): the browser keeps its own credentials and the server is told to
 * use `libp2p+webrtc+v2/<our pwd>`. `ufragVersion: 2` forces v2.
 */
import type { PeerId } from '../../interface/peer-id.ts'
import type { ConnectionEncrypter } from '../../interface/security.ts'
import type { Listener, ListenerInit, RawConnection } from '../../interface/transport.ts'
import { UnsupportedProtocolError } from '../../util/errors.ts'
import { raceSignal } from '../../util/abort.ts'
import type { WebRTCDirectTarget } from './direct-address.ts'
import type { WebRTCConnectionOptions } from './muxer.ts'
import { fromRTCDataChannel, fromRTCPeerConnection } from './data-channel.ts'
import { UFRAG_V2_PREFIX, fingerprintFromSdp, newClientCredentials, serverAnswerSdp } from './direct-sdp.ts'
import { upgradeDirect } from './direct-upgrade.ts'
import { toWebRTCDirectMultiaddr } from './direct-address.ts'
import { WebRTCConnectionError } from './errors.ts'

export const canListen = false

export interface WebRTCDirectRuntimeOptions {
  certificateDirectory?: string
  handshakeTimeout?: number
  newConnectionsPerSecond?: number
  newConnectionsBurst?: number
  maxPendingHandshakes?: number
  /** 1: v1 only; 2: v2 only; default: v1 where munging is allowed, else v2. */
  ufragVersion?: 1 | 2
  connection?: WebRTCConnectionOptions
}

function sdpLine (sdp: string, name: string): string | undefined {
  const m = new RegExp(`^a=${name}:(\\S+)\\s*$`, 'm').exec(sdp)
  return m?.[1]
}

export async function dialWebRTCDirect (target: WebRTCDirectTarget, noise: ConnectionEncrypter, remotePeer: PeerId | undefined, options: WebRTCDirectRuntimeOptions, signal: AbortSignal): Promise<RawConnection> {
  const pc = new RTCPeerConnection()
  try {
    // adapted now so the server's first Noise message is kept even if it arrives before
    // we see 'connected' (fromRTCDataChannel)
    const handshakeChannel = fromRTCDataChannel(pc.createDataChannel('', { negotiated: true, id: 0 }))
    const offer = await pc.createOffer()
    let serverCredentials: { ufrag: string, pwd: string } | undefined
    if (options.ufragVersion !== 2) {
      const v1 = newClientCredentials(1)
      const munged = (offer.sdp ?? '')
        .replace(/^a=ice-ufrag:.*$/mg, `a=ice-ufrag:${v1.clientUfrag}`)
        .replace(/^a=ice-pwd:.*$/mg, `a=ice-pwd:${v1.clientPwd}`)
      try {
        await pc.setLocalDescription({ type: 'offer', sdp: munged })
        serverCredentials = { ufrag: v1.serverUfrag, pwd: v1.serverPwd }
      } catch (err) {
        if (options.ufragVersion === 1) throw new WebRTCConnectionError('this browser refuses ufrag munging (WebRTC Direct v1)', { cause: err })
      }
    }
    if (serverCredentials === undefined) {
      await pc.setLocalDescription(offer)
      const pwd = sdpLine(pc.localDescription?.sdp ?? '', 'ice-pwd')
      if (pwd === undefined) throw new WebRTCConnectionError('the offer has no ice-pwd')
      serverCredentials = { ufrag: UFRAG_V2_PREFIX + pwd, pwd: UFRAG_V2_PREFIX + pwd }
    }
    const clientFingerprint = fingerprintFromSdp(pc.localDescription?.sdp ?? '')
    if (clientFingerprint === undefined) throw new WebRTCConnectionError('the offer has no sha-256 fingerprint')
    const serverFingerprint = target.certhashes[0]
    await pc.setRemoteDescription({ type: 'answer', sdp: serverAnswerSdp({ host: target.host, port: target.port, family: target.family, ...serverCredentials }, serverFingerprint) })
    await raceSignal(new Promise<void>((resolve, reject) => {
      const check = (): void => {
        const s = pc.connectionState
        if (s === 'connected') resolve()
        else if (s === 'failed' || s === 'closed') reject(new WebRTCConnectionError(`the peer connection ${s}`))
      }
      pc.addEventListener('connectionstatechange', check)
      check()
    }), signal)
    return await upgradeDirect({
      role: 'client',
      pc: fromRTCPeerConnection(pc),
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
    pc.close()
    throw err
  }
}

export function createWebRTCDirectListener (_noise: () => ConnectionEncrypter, _options: WebRTCDirectRuntimeOptions, _init: ListenerInit): Listener {
  throw new UnsupportedProtocolError('WebRTC Direct cannot listen in a browser')
}
