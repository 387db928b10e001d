/** WebRTC Direct's Node runtime (`#webrtc-direct-runtime`): listen and dial on node-datachannel. */
import type { PeerId } from '../../interface/peer-id.ts'
import type { ConnectionEncrypter } from '../../interface/security.ts'
import type { Listener, ListenerInit, RawConnection } from '../../interface/transport.ts'
import type { WebRTCDirectTarget } from './direct-address.ts'
import { WebRTCDirectListener, dialDirect } from './direct.node.ts'
import type { WebRTCDirectDialOptions, WebRTCDirectListenOptions } from './direct.node.ts'

export const canListen = true

export type WebRTCDirectRuntimeOptions = WebRTCDirectListenOptions & WebRTCDirectDialOptions

export async function dialWebRTCDirect (target: WebRTCDirectTarget, noise: ConnectionEncrypter, remotePeer: PeerId | undefined, options: WebRTCDirectRuntimeOptions, signal: AbortSignal): Promise<RawConnection> {
  return await dialDirect(target, noise, remotePeer, options, signal)
}

export function createWebRTCDirectListener (noise: () => ConnectionEncrypter, options: WebRTCDirectRuntimeOptions, init: ListenerInit): Listener {
  return new WebRTCDirectListener(noise, options, init)
}
