/**
 * The NAT lab for tests and benchmarks: namespaces, routers with NAT kinds, delay wires.
 * Start with `natLabSkip()` (skip or fail under CI) and `createNatLab()`; see nat-lab.ts.
 */
export { createNatLab, INTERNET_CIDR, INTERNET_PREFIX, RELAY_ADDRESS, LAN_HOST_ADDRESS, LAN_ROUTER_ADDRESS } from './nat-lab.ts'
export type { NatLab, NatLabOptions, LabHost, LabRouter } from './nat-lab.ts'
export { NAT_KINDS, FULL_CONE_PORTS, natRules, applyNat } from './nat-kinds.ts'
export type { NatKind } from './nat-kinds.ts'
export { NetworkNamespace } from './namespace.ts'
export { natLabSkip, natLabUnavailableReason } from './availability.ts'
export { processLines } from './process-lines.ts'
export type { ProcessLines } from './process-lines.ts'
export { LabCommandError } from './commands.ts'
export { startLabNode, runLabCli, CLI } from './lab-cli.ts'
export type { LabNode } from './lab-cli.ts'
