/**
 * Interop acceptance against js-libp2p 3.x (interop/js-peer): Noise with Yamux and with
 * Mplex, each with us dialing and with js dialing us. See test/interop/suite.ts.
 */
import { identityAndFailureSuite, interopSuite } from './suite.ts'
import type { RemoteProfile } from './suite.ts'

const js: RemoteProfile = {
  kind: 'js',
  // the stop protocol: the js peer runs circuitRelayTransport()
  protocols: ['/echo/1.0.0', '/ipfs/id/1.0.0', '/ipfs/ping/1.0.0', '/test/reset/1.0.0', '/libp2p/circuit/relay/0.2.0/stop'],
  protocolVersion: 'ipfs/0.1.0',
  dialsFromListenPort: false
}

for (const muxer of ['yamux', 'mplex'] as const) {
  interopSuite(js, muxer, 'outbound')
  interopSuite(js, muxer, 'inbound')
}
// libp2p TLS (@libp2p/tls) with yamux agreed through ALPN.
interopSuite(js, 'yamux', 'outbound', 'tls')
interopSuite(js, 'yamux', 'inbound', 'tls')

// No ECDSA: js-libp2p 3 encodes ECDSA public keys as its own DER structure, not the
// SubjectPublicKeyInfo the spec (and go) use, so it cannot read ours (nor go's).
identityAndFailureSuite(js, 'yamux', ['secp256k1', 'RSA'])
