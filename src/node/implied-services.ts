/**
 * Services a node adds on its own because a configured one is of little use to other
 * implementations without them.
 *
 * A DHT needs ping: js-libp2p's kad-dht pings a new contact on /ipfs/ping/1.0.0 before it
 * admits the contact to its routing table, so a node with kadDHT() and no ping service answers
 * every DHT query yet never enters a js peer's table (go and rust do not ping first). A user
 * who configured the DHT expects to be found through it, so the node runs ping() as well.
 */
import type { NodeComponents } from '../interface/components.ts'
import type { Logger } from '../interface/logger.ts'
import { declarationsOf } from './capabilities.ts'

export interface ImpliedServiceEntry { name: string, instance: unknown }

/**
 * The factories of the services a node may add, handed in by createLibp2p, which loads them
 * (a dynamic import) so that loading the package's root module loads no component.
 */
export interface ImpliedServiceFactories {
  ping: () => (components: NodeComponents) => unknown
}

const DHT_CAPABILITY = '@libp2p/kad-dht'
const PING_CAPABILITY = '@libp2p/ping'
/** The names an implied ping service takes: the usual one unless a service already has it. */
const PING_NAMES = ['ping', 'dhtPing']

function provides (entries: readonly ImpliedServiceEntry[], capability: string): boolean {
  return entries.some(e => declarationsOf(e.instance).serviceCapabilities?.includes(capability) === true)
}

/**
 * The services to add to `entries` (already built from the options): ping when a DHT is
 * configured without one. Each is built with `components` and named in `services`.
 */
export function impliedServices (entries: readonly ImpliedServiceEntry[], components: NodeComponents, log: Logger, factories: ImpliedServiceFactories | undefined): ImpliedServiceEntry[] {
  if (!provides(entries, DHT_CAPABILITY) || provides(entries, PING_CAPABILITY)) return []
  if (factories === undefined) {
    log('a DHT runs without ping and no ping factory was given: js-libp2p peers will not admit this node to their routing tables')
    return []
  }
  const name = PING_NAMES.find(n => !entries.some(e => e.name === n))
  if (name === undefined) {
    log('a DHT runs without ping and the names %s are taken: js-libp2p peers will not admit this node to their routing tables', PING_NAMES.join(', '))
    return []
  }
  log('a DHT is configured without ping: adding ping() as services.%s (js-libp2p peers ping a new contact before admitting it to their routing tables)', name)
  return [{ name, instance: factories.ping()(components) }]
}
