/**
 * Mplex (`/mplex/6.7.0`), the deprecated stream muxer kept for peers that speak nothing else.
 * It has no flow control: prefer yamux.
 *
 * Use `mplex(options)` (from 'ts-libp2p/mplex') in the node's `streamMuxers` list; the upgrader calls the returned
 * function with the node's components and then `createStreamMuxer(conn, init)` per connection.
 */
import type { StreamMuxerFactory, StreamMuxerInit } from '../../interface/muxer.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { MPLEX_PROTOCOL } from './frame.ts'
import { MplexMuxer } from './muxer.ts'
import type { MplexOptions } from './muxer.ts'

export type { MplexOptions } from './muxer.ts'
export { MplexMuxer } from './muxer.ts'
export { MplexStream } from './stream.ts'
export { MPLEX_PROTOCOL } from './frame.ts'

export function mplex (options: MplexOptions = {}): (components?: unknown) => StreamMuxerFactory {
  return () => ({
    protocol: MPLEX_PROTOCOL,
    createStreamMuxer (conn: ByteStream, init: StreamMuxerInit): MplexMuxer {
      return new MplexMuxer(conn, init, options)
    }
  })
}
