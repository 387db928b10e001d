/** DCUtR hole punching: `import { dcutr } from 'ts-libp2p/dcutr'`, `services: { dcutr: dcutr() }` (needs identify). */
export { dcutr, DcutrService, type DcutrOptions, type DcutrComponents } from './dcutr.ts'
export { HolePunchFailedError, HolePunchProtocolError } from './errors.ts'
export { DCUTR_PROTOCOL, MAX_HOLE_PUNCH_MESSAGE_SIZE, encodeHolePunch, decodeHolePunch, type HolePunchMessage } from './message.ts'
