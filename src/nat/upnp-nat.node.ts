/**
 * Port mapping as a service: `import { uPnPNAT } from 'ts-libp2p/upnp-nat'`, then
 * `services: { nat: uPnPNAT() }`. After the node starts it looks for the LAN's gateway (UPnP
 * IGD over SSDP and NAT-PMP at the default route's router, whichever answers first), maps our
 * IPv4 listen ports there, renews the leases and removes them on stop. A mapped address is
 * handed to the address manager as a candidate (source 'upnp' or 'nat-pmp'): it is announced
 * only once confirmed (AutoNAT dials it back), never on the gateway's word alone. Behind a
 * double NAT (the gateway's external address is private or CGNAT) nothing is mapped.
 *
 * What it sends where: SSDP to the multicast group 239.255.255.250:1900 (TTL 2, so it stays
 * on the LAN), HTTP only to the gateway that answered (an answer naming another host, or a
 * public one, is ignored), NAT-PMP only to the default gateway. A node listening only on
 * loopback sends nothing. Node-only.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { NodeComponents, ServiceFactory, Startable } from '../interface/components.ts'
import type { Logger } from '../interface/logger.ts'
import { classifyIp, withoutPeerId } from '../util/multiaddr.ts'
import { defaultGatewayIPv4 } from './default-gateway.node.ts'
import { GatewayNotFoundError } from './errors.ts'
import type { GatewayClient } from './mapping-client.ts'
import { connectNatPmp } from './pmp/pmp-client.node.ts'
import { PortMapper, type PortMapperOptions, type PortMapperState } from './port-mapper.ts'
import { discoverIgd } from './upnp/igd-client.node.ts'

export type GatewayProtocol = 'upnp' | 'nat-pmp'

export interface UPnPNATOptions extends PortMapperOptions {
  /** Which protocols to try (default both, the first to answer wins). */
  protocols?: GatewayProtocol[]
  /** The NAT-PMP gateway (default: the default route's router, read from /proc/net/route). */
  gateway?: string
  /** Where SSDP searches go (default the multicast group 239.255.255.250:1900). */
  ssdpAddress?: { host: string, port: number }
  /** The NAT-PMP port of the gateway (default 5351). */
  natPmpPort?: number
  /** Talk to the gateway from this local address (a host with several LAN addresses). */
  localAddress?: string
}

export type UPnPNATComponents = Pick<NodeComponents, 'addressManager' | 'events' | 'logger'>

/** What the service did, for status displays and tests: `mapped` fires with each new mapping. */
export interface PortMappingEventMap {
  mapped: CustomEvent<{ external: Multiaddr, internal: Multiaddr, gateway: GatewayProtocol }>
  unmapped: CustomEvent<{ external: Multiaddr }>
  renewed: CustomEvent<{ external: Multiaddr }>
  state: CustomEvent<{ state: PortMapperState, error?: Error }>
}

