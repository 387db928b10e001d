/** The stream muxers: yamux (default) and mplex (legacy). */
export { yamux, YamuxMuxer, YamuxStream, YAMUX_PROTOCOL, GoAwayCode } from './yamux/index.ts'
export type { YamuxOptions } from './yamux/index.ts'
export { mplex, MplexMuxer, MplexStream, MPLEX_PROTOCOL } from './mplex/index.ts'
export type { MplexOptions } from './mplex/index.ts'
