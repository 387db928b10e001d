/**
 * `ts-libp2p doctor` against real peers of three implementations with different transport,
 * security and muxer sets: each combination it reports is checked against what the peer was
 * started with (a test per claim), plus a peer that is not who the address says and one that
 * advertises an address no one can reach.
 */
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli, type RunningCli } from './run-cli.ts'
import { spawnPeer, stopAll } from '../interop/harness.ts'
import { createLibp2p, generateKeyPair, peerIdFromPrivateKey } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import type { DoctorReport } from '../../src/cli/commands/doctor.ts'

async function doctor (address: string, ...flags: string[]): Promise<{ code: number | null, report: DoctorReport }> {
  const result = await runCli(['doctor', address, '--json', '--timeout', '20000', ...flags], { timeoutMs: 180_000 })
  assert.ok(result.stdout.trim().length > 0, `no report; stderr: ${result.stderr}`)
  return { code: result.code, report: JSON.parse(result.stdout) as DoctorReport }
}

/** combination -> 'ok' or the failed phase, for the probes of one transport. */
function matrix (report: DoctorReport, transport: string): Record<string, string> {
  return Object.fromEntries(report.probes.filter(p => p.transport === transport).map(p => [p.combination, p.ok ? 'ok' : `fail:${p.failedPhase ?? '?'}`]))
}

function assertPhases (report: DoctorReport): void {
  for (const p of report.probes.filter(p => p.ok)) {
    for (const phase of ['connect', 'identify', 'ping'] as const) assert.ok((p.phases[phase] ?? -1) >= 0, `${p.combination}: no ${phase} time`)
    if (p.security !== undefined) {
      assert.ok((p.phases.security ?? -1) > 0, `${p.combination}: no security time`)
      assert.ok((p.phases.muxer ?? -1) >= 0, `${p.combination}: no muxer time`)
    }
  }
}

