/**
 * /perf/1.0.0 against real go-libp2p and js-libp2p peers (interop/go-peer, interop/js-peer,
 * both with --perf), in both directions, 10 MiB each way with exact byte counts:
 * - our library client (measurePerformance) against their server, which reports what it
 *   received and sent in a perf:done event;
 * - our CLI client (the test-plans contract) against their server started with the zero-seed
 *   perf identity, the only peer id a perf client can know;
 * - their client (the peers' `perf` command) against our CLI perf server.
 * go is skipped without a toolchain. Nothing here asserts a timing.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../src/index.ts'
import { perf, type PerfOutput } from '../../src/protocols/perf/index.ts'
import { goAvailable, spawnPeer, stopAll, type PeerKind } from './harness.ts'
import { runCli } from '../cli/run-cli.ts'
import { MiB, PERF_SERVER_LOG, PERF_SERVER_PEER_ID, nextServedLine, parsePerfOutput, startPerfServer } from '../protocols/perf-helpers.ts'

after(async () => { await stopAll() })

const hasGo = await goAvailable()
const ZERO_SEED = '00'.repeat(32)
const SIZE = 10 * MiB

for (const kind of ['js', 'go'] as PeerKind[]) {
  const peerArgs = ['--perf']
  const skip = kind === 'go' && !hasGo ? 'no go toolchain' : false

  test(`perf: our client against the ${kind}-libp2p server`, { skip, timeout: 240_000 }, async (t) => {
    const peer = await spawnPeer(kind, peerArgs, { readyTimeoutMs: 120_000 })
    const node = await createLibp2p({ addresses: { listen: [] }, services: { perf: perf() } })
    t.after(async () => { await node.stop() })

    const since = peer.events.length
    const outputs: PerfOutput[] = []
    for await (const output of node.services.perf.measurePerformance(multiaddr(peer.addrs[0]), SIZE, SIZE)) outputs.push(output)
    const final = outputs.at(-1)!
    assert.deepEqual([final.type, final.uploadBytes, final.downloadBytes], ['final', SIZE, SIZE])
    const served = await peer.waitEvent(e => e.event === 'perf:done' || e.event === 'perf:error', 30_000, { since })
    assert.deepEqual(served, { event: 'perf:done', peerId: node.peerId.toString(), received: SIZE, sent: SIZE })

    // upload only, download only, and a zero-byte exchange
    for (const [up, down] of [[SIZE, 0], [0, SIZE], [0, 0]]) {
      let last: PerfOutput | undefined
      for await (const output of node.services.perf.measurePerformance(multiaddr(peer.addrs[0]), up, down)) last = output
      assert.deepEqual([last?.type, last?.uploadBytes, last?.downloadBytes], ['final', up, down])
    }
    await peer.stop()
  })

  test(`perf: our CLI client against the ${kind}-libp2p server with the perf server identity`, { skip, timeout: 240_000 }, async () => {
    const peer = await spawnPeer(kind, [...peerArgs, '--key-seed', ZERO_SEED], { readyTimeoutMs: 120_000 })
    assert.equal(peer.peerId, PERF_SERVER_PEER_ID)
    const port = peer.addrs[0].split('/')[4]
    const since = peer.events.length
    const r = await runCli(['perf', '--server-address', `127.0.0.1:${port}`, '--transport', 'tcp', '--upload-bytes', String(SIZE), '--download-bytes', String(SIZE)], { timeoutMs: 120_000 })
    assert.equal(r.code, 0, r.stderr)
    const final = parsePerfOutput(r.stdout).at(-1)!
    assert.deepEqual([final.uploadBytes, final.downloadBytes], [SIZE, SIZE])
    const served = await peer.waitEvent(e => e.event === 'perf:done' || e.event === 'perf:error', 30_000, { since })
    assert.equal(served.event, 'perf:done', JSON.stringify(served))
    assert.deepEqual([served.received, served.sent], [SIZE, SIZE])
    await peer.stop()
  })

  test(`perf: the ${kind}-libp2p client against our CLI server`, { skip, timeout: 240_000 }, async (t) => {
    const { server, addr } = await startPerfServer(t, PERF_SERVER_LOG)
    const peer = await spawnPeer(kind, peerArgs, { readyTimeoutMs: 120_000 })
    await peer.commandOk({ cmd: 'dial', addr })
    for (const [up, down] of [[SIZE, SIZE], [SIZE, 0], [0, SIZE], [0, 0]]) {
      const reply = await peer.commandOk({ cmd: 'perf', peer: PERF_SERVER_PEER_ID, upload: up, download: down })
      assert.deepEqual([reply.uploaded, reply.downloaded], [up, down])
      // and our server saw exactly that upload
      assert.deepEqual(await nextServedLine(server), { received: up, sent: down })
    }
    await peer.stop()
  })
}
