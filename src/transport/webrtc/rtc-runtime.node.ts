/**
 * `#webrtc-runtime` in Node: the W3C RTCPeerConnection of node-datachannel (its `polyfill`
 * export, on libdatachannel), loaded on first use because node-datachannel is an optional
 * dependency: without it `/webrtc` fails with WebRTCUnavailableError naming the package.
 */
import { WebRTCUnavailableError } from './errors.ts'

let loaded: Promise<typeof RTCPeerConnection> | undefined

export async function loadRTCPeerConnection (): Promise<typeof RTCPeerConnection> {
  loaded ??= import('node-datachannel/polyfill').then(
    m => m.RTCPeerConnection as unknown as typeof RTCPeerConnection,
    (err: unknown) => {
      loaded = undefined
      throw new WebRTCUnavailableError('WebRTC in Node needs the optional dependency node-datachannel (npm install node-datachannel)', { cause: err })
    })
  return await loaded
}
