/**
 * The test-plans perf contract matrix (interop/test-plans/perf-matrix.ts) in small: ts-libp2p's
 * `perf` client and server against go-libp2p and js-libp2p (their peers behind perf-peer.ts),
 * over QUIC v1 (TCP is in perf.test.ts), each benchmark a fresh client process with exact byte counts. The
 * figures are not asserted (bench/ and `npm run interop:perf` measure); only that every run
 * moved exactly what it was asked to and reported a time.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { goAvailable } from './harness.ts'
import { runPerfMatrix, startServer, runClient, freeTcpUdpPort, PERF_IMPLEMENTATIONS, JS_ONE_PROCESS_PERF } from '../../interop/test-plans/perf-matrix.ts'

const hasGo = await goAvailable()

test('perf contract matrix: ts client and server over quic-v1 against js and go, upload, download, 1-byte round trip', { timeout: 300_000 }, async () => {
  // TCP with go and js is in perf.test.ts; here the matrix runner and QUIC, one pair each way
  const filters = ['ts x js (quic-v1)', ...(hasGo ? ['go x ts (quic-v1)'] : ['js x ts (quic-v1)'])]
  const rows = await runPerfMatrix({ bytes: 256 * 1024, iterations: 1, latencyIterations: 1, filters, clientTimeoutMs: 120_000 })
  assert.deepEqual(rows.map(r => r.name).sort(), [...filters].sort())
  for (const row of rows) {
    assert.equal(row.status, 'pass', `${row.name}: ${row.reason}`)
    for (const values of [row.upload, row.download, row.latency]) {
      assert.equal(values?.length, 1, row.name)
      assert.ok(Number.isFinite(values[0]) && values[0] > 0, `${row.name}: ${String(values[0])}`)
    }
  }
})

test('the one-process js-libp2p perf executable (js-perf.ts) against our perf server and our client against it, tcp', { timeout: 180_000 }, async () => {
  // interop:perf:compare and bench/startup time js-libp2p through it: it must speak the
  // protocol both ways and report exact byte counts (runClient rejects anything else)
  const ours = PERF_IMPLEMENTATIONS.find(i => i.id === 'ts')!
  for (const [client, server] of [[JS_ONE_PROCESS_PERF, ours], [ours, JS_ONE_PROCESS_PERF]]) {
    const port = await freeTcpUdpPort()
    const running = await startServer(server, port)
    try {
      for (const [up, down] of [[256 * 1024, 0], [0, 256 * 1024], [1, 1]]) {
        const seconds = await runClient(client, port, 'tcp', up, down, 60_000)
        assert.ok(Number.isFinite(seconds) && seconds > 0, `${client.id} x ${server.id} ${up}/${down}: ${seconds}`)
      }
    } finally {
      await running.stop()
    }
  }
})
