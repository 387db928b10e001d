/**
 * `createQuicHandshake`: the TLS 1.3 handshake for one QUIC connection (see types.ts for the
 * contract with the transport). The client authenticates the server and the server the client,
 * both by the libp2p certificate extension (tls/tls.md); ALPN must agree on 'libp2p'.
 */
import { ClientHandshake } from './client-handshake.node.ts'
import { ServerHandshake } from './server-handshake.node.ts'
import type { QuicHandshake, QuicHandshakeOptions } from './types.ts'

export function createQuicHandshake (options: QuicHandshakeOptions): QuicHandshake {
  return options.role === 'client' ? new ClientHandshake(options) : new ServerHandshake(options)
}
