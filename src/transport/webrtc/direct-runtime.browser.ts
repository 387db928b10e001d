/**
 * WebRTC Direct's browser runtime (`#webrtc-direct-runtime`): browsers can only dial. Dialing
 * with the native RTCPeerConnection is not written yet: it fails with a typed error.
 */
import type { PeerId } from '../../interface/peer-id.ts'
import type { ConnectionEncrypter } from '../../interface/security.ts'
import type { Listener, ListenerInit, RawConnection } from '../../interface/transport.ts'
import { UnsupportedProtocolError } from '../../util/errors.ts'
import type { WebRTCDirectTarget } from './direct-address.ts'
import type { WebRTCConnectionOptions } from './muxer.ts'

export const canListen = false

export interface WebRTCDirectRuntimeOptions {
  certificateDirectory?: string
  handshakeTimeout?: number
  newConnectionsPerSecond?: number
  newConnectionsBurst?: number
  maxPendingHandshakes?: number
  ufragVersion?: 1 | 2
  connection?: WebRTCConnectionOptions
}

export async function dialWebRTCDirect (_target: WebRTCDirectTarget, _noise: ConnectionEncrypter, _remotePeer: PeerId | undefined, _options: WebRTCDirectRuntimeOptions, _signal: AbortSignal): Promise<RawConnection> {
  throw new UnsupportedProtocolError('WebRTC Direct dialing from a browser is not implemented yet')
}

export function createWebRTCDirectListener (_noise: () => ConnectionEncrypter, _options: WebRTCDirectRuntimeOptions, _init: ListenerInit): Listener {
  throw new UnsupportedProtocolError('WebRTC Direct cannot listen in a browser')
}
