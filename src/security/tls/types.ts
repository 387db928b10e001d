/** Options and constants shared by the runtimes of libp2p TLS. */

export const TLS_PROTOCOL = '/tls/1.0.0'
/** The ALPN id that means "libp2p, muxer negotiated afterwards with multistream-select". */
export const TLS_ALPN_LIBP2P = 'libp2p'

export interface TlsInit {
  /** Decrypted bytes buffered per connection before reading from the raw connection pauses. */
  highWaterMark?: number
}
