/**
 * Zero-option defaults in browsers: Noise, Yamux (then Mplex), identify and ping. No transport
 * is available by default yet (WebSockets/WebRTC/WebTransport come later): pass `transports`.
 */
import { noise } from '../security/noise/index.ts'
import { yamux } from '../muxer/yamux/index.ts'
import { mplex } from '../muxer/mplex/index.ts'
import { identify } from '../protocols/identify/index.ts'
import { ping } from '../protocols/ping/index.ts'
import type { Defaults } from './defaults.ts'

export const defaults: Defaults = {
  transports: () => [],
  connectionEncrypters: () => [noise()],
  streamMuxers: () => [yamux(), mplex()],
  services: () => ({ identify: identify(), ping: ping() })
}
