/**
 * The lab itself, proven with plain TCP sockets: addresses are translated the way each NAT kind
 * says, the delay wire delays, unsolicited SYNs are dropped or refused per kind, a full-cone
 * router forwards, and teardown leaves no namespace behind.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { execFileSync } from 'node:child_process'
import { createNatLab, natLabSkip, processLines, RELAY_ADDRESS, type LabHost, type NatLab } from './index.ts'

const PROBE = fileURLToPath(new URL('./tcp-probe.ts', import.meta.url))
const skip = await natLabSkip()

async function serve (host: LabHost, port: number): Promise<ReturnType<typeof processLines>> {
  const server = processLines(host.namespace.spawn(process.execPath, [PROBE, 'serve', String(port)]))
  await server.nextLine(line => line.includes('listening'))
  return server
}

async function connect (from: LabHost, to: string, port: number, localPort = 0, timeoutMs = 5000): Promise<{ ok: boolean, ms?: number, error?: string }> {
  const out = await from.namespace.exec(process.execPath, [PROBE, 'connect', to, String(port), String(localPort), String(timeoutMs)])
  return JSON.parse(out)
}

describe('NAT lab', { skip }, () => {
  let lab: NatLab
  before(async () => { lab = await createNatLab({ natA: 'eim', natB: 'edm', delayMs: 25 }) })
  after(async () => { await lab?.close() })

  it('an endpoint-independent router keeps the private port; the path has the wire\'s delay', async () => {
    const server = await serve(lab.relay, 4001)
    try {
      const result = await connect(lab.hostA, RELAY_ADDRESS, 4001, 40001)
      assert.equal(result.ok, true, JSON.stringify(result))
      // SYN and SYN-ACK each cross router A's wire once: at least 2 x 25 ms.
      assert.ok(result.ms! >= 50, `connect took ${result.ms} ms`)
      assert.equal(JSON.parse(await server.nextLine(l => l.includes('remote'))).remote, `${lab.routerA.wanAddress}:40001`)
    } finally { await server.stop() }
  })

  it('an endpoint-dependent router picks another public port', async () => {
    const server = await serve(lab.relay, 4002)
    try {
      const result = await connect(lab.hostB, RELAY_ADDRESS, 4002, 40002)
      assert.equal(result.ok, true, JSON.stringify(result))
      const remote = JSON.parse(await server.nextLine(l => l.includes('remote'))).remote as string
      assert.ok(remote.startsWith(`${lab.routerB.wanAddress}:`), remote)
      assert.notEqual(remote, `${lab.routerB.wanAddress}:40002`)
    } finally { await server.stop() }
  })

  it('both hosts have the same private address and reach the internet independently', async () => {
    const server = await serve(lab.relay, 4003)
    try {
      assert.equal((await connect(lab.hostA, RELAY_ADDRESS, 4003)).ok, true)
      assert.equal((await connect(lab.hostB, RELAY_ADDRESS, 4003)).ok, true)
      const remotes = [await server.nextLine(l => l.includes('remote')), await server.nextLine(l => l.includes('remote'))].map(l => JSON.parse(l).remote.split(':')[0])
      assert.deepEqual(remotes.sort(), [lab.routerA.wanAddress, lab.routerB.wanAddress])
      assert.equal(lab.hostA.address, lab.hostB.address)
    } finally { await server.stop() }
  })

  it('unsolicited SYNs: a home router stays silent, an RST router refuses, a full-cone router forwards', async () => {
    const server = await serve(lab.hostA, 30001)
    try {
      await lab.routerA.setNat('eim')
      assert.deepEqual(await connect(lab.relay, lab.routerA.wanAddress, 30001, 0, 600), { ok: false, error: 'TIMEOUT' })
      await lab.routerA.setNat('eim-rst')
      assert.deepEqual(await connect(lab.relay, lab.routerA.wanAddress, 30001, 0, 3000), { ok: false, error: 'ECONNREFUSED' })
      await lab.routerA.setNat('fullcone')
      const forwarded = await connect(lab.relay, lab.routerA.wanAddress, 30001)
      assert.equal(forwarded.ok, true, JSON.stringify(forwarded))
      assert.equal(JSON.parse(await server.nextLine(l => l.includes('remote'))).remote.split(':')[0], RELAY_ADDRESS)
    } finally {
      await server.stop()
      await lab.routerA.setNat('eim')
    }
  })

  it('close() removes every namespace of the lab', async () => {
    const extra = await createNatLab({ delayMs: 0 })
    const names = extra.namespaces.map(ns => ns.name)
    await extra.close()
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    for (const name of names) assert.ok(!left.includes(name), `${name} still exists`)
  })
})
