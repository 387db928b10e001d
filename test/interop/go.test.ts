/**
 * Interop acceptance against go-libp2p v0.51 (interop/go-peer, built with `go build` on first
 * use): Noise with Yamux (go-libp2p has no mplex), with us dialing and with go dialing us.
 * See test/interop/suite.ts.
 */
import { before } from 'node:test'
import { buildGoPeer } from './harness.ts'
import { identityAndFailureSuite, interopSuite } from './suite.ts'
import type { RemoteProfile } from './suite.ts'

const go: RemoteProfile = {
  kind: 'go',
  // the stop protocol: the go peer runs the circuit relay transport (interop/go-peer/relay.go)
  protocols: ['/echo/1.0.0', '/ipfs/id/1.0.0', '/ipfs/id/push/1.0.0', '/ipfs/ping/1.0.0', '/test/reset/1.0.0', '/libp2p/circuit/relay/0.2.0/stop'],
  protocolVersion: '',
  dialsFromListenPort: true
}

// The first build on a fresh machine downloads go modules: the one generous timeout.
before(async () => { await buildGoPeer() }, { timeout: 600_000 })

interopSuite(go, 'yamux', 'outbound')
interopSuite(go, 'yamux', 'inbound')
// libp2p TLS with yamux agreed through ALPN (go offers ["/yamux/1.0.0", "libp2p"]).
interopSuite(go, 'yamux', 'outbound', 'tls')
interopSuite(go, 'yamux', 'inbound', 'tls')
identityAndFailureSuite(go, 'yamux', ['secp256k1', 'ECDSA', 'RSA'])
