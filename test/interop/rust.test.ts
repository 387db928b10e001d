/**
 * Interop acceptance against rust-libp2p 0.57 (interop/rust-peer, built with cargo on first
 * use): Noise and TLS with Yamux, Noise with Mplex, with us dialing and with rust dialing us.
 * See test/interop/suite.ts. Without a cargo toolchain the file says why it skips (CI has one).
 */
import { before, describe, it } from 'node:test'
import { buildRustPeer, cargoAvailable } from './harness.ts'
import { identityAndFailureSuite, interopSuite } from './suite.ts'
import type { RemoteProfile } from './suite.ts'

const rust: RemoteProfile = {
  kind: 'rust',
  // the stop protocol: the rust peer always runs the circuit relay client transport
  protocols: ['/echo/1.0.0', '/ipfs/id/1.0.0', '/ipfs/id/push/1.0.0', '/ipfs/ping/1.0.0', '/test/reset/1.0.0', '/libp2p/circuit/relay/0.2.0/stop'],
  protocolVersion: 'ipfs/0.1.0',
  dialsFromListenPort: false,
  // rust-libp2p 0.57 identify signs its record in the legacy "libp2p-routing-state" domain
  specPeerRecord: false,
  readsResetAsEnd: 'rust-yamux 0.14 hands a reset stream to the reader as a clean end (Ok(0)), rust-mplex likewise'
}

if (await cargoAvailable()) {
  // The cold build compiles rust-libp2p: the one generous timeout.
  before(async () => { await buildRustPeer() }, { timeout: 1_800_000 })

  interopSuite(rust, 'yamux', 'outbound')
  interopSuite(rust, 'yamux', 'inbound')
  // libp2p TLS with yamux agreed through ALPN
  interopSuite(rust, 'yamux', 'outbound', 'tls')
  // rust-libp2p still ships mplex (libp2p-mplex)
  interopSuite(rust, 'mplex', 'inbound')
  identityAndFailureSuite(rust, 'yamux', ['secp256k1', 'ECDSA', 'RSA'])
} else {
  describe('rust-libp2p interop', () => {
    it('needs cargo (rustup or Debian cargo) to build interop/rust-peer', { skip: 'no cargo on PATH' }, () => {})
  })
}
