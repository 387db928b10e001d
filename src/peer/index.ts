/**
 * Peer identity beyond keys: peer ids, signed envelopes and peer records, in one import.
 */
export * from './peer-id.ts'
export * from './envelope.ts'
export * from './peer-record.ts'
