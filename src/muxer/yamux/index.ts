/**
 * Yamux (`/yamux/1.0.0`), the default stream muxer: flow-controlled streams with receive
 * windows that grow with throughput, keep-alive pings and graceful GoAway.
 *
 * Use `yamux(options)` (from 'ts-libp2p/yamux') in the node's `streamMuxers` list; the upgrader calls the returned
 * function with the node's components and then `createStreamMuxer(conn, init)` per connection.
 */
import type { StreamMuxerFactory, StreamMuxerInit } from '../../interface/muxer.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { YAMUX_PROTOCOL } from './frame.ts'
import { YamuxMuxer } from './muxer.ts'
import type { YamuxOptions } from './muxer.ts'

export type { YamuxOptions } from './muxer.ts'
export { YamuxMuxer } from './muxer.ts'
export { YamuxStream } from './stream.ts'
export { YAMUX_PROTOCOL, GoAwayCode } from './frame.ts'

export function yamux (options: YamuxOptions = {}): (components?: unknown) => StreamMuxerFactory {
  return () => ({
    protocol: YAMUX_PROTOCOL,
    createStreamMuxer (conn: ByteStream, init: StreamMuxerInit): YamuxMuxer {
      return new YamuxMuxer(conn, init, options)
    }
  })
}
