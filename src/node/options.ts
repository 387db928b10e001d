/**
 * Options of `createLibp2p` (names follow js-libp2p, so a js-libp2p configuration reads the
 * same here). Every component is given as a factory `(components) => component`, called once
 * with the node's components; a ready instance is accepted too.
 */
import type { ConnectionEncrypter, ConnectionProtector } from '../interface/security.ts'
import type { ComponentFactoryInput } from '../interface/components.ts'
import type { ConnectionGater } from '../interface/connection-gater.ts'
import type { Datastore } from '../interface/datastore.ts'
import type { PrivateKey } from '../interface/keys.ts'
import type { StreamMuxerFactory } from '../interface/muxer.ts'
import type { NodeInfo, ServiceFactory } from '../interface/components.ts'
import type { PeerStore } from '../interface/peer-store.ts'
import type { Transport } from '../interface/transport.ts'
import type { AddressesConfig } from '../switch/address-manager.ts'
import type { ConnectionManagerOptions } from '../switch/connection-manager.ts'
import type { ContentRouting, PeerRouting } from '../interface/routing.ts'
import type { DnsResolver } from '../dns/index.ts'
import type { ResourceManagerOptions } from '../switch/resource-manager/index.ts'
import type { Metrics } from '../interface/metrics.ts'
import type { ImpliedServicesOf } from './implied-services.ts'

/** A transport, encrypter or peer store, or a function that builds one from the node's components. */
export type ComponentFactory<T> = ((components: ComponentFactoryInput) => T) | T

/**
 * Named service factories. A name set to `false` runs no service: `ping: false` is how a node
 * with a DHT turns off the ping the DHT implies (node/implied-services.ts).
 */
export type ServiceFactories = Record<string, ServiceFactory<unknown> | false>

/**
 * `{ identify: identify() }` -> `{ identify: IdentifyService }`; names set to `false` are left
 * out, and the services the node adds on its own are in (`kadDHT()` without ping adds
 * `ping: PingService`).
 */
export type ServicesOf<F extends ServiceFactories> = {
  [K in keyof F as F[K] extends false ? never : K]: Exclude<F[K], false> extends (...args: any[]) => infer S ? S : never
} & ImpliedServicesOf<F>

export interface Libp2pOptions<F extends ServiceFactories = ServiceFactories> {
  /** The node's identity (default: a new Ed25519 key). */
  privateKey?: PrivateKey
  addresses?: AddressesConfig
  transports?: Array<ComponentFactory<Transport>>
  connectionEncrypters?: Array<ComponentFactory<ConnectionEncrypter>>
  streamMuxers?: Array<ComponentFactory<StreamMuxerFactory>>
  /**
   * Runs below everything else on every connection: `preSharedKey({ psk })` from
   * `ts-libp2p/pnet` makes a private network. Required when LIBP2P_FORCE_PNET=1.
   */
  connectionProtector?: ComponentFactory<ConnectionProtector>
  /**
   * Named services; without this option the node runs identify and ping and, in Node.js unless
   * offline, joins the public network: the public bootstrap list, the Amino DHT (a client
   * until AutoNAT finds us public) and AutoNAT. A DHT given without ping brings ping as
   * `services.ping`; `ping: false` turns that off.
   */
  services?: F
  /** Where the peer store persists (default: in memory). Open it before starting the node. */
  datastore?: Datastore
  /** A peer store instance (default: PersistentPeerStore over `datastore`). */
  peerStore?: ComponentFactory<PeerStore>
  connectionGater?: ConnectionGater
  /**
   * Resolves `/dns*` and `/dnsaddr` dial addresses (default: Node's resolver with the system's
   * servers, DNS-over-HTTPS in browsers): `dnsResolver({ servers })` from `ts-libp2p/dns`.
   */
  dns?: DnsResolver | false
  connectionManager?: ConnectionManagerOptions
  /** Scoped limits on connections and streams (system, transient, per peer, per protocol, per
   * address and subnet, an allowlist), scaled from this machine by default; `false` turns
   * them off. */
  resourceManager?: ResourceManagerOptions | false
  nodeInfo?: Partial<NodeInfo>
  /**
   * Prometheus metrics (default off): `true` for a registry of the node's own (`node.metrics`),
   * or a registry to share (`new MetricsRegistry()` from `ts-libp2p/metrics`). Render it with
   * `node.metrics.expose()`, or serve it with `serveMetrics` from `ts-libp2p/metrics-server`.
   */
  metrics?: boolean | Metrics
  /**
   * Leave the public network alone: no public bootstrap list, DHT or mDNS among the default
   * services (default: the TS_LIBP2P_OFFLINE switch, on in tests; see util/offline.ts).
   */
  offline?: boolean
  /** Start the node before createLibp2p resolves (default true). */
  start?: boolean
}