describe('ts-libp2p doctor', { timeout: 600_000 }, () => {
  const running: RunningCli[] = []
  const dirs: string[] = []
  after(async () => {
    for (const cli of running) await cli.stop()
    await stopAll()
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  it('a ts peer on tcp, ws, quic-v1 and webtransport with noise and tls: every combination works, each phase timed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-doctor-'))
    dirs.push(dir)
    const cli = startCli(['start', '--data-dir', dir, '--security', 'noise,tls', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/tcp/0/ws',
      '--listen', '/ip4/127.0.0.1/udp/0/quic-v1', '--listen', '/ip4/127.0.0.1/udp/0/quic-v1/webtransport'])
    running.push(cli)
    const { peerId, addrs } = JSON.parse(await cli.nextLine('stdout', undefined, 60_000)) as { peerId: string, addrs: string[] }
    const { code, report } = await doctor(addrs[0])
    assert.equal(code, 0)
    assert.equal(report.peerId, peerId)
    assert.match(report.agentVersion ?? '', /^ts-libp2p\//)
    const all = { 'noise/yamux': 'ok', 'noise/mplex': 'ok', 'tls/yamux': 'ok', 'tls/mplex': 'ok' }
    assert.deepEqual(matrix(report, 'tcp'), Object.fromEntries(Object.entries(all).map(([k, v]) => [`tcp/${k}`, v])))
    assert.deepEqual(matrix(report, 'ws'), Object.fromEntries(Object.entries(all).map(([k, v]) => [`ws/${k}`, v])))
    assert.deepEqual(matrix(report, 'quic-v1'), { 'quic-v1': 'ok' })
    assert.deepEqual(matrix(report, 'webtransport'), { webtransport: 'ok' })
    assertPhases(report)
    assert.deepEqual(report.problems, [])
    assert.equal(report.addresses.length, 4, 'the address given and the same one advertised count once')
    assert.ok(report.addresses.every(a => a.reachable === true && a.reachability === 'loopback'))
    assert.equal(cli.child.exitCode, null, 'the probed node is still running (no probe crashed it)')
  })

  it('a go-libp2p peer with tls and yamux only, on tcp, quic-v1 and webtransport: tls/yamux works, the rest fails in the right phase', async () => {
    const go = await spawnPeer('go', ['--security', 'tls', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/udp/0/quic-v1', '--listen', '/ip4/127.0.0.1/udp/0/quic-v1/webtransport'])
    const tcpAddr = go.addrs.find(a => a.includes('/tcp/'))!
    const { code, report } = await doctor(tcpAddr)
    assert.equal(code, 0)
    assert.equal(report.peerId, go.peerId)
    assert.deepEqual(matrix(report, 'tcp'), { 'tcp/noise/yamux': 'fail:security', 'tcp/noise/mplex': 'fail:security', 'tcp/tls/yamux': 'ok', 'tcp/tls/mplex': 'fail:muxer' })
    assert.deepEqual(matrix(report, 'quic-v1'), { 'quic-v1': 'ok' })
    assert.deepEqual(matrix(report, 'webtransport'), { webtransport: 'ok' })
    assertPhases(report)
  })

  it('a js-libp2p peer with noise and mplex only, on tcp, ws and quic-v1: noise/mplex works on tcp and ws, quic works', async () => {
    const js = await spawnPeer('js', ['--security', 'noise', '--muxer', 'mplex', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/tcp/0/ws', '--listen', '/ip4/127.0.0.1/udp/0/quic-v1'])
    const tcpAddr = js.addrs.find(a => a.includes('/tcp/') && !a.includes('/ws'))!
    const { code, report } = await doctor(tcpAddr)
    assert.equal(code, 0)
    assert.equal(report.peerId, js.peerId)
    assert.deepEqual(matrix(report, 'tcp'), { 'tcp/noise/yamux': 'fail:muxer', 'tcp/noise/mplex': 'ok', 'tcp/tls/yamux': 'fail:security', 'tcp/tls/mplex': 'fail:security' })
    assert.deepEqual(matrix(report, 'ws'), { 'ws/noise/yamux': 'fail:muxer', 'ws/noise/mplex': 'ok', 'ws/tls/yamux': 'fail:security', 'ws/tls/mplex': 'fail:security' })
    assert.deepEqual(matrix(report, 'quic-v1'), { 'quic-v1': 'ok' })
    assertPhases(report)
  })

  it('a peer that is not the /p2p id of the address: reported as a mismatch naming who answered, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-doctor-'))
    dirs.push(dir)
    const cli = startCli(['start', '--data-dir', dir, '--listen', '/ip4/127.0.0.1/tcp/0'])
    running.push(cli)
    const { peerId, addrs } = JSON.parse(await cli.nextLine('stdout', undefined, 60_000)) as { peerId: string, addrs: string[] }
    const claimed = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const lying = addrs[0].replace(peerId, claimed)
    const { code, report } = await doctor(lying, '--given-only')
    assert.equal(code, 1)
    assert.equal(report.expectedPeerId, claimed)
    assert.equal(report.peerId, peerId)
    const mismatch = report.problems.find(p => p.kind === 'peer-id-mismatch')
    assert.ok(mismatch !== undefined, JSON.stringify(report.problems))
    assert.ok(mismatch.message.includes(peerId) && mismatch.message.includes(claimed))
    assert.ok(report.probes.every(p => !p.ok))
  })

  it('a peer advertising an unroutable address: reported, and that address is not reachable', async () => {
    const node = await createLibp2p({
      transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()],
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'], appendAnnounce: ['/ip4/192.0.2.7/tcp/4001'] },
      services: { identify: identify(), ping: ping() }
    })
    try {
      const listening = node.getMultiaddrs().find(a => a.toString().startsWith('/ip4/127.0.0.1/tcp/'))!
      const { code, report } = await doctor(listening.toString())
      assert.equal(code, 0)
      assert.ok(report.problems.some(p => p.kind === 'unroutable-address' && p.message.includes('192.0.2.7')), JSON.stringify(report.problems))
      // not dialed: a documentation address leads off the machine to nowhere
      const unroutable = report.addresses.find(a => a.address.startsWith('/ip4/192.0.2.7'))
      assert.equal(unroutable?.reachable, null)
      assert.match(unroutable?.skipped ?? '', /unroutable/)
      assert.ok(!report.probes.some(p => p.address.includes('192.0.2.7')))
    } finally {
      await node.stop()
    }
  })
})
