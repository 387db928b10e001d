/**
 * Port mapping: `import { uPnPNAT } from 'ts-libp2p/upnp-nat'`, `services: { nat: uPnPNAT() }`.
 * UPnP IGD and NAT-PMP (RFC 6886) on the LAN's gateway; mapped addresses become candidates that
 * AutoNAT confirms before they are announced. Node.js only.
 */
export { uPnPNAT, UPnPNATService, type UPnPNATOptions, type UPnPNATComponents, type GatewayProtocol, type PortMappingEventMap } from './upnp-nat.node.ts'
export type { PortMapperOptions, PortMapperState } from './port-mapper.ts'
export { DoubleNatError, GatewayNotFoundError, NatPmpResultError, UPnPActionError, UntrustedGatewayError } from './errors.ts'
