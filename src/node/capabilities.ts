/**
 * The service capabilities of this package and the factory that provides each, so a node
 * built without one fails with an error that says what to add. Services declare what they
 * provide and need (ServiceDeclarations); this table only turns a missing name into advice.
 * Authors of new services: declare `serviceCapabilities` / `serviceDependencies` on the service
 * and add the capabilities you provide here.
 */
import type { ServiceDeclarations } from '../interface/components.ts'
import { MissingServiceDependencyError } from '../util/errors.ts'

export const CAPABILITY_PROVIDERS: Readonly<Record<string, string>> = {
  '@libp2p/identify': "identify() from 'ts-libp2p/identify'",
  '@libp2p/identify-push': "identify() from 'ts-libp2p/identify'",
  '@libp2p/ping': "ping() from 'ts-libp2p/ping'",
  '@libp2p/autonat': "autoNAT() from 'ts-libp2p/autonat'",
  '@libp2p/echo': "echo() from 'ts-libp2p/echo'",
  '@libp2p/perf': "perf() from 'ts-libp2p/perf'",
  '@libp2p/http': "http() from 'ts-libp2p/http'",
  '@libp2p/fetch': "fetch() from 'ts-libp2p/fetch'",
  '@libp2p/kad-dht': "kadDHT() from 'ts-libp2p/kad-dht'",
  '@libp2p/peer-routing': "kadDHT() from 'ts-libp2p/kad-dht'",
  '@libp2p/content-routing': "kadDHT() from 'ts-libp2p/kad-dht'",
  '@libp2p/pubsub': "gossipsub() from 'ts-libp2p/gossipsub' or floodsub() from 'ts-libp2p/floodsub'",
  '@libp2p/peer-discovery': "bootstrap() from 'ts-libp2p/bootstrap'",
  '@libp2p/circuit-relay-v2-server': "circuitRelayServer() from 'ts-libp2p/circuit-relay-v2'",
  '@libp2p/nat': "uPnPNAT() from 'ts-libp2p/upnp-nat'",
  '@libp2p/bitswap': "bitswap() from 'ts-libp2p/bitswap'"
}

export interface ServiceEntryLike {
  readonly name: string
  readonly instance: unknown
}

/** The declarations of a service instance (none for a non-object). */
export function declarationsOf (instance: unknown): ServiceDeclarations {
  return typeof instance === 'object' && instance !== null ? instance as ServiceDeclarations : {}
}

/**
 * Throws MissingServiceDependencyError naming every unmet need, with the factory to add;
 * otherwise returns which service provides each name (for ordering their start).
 */
export function checkServiceDependencies (entries: readonly ServiceEntryLike[]): Map<string, string> {
  const provided = new Map<string, string>()
  for (const { name, instance } of entries) {
    provided.set(name, name)
    for (const capability of declarationsOf(instance).serviceCapabilities ?? []) provided.set(capability, name)
  }
  const missing: string[] = []
  for (const { name, instance } of entries) {
    for (const need of declarationsOf(instance).serviceDependencies ?? []) {
      if (provided.has(need)) continue
      const provider = CAPABILITY_PROVIDERS[need]
      missing.push(`service '${name}' needs '${need}'${provider !== undefined ? `: add ${provider} to \`services\`` : ' (a service of that name or with that capability)'}`)
    }
  }
  if (missing.length > 0) throw new MissingServiceDependencyError(`missing service dependencies: ${missing.join('; ')}`)
  return provided
}
