/**
 * Zero-option defaults in browsers: WebSockets, WebTransport and WebRTC Direct (dial only;
 * browsers cannot listen; WebTransport and WebRTC Direct reach `/certhash/` listeners with no
 * CA certificate, through the page's native WebTransport and RTCPeerConnection) and the
 * circuit relay v2 client (dial peers through a relay, listen on `<relay>/p2p-circuit`), WebRTC
 * (`/webrtc`: listen on `<relay>/p2p-circuit/webrtc`, then other browsers connect directly after
 * signaling through the relay), Noise, Yamux (then Mplex), identify and ping.
 */
import { webSockets } from '../transport/websockets/index.ts'
import { webTransport } from '../transport/webtransport/index.ts'
import { circuitRelayTransport } from '../relay/index.ts'
import { webRTCDirect } from '../transport/webrtc/webrtc-direct.ts'
import { webRTC } from '../transport/webrtc/webrtc.ts'
import { noise } from '../security/noise/index.ts'
import { yamux } from '../muxer/yamux/index.ts'
import { mplex } from '../muxer/mplex/index.ts'
import { identify } from '../protocols/identify/index.ts'
import { ping } from '../protocols/ping/index.ts'
import type { Defaults } from './defaults.ts'

export const defaults: Defaults = {
  transports: () => [webSockets(), webTransport(), webRTCDirect(), webRTC(), circuitRelayTransport()],
  connectionEncrypters: () => [noise()],
  streamMuxers: () => [yamux(), mplex()],
  services: () => ({ identify: identify(), ping: ping() })
}
