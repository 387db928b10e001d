/**
 * Rendezvous (specs rendezvous/README.md, `/rendezvous/1.0.0`): `rendezvousServer()` is a
 * rendezvous point, `rendezvous({ points, namespaces })` registers and discovers through them.
 */
export { rendezvous, RendezvousClient, RendezvousError, type RendezvousOptions, type DiscoverResult } from './client.ts'
export { rendezvousServer, RendezvousServer, type RendezvousServerOptions } from './server.ts'
export { RENDEZVOUS_PROTOCOL, ResponseStatus } from './messages.ts'
