/**
 * Interop acceptance against py-libp2p 0.8 (interop/py-peer/peer.py, in a venv made on first
 * use from interop/py-peer/requirements.txt; a cold install takes ~1-2 min): Noise with Yamux
 * and with Mplex, each with us dialing and with py dialing us. See test/interop/suite.ts.
 */
import { before } from 'node:test'
import { ensureVenv } from '../../interop/python/setup.ts'
import { PY_PEER_DIR } from './harness.ts'
import { interopSuite } from './suite.ts'
import type { RemoteProfile } from './suite.ts'

const py: RemoteProfile = {
  kind: 'py',
  protocols: ['/echo/1.0.0', '/ipfs/id/1.0.0', '/ipfs/id/push/1.0.0', '/ipfs/ping/1.0.0', '/test/reset/1.0.0'],
  protocolVersion: 'ipfs/0.1.0',
  dialsFromListenPort: false,
  // py-libp2p 0.8 reads a remote reset as a clean EOF (Yamux and Mplex, against go and js as
  // well as us): its reset command reports that instead of an error
  readsResetAsEnd: 'py-libp2p 0.8 reads a remote stream reset as a clean end of stream'
}

// The first run on a fresh machine installs py-libp2p into the venv: the one generous timeout.
before(async () => { await ensureVenv(PY_PEER_DIR) }, { timeout: 900_000 })

for (const muxer of ['yamux', 'mplex'] as const) {
  interopSuite(py, muxer, 'outbound')
  interopSuite(py, muxer, 'inbound')
}
