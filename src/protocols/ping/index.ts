/** Ping: `import { ping } from 'ts-libp2p/ping'`, `services: { ping: ping() }`, then `node.services.ping.ping(peer)`. */
export { ping, PingService, pingOnce, PING_PAYLOAD_LENGTH, type PingOptions, type PingTarget, type PingComponents } from './ping.ts'
