/** Identify and identify/push: `import { identify } from 'ts-libp2p/identify'`, then `services: { identify: identify() }`. */
export { identify, IdentifyService, IDENTIFY_PROTOCOL_VERSION, type IdentifyOptions, type IdentifyComponents } from './identify.ts'
export { encodeIdentify, decodeIdentify, encodeIdentifyFrames, readIdentify, DEFAULT_IDENTIFY_LIMITS, type IdentifyMessage, type IdentifyLimits } from './message.ts'
