/**
 * The reduced interop matrix inside `npm test`: one cell per implementation pair and
 * transport (ts-libp2p with ts, js, go, py and rust; ts dialing
 * on tcp, quic-v1 and webrtc-direct, listening on ws and webtransport), each run as
 * libp2p/test-plans runs a cell (interop/test-plans/run-cell.ts) through a real redis-server.
 * Two cells at a time, each on its own Redis key. The whole matrix is `npm run interop:matrix`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { buildGoPeer, buildRustPeer, cargoAvailable, goAvailable, PY_PEER_DIR } from './harness.ts'
import { ensureVenv } from '../../interop/python/setup.ts'
import { runMatrix } from '../../interop/test-plans/matrix.ts'

const hasRedis = spawnSync('redis-server', ['--version']).status === 0
const hasGo = await goAvailable()

test('reduced interop matrix: every implementation pair on every transport both claim', {
  skip: !hasRedis ? 'redis-server is missing: scripts/install-system-packages.sh installs it' : !hasGo ? 'no Go toolchain to build interop/go-peer' : false,
  timeout: 1_200_000
}, async () => {
  // builds and installs first (cached after the first run), so the cells' time limits are theirs
  await buildGoPeer()
  await ensureVenv(PY_PEER_DIR)
  // the rust peer's cargo build (cached in .cache/rust-peer-target)
  if (await cargoAvailable()) await buildRustPeer()
  const results = await runMatrix({ reduced: true, timeoutSeconds: 45, ip: '127.0.0.1', concurrency: 2 })
  const ran = results.filter(r => r.status === 'pass' || r.status === 'fail')
  const failed = ran.filter(r => r.status === 'fail').map(r => `${r.name}: ${r.reason}`)
  assert.deepEqual(failed, [])
  const pairs = new Set(ran.map(r => [r.dialer, r.listener].sort().join('/')))
  for (const pair of ['ts/ts', 'js/ts', 'go/ts', 'py/ts', ...(await cargoAvailable() ? ['rust/ts'] : [])]) assert.ok(pairs.has(pair), `no ${pair} cell ran`)
  assert.ok(ran.some(r => r.dialer === 'ts' && r.listener === 'go') && ran.some(r => r.dialer === 'go' && r.listener === 'ts'), 'both roles against go')
  for (const r of ran) assert.ok(r.handshakePlusOneRTTMillis! > 0 && r.pingRTTMilllis! >= 0, `${r.name}: no timings`)
})