export class UPnPNATService extends EventTarget implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/nat']
  readonly #components: UPnPNATComponents
  readonly #options: UPnPNATOptions
  readonly #log: Logger
  /** One per run of the node: a stopped mapper stays stopped, a restart makes a new one. */
  #mapper: PortMapper
  readonly #onListening = (): void => { if (this.#started) void this.#mapper.sync() }
  #started = false

  constructor (components: UPnPNATComponents, options: UPnPNATOptions = {}) {
    super()
    this.#components = components
    this.#options = options
    this.#log = components.logger('libp2p:upnp-nat')
    this.#mapper = this.#createMapper()
  }

  #createMapper (): PortMapper {
    const addresses = this.#components.addressManager
    return new PortMapper({
      ...this.#options,
      log: this.#log,
      findGateway: async (signal) => await this.#findGateway(signal),
      listenAddrs: () => addresses.getAddresses().map(withoutPeerId),
      // The address manager's classifier counts the configured public ranges (labs, private networks).
      isPublicIp: (ip) => addresses.reachabilityOf(multiaddr(`/ip4/${ip}`)) === 'public',
      onMapped: (external, internal, gateway) => {
        addresses.addCandidate(external, gateway.kind)
        this.dispatchEvent(new CustomEvent('mapped', { detail: { external, internal, gateway: gateway.kind } }))
      },
      onUnmapped: (external) => {
        addresses.removeCandidate(external)
        this.dispatchEvent(new CustomEvent('unmapped', { detail: { external } }))
      },
      onRenewed: (external) => { this.dispatchEvent(new CustomEvent('renewed', { detail: { external } })) },
      onState: (state, error) => { this.dispatchEvent(new CustomEvent('state', { detail: { state, error: error as Error | undefined } })) }
    })
  }

  /** What the mapper is doing ('mapped', 'double-nat', 'no-gateway', ...). */
  get state (): PortMapperState { return this.#mapper.state }
  /** Why the last attempt failed, if it did. */
  get lastError (): unknown { return this.#mapper.lastError }
  /** The mappings in force. */
  get mappings (): Array<{ external: Multiaddr, internal: Multiaddr }> {
    return this.#mapper.mappings.map(({ external, internal }) => ({ external, internal }))
  }

  afterStart (): void {
    if (this.#mapper.state === 'stopped') this.#mapper = this.#createMapper()
    this.#started = true
    this.#components.events.addEventListener('transport:listening', this.#onListening)
    void this.#mapper.sync()
  }

  async stop (): Promise<void> {
    this.#started = false
    this.#components.events.removeEventListener('transport:listening', this.#onListening)
    await this.#mapper.stop()
  }

  /** The first of the enabled protocols whose gateway answers; the other search is called off. */
  async #findGateway (signal: AbortSignal): Promise<GatewayClient> {
    const configured = this.#options.ssdpAddress !== undefined || this.#options.gateway !== undefined
    if (!configured && !this.#hasLanAddress()) throw new GatewayNotFoundError('no IPv4 listen address on a private network: nothing to map')
    const protocols = this.#options.protocols ?? ['upnp', 'nat-pmp']
    const loser = new AbortController()
    const both = AbortSignal.any([signal, loser.signal])
    const searches = protocols.map(async (protocol) => protocol === 'upnp'
      ? await discoverIgd({ signal: both, searchAddress: this.#options.ssdpAddress, localAddress: this.#options.localAddress, log: this.#log })
      : await this.#probeNatPmp(both))
    try {
      const winner = await Promise.any(searches)
      loser.abort()
      // A search that also succeeded after the winner leaves a client behind: close it.
      for (const search of searches) void search.then(client => { if (client !== winner) client.close() }, () => {})
      return winner
    } catch (err) {
      const errors = err instanceof AggregateError ? err.errors : [err]
      throw new GatewayNotFoundError(`no port-mapping gateway: ${errors.map(e => (e as Error).message).join('; ')}`, { cause: err })
    }
  }

  async #probeNatPmp (signal: AbortSignal): Promise<GatewayClient> {
    const gateway = this.#options.gateway ?? await defaultGatewayIPv4()
    if (gateway === undefined) throw new GatewayNotFoundError('NAT-PMP: no default gateway')
    if (classifyIp(gateway) === 'public') throw new GatewayNotFoundError(`NAT-PMP: the default gateway ${gateway} is not on a private network`)
    const client = await connectNatPmp(gateway, { signal, port: this.#options.natPmpPort })
    try {
      await client.externalAddress({ signal })
      return client
    } catch (err) {
      client.close()
      throw err
    }
  }

  /** True when some IPv4 listen address sits on a private network (else there is no gateway to ask). */
  #hasLanAddress (): boolean {
    return this.#components.addressManager.getAddresses().some(a => {
      const host = a.getComponents()[0]
      return host?.name === 'ip4' && host.value !== undefined && classifyIp(host.value) === 'private'
    })
  }
}

/** The port-mapping service factory (UPnP IGD and NAT-PMP); see the module doc. */
export function uPnPNAT (options: UPnPNATOptions = {}): ServiceFactory<UPnPNATService> {
  return (components) => new UPnPNATService(components, options)
}
