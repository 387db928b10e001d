/**
 * Zero-option defaults in browsers: WebSockets (dial only; browsers cannot listen), Noise, Yamux
 * (then Mplex), identify and ping. WebRTC and WebTransport come later.
 */
import { webSockets } from '../transport/websockets/index.ts'
import { noise } from '../security/noise/index.ts'
import { yamux } from '../muxer/yamux/index.ts'
import { mplex } from '../muxer/mplex/index.ts'
import { identify } from '../protocols/identify/index.ts'
import { ping } from '../protocols/ping/index.ts'
import type { Defaults } from './defaults.ts'

export const defaults: Defaults = {
  transports: () => [webSockets()],
  connectionEncrypters: () => [noise()],
  streamMuxers: () => [yamux(), mplex()],
  services: () => ({ identify: identify(), ping: ping() })
}
