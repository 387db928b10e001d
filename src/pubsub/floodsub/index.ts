/** FloodSub: `services: { pubsub: floodsub() }`. */
export { floodsub, FloodSub, FLOODSUB_PROTOCOL, type FloodSubOptions } from './floodsub.ts'
export * from '../shared-exports.ts'
