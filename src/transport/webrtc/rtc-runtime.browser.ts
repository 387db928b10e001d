/** `#webrtc-runtime` in browsers: the page's own RTCPeerConnection. */
import { WebRTCUnavailableError } from './errors.ts'

export async function loadRTCPeerConnection (): Promise<typeof RTCPeerConnection> {
  const Ctor = (globalThis as { RTCPeerConnection?: typeof RTCPeerConnection }).RTCPeerConnection
  if (Ctor === undefined) throw new WebRTCUnavailableError('this runtime has no RTCPeerConnection')
  return Ctor
}
