/** `createLibp2p(options)`: the one call that builds (and by default starts) a node. */
import { defaults } from '#node-defaults'
import { generateKeyPair } from '../crypto/index.ts'
import { Libp2pNode } from './libp2p.ts'
import type { Libp2pOptions, ServiceFactories, ServicesOf, ServiceFactoryOf } from './options.ts'
import type { IdentifyService } from '../protocols/identify/index.ts'
import type { PingService } from '../protocols/ping/index.ts'

/** The services a node runs when `services` is not given. */
export interface DefaultServiceFactories extends ServiceFactories {
  identify: ServiceFactoryOf<IdentifyService>
  ping: ServiceFactoryOf<PingService>
}

/**
 * Creates a node. With no options: a new Ed25519 identity, TCP (Node.js), Noise, Yamux and
 * Mplex, identify and ping, an in-memory peer store, and no listen address (pass
 * `addresses.listen`). Fails fast, before anything starts, on invalid options such as a
 * service whose declared dependencies are missing.
 */
export async function createLibp2p<F extends ServiceFactories = DefaultServiceFactories> (options: Libp2pOptions<F> = {}): Promise<Libp2pNode<ServicesOf<F>>> {
  const privateKey = options.privateKey ?? await generateKeyPair('Ed25519')
  const node = new Libp2pNode<ServicesOf<F>>(privateKey, options, defaults)
  if (options.start !== false) await node.start()
  return node
}
