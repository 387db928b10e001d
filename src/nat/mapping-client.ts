/**
 * What the port mapper asks of a gateway, whichever protocol it speaks (UPnP IGD or NAT-PMP):
 * its external address, and mappings made, renewed and removed. Browser-safe (types only).
 */
export type MappingProtocol = 'tcp' | 'udp'

export interface MappingRequest {
  readonly protocol: MappingProtocol
  /** Our address on the gateway's network (UPnP's NewInternalClient; NAT-PMP uses the source). */
  readonly internalHost: string
  readonly internalPort: number
  /** The external port asked for; the gateway may give another (NAT-PMP) or refuse (UPnP 718). */
  readonly externalPort: number
  readonly lifetimeSeconds: number
  /** Shown in the router's table (UPnP only). */
  readonly description: string
}

export interface Mapping {
  readonly protocol: MappingProtocol
  readonly internalPort: number
  readonly externalPort: number
  /** What the gateway granted; 0 means until removed (a UPnP device that only does permanent leases). */
  readonly lifetimeSeconds: number
}

export interface GatewayClient {
  /** 'upnp' or 'nat-pmp', for logs and the service's status. */
  readonly kind: 'upnp' | 'nat-pmp'
  /** The gateway's address on our network. */
  readonly gateway: string
  /** Our address on the gateway's network. */
  readonly localAddress: string
  /** The gateway's external IPv4 address, as it reports it ('' when it has none). */
  externalAddress(options: { signal: AbortSignal }): Promise<string>
  map(request: MappingRequest, options: { signal: AbortSignal }): Promise<Mapping>
  unmap(mapping: Mapping, options: { signal: AbortSignal }): Promise<void>
  /** Releases sockets; idempotent. */
  close(): void
}
