/**
 * multistream-select 1.0 (`/multistream/1.0.0`): agrees on the protocol spoken over a byte
 * stream. Dialers call `select` (or `lazySelect` to skip the round trip when the remote is
 * known to support the protocol); listeners call `handle`.
 */
export { select, listProtocols, type MssOptions } from './select.ts'
export { lazySelect } from './lazy.ts'
export { handle, handleQueued, type ProtocolMatcher } from './handle.ts'
export { PROTOCOL_ID, MAX_MESSAGE_LENGTH, MAX_NEGOTIATION_ROUNDS } from './codec.ts'
