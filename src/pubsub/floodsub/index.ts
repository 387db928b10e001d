/** FloodSub: `import { floodsub } from 'ts-libp2p/floodsub'`, then `services: { identify: identify(), pubsub: floodsub() }`. */
export { floodsub, FloodSub, FLOODSUB_PROTOCOL, type FloodSubOptions } from './floodsub.ts'
export * from '../shared-exports.ts'
