/**
 * `ts-libp2p doctor`'s DNS phase against a real DNS server: dnsmasq on loopback (a free high
 * port, answering only from the test's zone) resolves a /dns4 and a /dnsaddr address of a real
 * node; doctor reports how long resolution took and probes the address it resolved to. A name
 * the server does not know is reported as a dns-failed problem, with its time, in the JSON
 * object and the table.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { runCli } from './run-cli.ts'
import { DNSMASQ, startLoopbackDnsServer } from '../dns/dnsmasq.ts'
import type { ProcessLines } from '../support/lab/index.ts'
import { makeNode, stopAll } from '../node/helpers.ts'
import type { DoctorReport } from '../../src/cli/commands/doctor.ts'

function dnsmasqSkip (): string | false {
  if (existsSync(DNSMASQ)) return false
  const reason = 'dnsmasq is not installed (scripts/install-system-packages.sh installs dnsmasq-base)'
  if (process.env.CI === 'true') throw new Error(`CI must run the doctor DNS test, but ${reason}`)
  return reason
}

describe('doctor resolves host names through a real DNS server', { skip: dnsmasqSkip(), timeout: 180_000 }, () => {
  let dnsServer = ''
  let dns: { port: number, server: ProcessLines, stop: () => Promise<void> } | undefined
  let peerId = ''
  let port = ''

  before(async () => {
    const node = await makeNode()
    peerId = node.peerId.toString()
    port = node.getMultiaddrs()[0].toString().split('/')[4]
    dns = await startLoopbackDnsServer({
      a: { 'peer.doctor.test': ['127.0.0.1'] },
      txt: { '_dnsaddr.peers.doctor.test': [`dnsaddr=/dns4/peer.doctor.test/tcp/${port}/p2p/${peerId}`] }
    })
    dnsServer = `127.0.0.1:${dns.port}`
  })

  after(async () => {
    await dns?.stop()
    await stopAll()
  })

  async function doctor (address: string, json = true): Promise<{ code: number | null, stdout: string, stderr: string }> {
    return await runCli(['doctor', address, '--given-only', '--dns-server', dnsServer, ...(json ? ['--json'] : [])], { timeoutMs: 120_000 })
  }

  it('/dns4: the DNS phase is timed and the resolved address probed', async () => {
    const r = await doctor(`/dns4/peer.doctor.test/tcp/${port}/p2p/${peerId}`)
    assert.equal(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout) as DoctorReport
    assert.ok(typeof report.dnsMs === 'number' && report.dnsMs > 0, `dnsMs: ${report.dnsMs}`)
    assert.equal(report.peerId, peerId)
    assert.deepEqual(report.addresses.map(a => a.address), [`/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}`])
    assert.ok(report.probes.some(p => p.ok && p.combination === 'tcp/noise/yamux'), JSON.stringify(report.probes))
    assert.deepEqual(report.problems, [])
    // the answer came from dnsmasq, which logged the question
    await dns!.server.nextLine(line => /query\[A\] peer\.doctor\.test from 127\.0\.0\.1/.test(line), 5_000)
  })

  it('/dnsaddr: the TXT record leads to the node', async () => {
    const r = await doctor(`/dnsaddr/peers.doctor.test/p2p/${peerId}`)
    assert.equal(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout) as DoctorReport
    assert.ok(typeof report.dnsMs === 'number' && report.dnsMs > 0)
    assert.deepEqual(report.addresses.map(a => a.address), [`/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}`])
    assert.ok(report.probes.some(p => p.ok))
    await dns!.server.nextLine(line => /query\[TXT\] _dnsaddr\.peers\.doctor\.test/.test(line), 5_000)
  })

  it('a name that does not resolve: a dns-failed problem with the DNS time, nothing probed, exit 1', async () => {
    const r = await doctor(`/dns4/missing.doctor.test/tcp/${port}/p2p/${peerId}`)
    assert.equal(r.code, 1, r.stderr)
    const report = JSON.parse(r.stdout) as DoctorReport
    assert.ok(typeof report.dnsMs === 'number' && report.dnsMs > 0)
    assert.deepEqual(report.probes, [])
    assert.equal(report.ok, false)
    assert.deepEqual(report.problems.map(p => p.kind), ['dns-failed'])
    assert.match(report.problems[0].message, /^\/dns4\/missing\.doctor\.test\/tcp\/\d+\/p2p\/\S+ does not resolve: /)

    const table = await doctor(`/dns4/missing.doctor.test/tcp/${port}/p2p/${peerId}`, false)
    assert.equal(table.code, 1)
    assert.match(table.stdout, /^DNS resolution: [\d.]+ ms$/m)
    assert.match(table.stdout, /problems:\n {2}- \/dns4\/missing\.doctor\.test\/.* does not resolve/)
  })
})
