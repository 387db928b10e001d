/**
 * The long-lived node the CLI runs for `start` (persistent identity and peer store, identify +
 * ping, optional echo, bootstrap, relay service), with every transport of cliTransports().
 * The throwaway node of `ping`/`identify` is ephemeral-node.ts, which loads far less.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Datastore, PrivateKey, ServiceFactories } from '../index.ts'
import { createLibp2p } from '../index.ts'
import { identify } from '../protocols/identify/index.ts'
import { ping } from '../protocols/ping/index.ts'
import { echo } from '../protocols/echo/index.ts'
import { dcutr } from '../protocols/dcutr/index.ts'
import { uPnPNAT } from '../nat/index.ts'
import { bootstrap } from '../discovery/bootstrap.ts'
import { dnsResolver } from '../dns/index.ts'
import { mdns } from '../discovery/mdns/index.ts'
import { randomWalk } from '../discovery/random-walk.ts'
import { rendezvous, rendezvousServer } from '../discovery/rendezvous/index.ts'
import { kadDHT } from '../dht/index.ts'
import { autoNAT } from '../protocols/autonat/index.ts'
import { circuitRelayServer } from '../relay/index.ts'
import { cliTransports } from './transports.ts'
import { pubsubService, type PubSubRouterName } from './commands/pubsub.ts'
import type { SecurityConfig } from './security-options.ts'
import type { ResourceManagerOptions } from '../switch/resource-manager/index.ts'


export interface CliNodeInit {
  privateKey: PrivateKey
  /** Where WebTransport keeps its certificates, so its /certhash/ addresses survive restarts. */
  dataDir?: string
  datastore: Datastore
  listen: Multiaddr[]
  bootstrap: Multiaddr[]
  echo: boolean
  /**
   * Run the Kademlia DHT as `services.dht` in this mode; 'public': the public network's way, a
   * client until AutoNAT finds us reachable, then a server.
   */
  dht?: 'server' | 'client' | 'public'
  /** Find peers on the LAN with mDNS; 'force': even under the offline switch (default off). */
  mdns?: boolean | 'force'
  /** Serve as a rendezvous point (`services.rendezvousServer`). */
  rendezvousServer?: boolean
  /** Register at and discover through these rendezvous points, in `namespaces`. */
  rendezvous?: { points: Multiaddr[], namespaces: string[], onRegistered?: (point: string, ns: string, ttl: number) => void }
  /** Below this many connections, dial peers the node knows or discovers (default 0: off). */
  minConnections?: number
  /** DNS servers for /dns* and /dnsaddr addresses (default: the system's). */
  dnsServers?: string[]
  /** Called once when no bootstrap peer can be reached (see BootstrapOptions.onUnreachable). */
  onBootstrapUnreachable?: (error: Error) => void
  /** Run a pubsub router as `services.pubsub`. */
  pubsub?: PubSubRouterName
  /** Encrypters and private network (default: Noise, public network). */
  security?: SecurityConfig
  /** Resource manager limits and allowlist, or false for none (default: scaled from the machine). */
  resourceManager?: ResourceManagerOptions | false
  /** Run NAT traversal: AutoNAT, DCUtR hole punching, port mapping on the LAN's router (UPnP, NAT-PMP) (default true). */
  natTraversal?: boolean
  /** IP ranges counted as public (`--public-cidr`). */
  publicCidrs?: string[]
  /** Also serve the circuit relay v2 hop protocol (`services.relay`). */
  relayServer?: boolean
  /** Serve (and fetch) blocks of the datastore's block store over Bitswap (`services.bitswap`). */
  bitswap?: boolean
  /** Keep a metrics registry (`node.metrics`) for `--metrics` (default off). */
  metrics?: boolean
}

/** Not started: the caller starts it once its signal handlers are in place. */
export async function createCliNode (init: CliNodeInit) {
  const services: ServiceFactories = { identify: identify(), ping: ping() }
  if (init.echo) services.echo = echo()
  if (init.natTraversal !== false) {
    services.dcutr = dcutr()
    services.autonat = autoNAT()
    // Talks only to the LAN's router, and only when listening on a private IPv4 address.
    services.nat = uPnPNAT()
  }
  if (init.dht !== undefined) {
    services.dht = kadDHT(init.dht === 'public' ? { initialMode: 'client' } : { mode: init.dht })
    services.randomWalk = randomWalk()
  }
  if (init.bootstrap.length > 0) services.bootstrap = bootstrap({ list: init.bootstrap, onUnreachable: init.onBootstrapUnreachable })
  if (init.mdns !== undefined && init.mdns !== false) services.mdns = mdns({ force: init.mdns === 'force' })
  if (init.rendezvousServer === true) services.rendezvousServer = rendezvousServer()
  if (init.rendezvous !== undefined && init.rendezvous.points.length > 0) services.rendezvous = rendezvous({ ...init.rendezvous, discoverInterval: 10_000 })
  if (init.pubsub !== undefined) services.pubsub = pubsubService(init.pubsub)
  if (init.relayServer === true) services.relay = circuitRelayServer()
  // loaded only when used (one-shot commands that build a node should not pay for it)
  if (init.bitswap === true) services.bitswap = (await import('../exchange/bitswap/index.ts')).bitswap()
  return await createLibp2p({
    transports: await cliTransports(init.security, init.dataDir),
    privateKey: init.privateKey,
    datastore: init.datastore,
    addresses: { listen: init.listen.map(a => a.toString()), publicCidrs: init.publicCidrs },
    ...init.security,
    ...(init.resourceManager !== undefined ? { resourceManager: init.resourceManager } : {}),
    services,
    ...(init.metrics === true ? { metrics: true } : {}),
    ...(init.minConnections !== undefined && init.minConnections > 0 ? { connectionManager: { minConnections: init.minConnections } } : {}),
    ...(init.dnsServers !== undefined && init.dnsServers.length > 0 ? { dns: dnsResolver({ servers: init.dnsServers }) } : {}),
    start: false
  })
}
