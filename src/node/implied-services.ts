/**
 * Services a node adds on its own because a configured one is of little use to other
 * implementations without them.
 *
 * A DHT needs ping: js-libp2p's kad-dht pings a new contact on /ipfs/ping/1.0.0 before it
 * admits the contact to its routing table, so a node with kadDHT() and no ping service answers
 * every DHT query yet never enters a js peer's table (go and rust do not ping first). A user
 * who configured the DHT expects to be found through it, so the node runs ping() as well.
 *
 * The implied ping is in the node's `services` type (ImpliedServicesOf), so
 * `node.services.ping` is a typed PingService, and `services: { ping: false }` turns it off
 * (a node that must not answer pings; js-libp2p DHT peers will then not admit it).
 */
import type { NodeComponents } from '../interface/components.ts'
import type { Logger } from '../interface/logger.ts'
import type { PingService } from '../protocols/ping/index.ts'
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
const PING_NAMES = ['ping', 'dhtPing'] as const

/** The capabilities a service type declares as literals; `string` when it declares a wide `string[]`. */
type CapabilitiesOf<S> = S extends { readonly serviceCapabilities: infer C extends readonly string[] } ? C[number] : never

/**
 * The names in `F` whose service declares `Capability` (as a literal: a service typed with a
 * wide `readonly string[]` is not counted, since its type cannot say what it provides).
 */
type NamesDeclaring<F, Capability extends string> = {
  [K in keyof F]: Exclude<F[K], false> extends (...args: any[]) => infer S
    ? string extends CapabilitiesOf<S> ? never : Capability extends CapabilitiesOf<S> ? K : never
    : never
}[keyof F]

/** True when `F` sets one of the implied ping's names to `false`. */
type PingOptedOut<F> = true extends { [K in keyof F & (typeof PING_NAMES)[number]]: F[K] extends false ? true : false }[keyof F & (typeof PING_NAMES)[number]] ? true : false

/**
 * The services the node adds to the `services` option `F`, as types: `{ ping: PingService }`
 * (or `{ dhtPing: PingService }` when "ping" names another service) when a DHT is configured
 * without ping, unless `ping: false` (or `dhtPing: false`) turns it off. Mirrors impliedServices.
 */
export type ImpliedServicesOf<F> =
  [NamesDeclaring<F, typeof DHT_CAPABILITY>] extends [never] ? {}
    : [NamesDeclaring<F, typeof PING_CAPABILITY>] extends [never]
        ? PingOptedOut<F> extends true ? {}
          : 'ping' extends keyof F ? ('dhtPing' extends keyof F ? {} : { dhtPing: PingService })
            : { ping: PingService }
        : {}

/** True when the `services` option sets one of the implied ping's names to `false`. */
export function pingOptedOut (services: Readonly<Record<string, unknown>>): boolean {
  return PING_NAMES.some(name => services[name] === false)
}

function provides (entries: readonly ImpliedServiceEntry[], capability: string): boolean {
  return entries.some(e => declarationsOf(e.instance).serviceCapabilities?.includes(capability) === true)
}

/**
 * The services to add to `entries` (already built from the options): ping when a DHT is
 * configured without one and `optedOut` (the options set `ping: false`) is not. Each is built
 * with `components` and named in `services`.
 */
export function impliedServices (entries: readonly ImpliedServiceEntry[], components: NodeComponents, log: Logger, factories: ImpliedServiceFactories | undefined, optedOut = false): ImpliedServiceEntry[] {
  if (!provides(entries, DHT_CAPABILITY) || provides(entries, PING_CAPABILITY)) return []
  if (optedOut) {
    log('a DHT runs without ping (services.ping is false): js-libp2p peers will not admit this node to their routing tables')
    return []
  }
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
