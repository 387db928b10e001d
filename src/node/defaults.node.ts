/**
 * Zero-option defaults in Node.js: TCP and WebSockets, Noise, Yamux (then Mplex), identify and
 * ping.
 * Chosen through the package.json `#node-defaults` import so browsers never load node:net.
 */
import { tcp } from '../transport/tcp/index.ts'
import { webSockets } from '../transport/websockets/index.ts'
import { noise } from '../security/noise/index.ts'
import { yamux } from '../muxer/yamux/index.ts'
import { mplex } from '../muxer/mplex/index.ts'
import { identify } from '../protocols/identify/index.ts'
import { ping } from '../protocols/ping/index.ts'
import type { Defaults } from './defaults.ts'

export const defaults: Defaults = {
  transports: () => [tcp(), webSockets()],
  connectionEncrypters: () => [noise()],
  streamMuxers: () => [yamux(), mplex()],
  services: () => ({ identify: identify(), ping: ping() })
}
