/**
 * The transports of the CLI's nodes, each loaded only when a node can use it: a cold
 * `ts-libp2p ping /ip4/.../tcp/...` compiles TCP alone, not QUIC's TLS stack, WebTransport or
 * the `ws` package (about 70 modules; on a cold start, loading code is most of the time).
 */
import { join } from 'node:path'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Transport } from '../interface/transport.ts'
import type { ComponentFactory } from '../node/options.ts'
import type { SecurityConfig } from './security-options.ts'

type TransportFactories = Array<ComponentFactory<Transport>>

/**
 * Every transport the CLI speaks: TCP, WebSockets, QUIC, WebTransport and circuit relay, so
 * circuit addresses dial and listen. No QUIC (nor WebTransport over it) in a private network,
 * which cannot protect it. With a data directory, WebTransport's certificates live in it.
 */
export async function cliTransports (security?: SecurityConfig, dataDir?: string): Promise<TransportFactories> {
  const [{ tcp }, { webSockets }, { circuitRelayTransport }] = await Promise.all([
    import('../transport/tcp/index.ts'), import('../transport/websockets/index.ts'), import('../relay/index.ts')
  ])
  if (security?.connectionProtector !== undefined) return [tcp(), webSockets(), circuitRelayTransport()]
  const [{ quic }, { webTransport }] = await Promise.all([import('../transport/quic/index.ts'), import('../transport/webtransport/index.ts')])
  const certificateFile = dataDir === undefined ? undefined : join(dataDir, 'webtransport-certificates.json')
  return [tcp(), webSockets(), quic(), webTransport({ certificateFile }), circuitRelayTransport()]
}

/**
 * The transports a node that only dials `target` needs. A relayed target (the peer may move
 * us to a direct connection of any kind) and a /dnsaddr name (which resolves to any kind of
 * address) get every transport.
 */
export async function transportsToDial (target: Multiaddr, security?: SecurityConfig): Promise<TransportFactories> {
  const names = new Set(target.getComponents().map(c => c.name))
  if (names.has('p2p-circuit') || names.has('dnsaddr')) return await cliTransports(security)
  if (names.has('webtransport') && security?.connectionProtector === undefined) {
    const { webTransport } = await import('../transport/webtransport/index.ts')
    return [webTransport()]
  }
  if (names.has('quic-v1') && security?.connectionProtector === undefined) {
    const { quic } = await import('../transport/quic/index.ts')
    return [quic()]
  }
  if (names.has('ws') || names.has('wss') || names.has('tls')) {
    const { webSockets } = await import('../transport/websockets/index.ts')
    return [webSockets()]
  }
  const { tcp } = await import('../transport/tcp/index.ts')
  return [tcp()]
}
