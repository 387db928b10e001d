/** `createLibp2p(options)`: the one call that builds (and by default starts) a node. */
import { generateEd25519PrivateKey } from '../crypto/ed25519.ts'
import { Libp2pNode } from './libp2p.ts'
import type { Defaults } from './defaults.ts'
import type { Libp2p } from '../interface/libp2p.ts'
import type { ServiceFactory } from '../interface/components.ts'
import type { Libp2pOptions, ServiceFactories, ServicesOf } from './options.ts'
import type { IdentifyService } from '../protocols/identify/index.ts'
import type { PingService } from '../protocols/ping/index.ts'

/** The services a node runs when `services` is not given. */
export interface DefaultServiceFactories extends ServiceFactories {
  identify: ServiceFactory<IdentifyService>
  ping: ServiceFactory<PingService>
}

/**
 * Creates a node. With no options: a new Ed25519 identity, the runtime's default transports
 * (Node.js: TCP, QUIC v1 and WebSockets, QUIC left out with a connection protector; browsers:
 * WebSockets), Noise, Yamux and Mplex, identify and ping, an in-memory peer store, and no listen address (pass `addresses.listen`). Fails fast,
 * before anything starts, on invalid options such as a service whose declared dependencies
 * are missing (MissingServiceDependencyError).
 */
export async function createLibp2p<F extends ServiceFactories = DefaultServiceFactories> (options: Libp2pOptions<F> = {}): Promise<Libp2p<ServicesOf<F>>> {
  // the Ed25519 generator itself: generateKeyPair's other key types would pull their curve code into every bundle
  const privateKey = options.privateKey ?? generateEd25519PrivateKey()
  // ping only as a module loaded here, not by the root module: a DHT without ping gets one
  const implied = { ping: (await import('../protocols/ping/index.ts')).ping }
  // the metrics registry and the node's collectors only for a node with metrics on
  const nodeMetrics = options.metrics === undefined || options.metrics === false ? undefined : await import('./node-metrics.ts')
  const node = new Libp2pNode<ServicesOf<F>>(privateKey, options, await defaultsFor(options), implied, nodeMetrics)
  if (options.start !== false) await node.start()
  return node
}

/** Stands in when every default is overridden: nothing of it is ever called. */
const NO_DEFAULTS: Defaults = {
  transports: () => [],
  connectionEncrypters: () => [],
  streamMuxers: () => [],
  services: () => ({})
}

/**
 * The runtime's defaults are only loaded when an option needs one: a node built from explicit
 * components never loads (or keeps in its heap) the default transports, WebSockets included.
 */
async function defaultsFor (options: Libp2pOptions<any>): Promise<Defaults> {
  if (options.transports !== undefined && options.connectionEncrypters !== undefined && options.streamMuxers !== undefined && options.services !== undefined) return NO_DEFAULTS
  return (await import('#node-defaults')).defaults
}
