/**
 * Zero-option defaults in Node.js: TCP, QUIC v1 (not in a private network, which cannot protect
 * it: QUIC brings its own encryption below any pre-shared key) and WebSockets; Noise, Yamux (then Mplex), identify and
 * ping; and, unless offline (the `offline` option or the TS_LIBP2P_OFFLINE switch), the public
 * network as go and js nodes join it: the public bootstrap list (/dnsaddr names), the Amino DHT
 * (`/ipfs/kad/1.0.0`, a client until AutoNAT finds us publicly reachable, then a server) and
 * AutoNAT to find that out, a DHT random walk to find more peers; and mDNS on the LAN (LAN
 * addresses only).
 * Chosen through the package.json `#node-defaults` import so browsers never load node:net.
 */
import { tcp } from '../transport/tcp/index.ts'
import { webSockets } from '../transport/websockets/index.ts'
import { quic } from '../transport/quic/index.ts'
import { noise } from '../security/noise/index.ts'
import { yamux } from '../muxer/yamux/index.ts'
import { mplex } from '../muxer/mplex/index.ts'
import { identify } from '../protocols/identify/index.ts'
import { ping } from '../protocols/ping/index.ts'
import { autoNAT } from '../protocols/autonat/index.ts'
import { kadDHT } from '../dht/index.ts'
import { bootstrap } from '../discovery/bootstrap.ts'
import { PUBLIC_BOOTSTRAP_LIST } from '../discovery/public-bootstrap.ts'
import { mdns } from '../discovery/mdns/index.ts'
import { randomWalk } from '../discovery/random-walk.ts'
import { isOffline } from '../util/offline.ts'
import type { Defaults } from './defaults.ts'

export const defaults: Defaults = {
  transports: ({ privateNetwork } = {}) => privateNetwork === true ? [tcp(), webSockets()] : [tcp(), quic(), webSockets()],
  connectionEncrypters: () => [noise()],
  streamMuxers: () => [yamux(), mplex()],
  services: ({ offline } = {}) => {
    const local = { identify: identify(), ping: ping() }
    if (offline ?? isOffline()) return local
    return { ...local, mdns: mdns(), autonat: autoNAT(), dht: kadDHT({ initialMode: 'client' }), randomWalk: randomWalk(), bootstrap: bootstrap({ list: [...PUBLIC_BOOTSTRAP_LIST] }) }
  }
}
