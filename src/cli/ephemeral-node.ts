/**
 * The throwaway node of one-shot commands (`ping`, `identify`): a fresh key, a memory store,
 * no listener, and only the code that dialing `target` needs. It imports neither the DHT nor
 * discovery nor NAT traversal (node-builder.ts, for `start`, does), since a cold command
 * spends most of its time loading and compiling modules (README, Performance: the cold start).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../node/create.ts'
import { identify } from '../protocols/identify/index.ts'
import { ping } from '../protocols/ping/index.ts'
import { yamux } from '../muxer/yamux/index.ts'
import { mplex } from '../muxer/mplex/index.ts'
import { MemoryDatastore } from '../store/memory.ts'
import { isRelayed } from '../util/multiaddr.ts'
import type { SecurityConfig } from './security-options.ts'
import { transportsToDial } from './transports.ts'

export async function createEphemeralNode (options: { target: Multiaddr, timeout: number, security: SecurityConfig }) {
  // Through a relay, the peer may upgrade the connection to a direct one (DCUtR) meanwhile.
  const holePunch = isRelayed(options.target)
  const dcutr = holePunch ? (await import('../protocols/dcutr/index.ts')).dcutr : undefined
  return await createLibp2p({
    ...options.security,
    streamMuxers: [yamux(), mplex()],
    datastore: new MemoryDatastore(),
    addresses: { listen: [] },
    transports: await transportsToDial(options.target, options.security),
    services: {
      // identified explicitly by the `identify` command, not on every connection; except when
      // a relayed connection may be upgraded: DCUtR needs the addresses identify reports
      identify: identify({ runOnConnectionOpen: holePunch, timeout: options.timeout }),
      ping: ping({ timeout: options.timeout }),
      ...(dcutr !== undefined ? { dcutr: dcutr() } : {})
    },
    start: false
  })
}
