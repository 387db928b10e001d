/**
 * `ts-libp2p perf` as the test-plans perf runner uses it: our CLI client against our CLI
 * server, as separate processes that wait on each other's output lines, never on time.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runCli } from '../cli/run-cli.ts'
import { perfServerKey, serverAddress } from '../../src/cli/commands/perf.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { MiB, PERF_SERVER_LOG, PERF_SERVER_PEER_ID, nextServedLine, parsePerfOutput, startPerfServer } from './perf-helpers.ts'

test('the perf server identity is the zero-seed Ed25519 key every perf server uses', () => {
  assert.equal(peerIdFromPrivateKey(perfServerKey()).toString(), PERF_SERVER_PEER_ID)
})

test('--server-address takes HOST:PORT with an IP address', () => {
  assert.equal(serverAddress('127.0.0.1:4001').toString(), '/ip4/127.0.0.1/tcp/4001')
  assert.equal(serverAddress('0.0.0.0:0').toString(), '/ip4/0.0.0.0/tcp/0')
  assert.equal(serverAddress('[::1]:4001').toString(), '/ip6/::1/tcp/4001')
  for (const bad of ['127.0.0.1', ':4001', 'localhost:4001', '127.0.0.1:65536', '::1:4001', '1.2.3.4:x', '/ip4/1.2.3.4/tcp/1', '']) {
    assert.throws(() => serverAddress(bad), /--server-address/, bad)
  }
})

test('our perf client against our perf server: 10 MiB each way, exact counts', { timeout: 120_000 }, async (t) => {
  const { server, hostPort } = await startPerfServer(t, PERF_SERVER_LOG)
  const r = await runCli(['perf', '--server-address', hostPort, '--transport', 'tcp', '--upload-bytes', String(10 * MiB), '--download-bytes', String(10 * MiB)], { timeoutMs: 60_000 })
  assert.equal(r.code, 0, r.stderr)
  const final = parsePerfOutput(r.stdout).at(-1)!
  assert.deepEqual([final.uploadBytes, final.downloadBytes], [10 * MiB, 10 * MiB])
  assert.deepEqual(await nextServedLine(server), { received: 10 * MiB, sent: 10 * MiB })
  // upload only and download only, as the throughput benchmarks run it; the server serves many clients
  for (const [up, down] of [[MiB, 0], [0, MiB], [1, 1]]) {
    const one = await runCli(['perf', '--server-address', hostPort, '--upload-bytes', String(up), '--download-bytes', String(down)], { timeoutMs: 60_000 })
    assert.equal(one.code, 0, one.stderr)
    const last = parsePerfOutput(one.stdout).at(-1)!
    assert.deepEqual([last.uploadBytes, last.downloadBytes], [up, down])
    assert.deepEqual(await nextServedLine(server), { received: up, sent: down })
  }
  assert.equal(await server.stop('SIGTERM'), 0)
})

test('the client fails with one line and exit code 1 when no server is there', async (t) => {
  // a port that was just free: start a server, stop it, dial its port
  const { server, hostPort } = await startPerfServer(t)
  await server.stop()
  const r = await runCli(['perf', '--server-address', hostPort, '--upload-bytes', '1', '--download-bytes', '1'], { timeoutMs: 60_000 })
  assert.equal(r.code, 1, r.stderr)
  assert.equal(r.stdout, '')
  const errorLines = r.stderr.split('\n').filter(l => l.startsWith('ts-libp2p: '))
  assert.equal(errorLines.length, 1, r.stderr)
})

test('perf usage errors exit 2 with one line; --help documents both modes', async () => {
  const cases: Array<[string[], string]> = [
    [['perf'], '--server-address'],
    [['perf', '--server-address', 'nowhere'], '--server-address'],
    [['perf', '--server-address', '127.0.0.1:1', '--transport', 'webrtc'], "unsupported --transport 'webrtc'"],
    [['perf', '--server-address', '127.0.0.1:1', '--upload-bytes', '-5'], '--upload-bytes'],
    [['perf', '--server-address', '127.0.0.1:1', '--download-bytes', 'lots'], '--download-bytes'],
    [['perf', '--run-server', '--server-address', '127.0.0.1:1', '--upload-bytes', '1'], 'client options'],
    [['perf', '--server-address', '127.0.0.1:1', '--bogus'], '--bogus']
  ]
  for (const [args, message] of cases) {
    const r = await runCli(args)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.equal(r.stdout, '')
    const lines = r.stderr.split('\n').filter(l => l !== '')
    assert.equal(lines.length, 1, r.stderr)
    assert.ok(lines[0].startsWith('ts-libp2p: ') && lines[0].includes(message), lines[0])
  }
  const help = await runCli(['perf', '--help'])
  assert.equal(help.code, 0)
  assert.match(help.stdout, /^Usage: ts-libp2p perf --run-server --server-address HOST:PORT/)
  assert.match(help.stdout, /--upload-bytes N/)
  const top = await runCli(['--help'])
  assert.ok(top.stdout.includes('  perf '))
})
