/**
 * TCP hole punching in Node, measured in the NAT lab (why: src/transport/tcp/dial-port.ts).
 * The designs: dialing out from the listen port (what go does) and the same with
 * `listen({ reusePort })` both fail in Node before a packet leaves; the transport's shared dial
 * port punches through two endpoint-independent NATs, also with routers that RST unsolicited
 * SYNs, and fails (cleanly, by timeout) through an endpoint-dependent one.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { createNatLab, natLabSkip, processLines, type LabHost, type NatLab } from '../../support/lab/index.ts'

const PROBE = fileURLToPath(new URL('../../support/lab/punch-probe.ts', import.meta.url))
const skip = await natLabSkip()

interface PunchResult { ok: boolean, ms: number, error?: string, got?: string, local?: string }

async function probe (host: LabHost, args: string[]): Promise<PunchResult> {
  return JSON.parse(await host.namespace.exec(process.execPath, [PROBE, ...args]))
}

/**
 * Both hosts dial each other's public address from their dial port at the same moment (both
 * probes start, say ready, then get "go" together: what DCUtR's SYNC does for real peers).
 */
async function punch (lab: NatLab, portA: number, portB: number): Promise<[PunchResult, PunchResult]> {
  const sides = [
    processLines(lab.hostA.namespace.spawn(process.execPath, [PROBE, 'transport', String(portA), lab.routerB.wanAddress, String(portB)], { stdio: ['pipe', 'pipe', 'pipe'] })),
    processLines(lab.hostB.namespace.spawn(process.execPath, [PROBE, 'transport', String(portB), lab.routerA.wanAddress, String(portA)], { stdio: ['pipe', 'pipe', 'pipe'] }))
  ]
  try {
    for (const side of sides) await side.nextLine(line => line.includes('ready'))
    for (const side of sides) side.child.stdin!.write('go\n')
    const results = await Promise.all(sides.map(async side => JSON.parse(await side.nextLine(line => line.includes('"ok"'))) as PunchResult))
    return [results[0], results[1]]
  } finally {
    for (const side of sides) await side.stop()
  }
}

describe('TCP hole punching in the NAT lab', { skip }, () => {
  let lab: NatLab
  before(async () => { lab = await createNatLab({ natA: 'eim', natB: 'eim', delayMs: 25 }) })
  after(async () => { await lab?.close() })

  it('Node cannot dial out from a port it listens on, with or without reusePort', async () => {
    for (const mode of ['listen-port', 'reuse-port']) {
      const result = await probe(lab.hostA, [mode, lab.relay.address, '9', '41000'])
      assert.deepEqual([result.ok, result.error], [false, 'EADDRINUSE'], mode)
    }
  })

  it('the shared dial port punches through two endpoint-independent NATs; data flows both ways', async () => {
    const [a, b] = await punch(lab, 41001, 41002)
    assert.equal(a.ok, true, a.error)
    assert.equal(b.ok, true, b.error)
    // Each side's socket is its own outgoing one (simultaneous open) and sees the other's bytes.
    assert.equal(a.got, `hello from ${b.local}`)
    assert.equal(b.got, `hello from ${a.local}`)
  })

  it('routers that RST unsolicited SYNs: the punch still connects', async () => {
    await lab.routerA.setNat('eim-rst')
    await lab.routerB.setNat('eim-rst')
    try {
      const [a, b] = await punch(lab, 41003, 41004)
      assert.equal(a.ok && b.ok, true, `${a.error} / ${b.error}`)
    } finally {
      await lab.routerA.setNat('eim')
      await lab.routerB.setNat('eim')
    }
  })

  it('an endpoint-dependent NAT on one side: the punch fails on both sides', async () => {
    await lab.routerB.setNat('edm')
    try {
      const [a, b] = await punch(lab, 41005, 41006)
      assert.equal(a.ok, false)
      assert.equal(b.ok, false)
    } finally {
      await lab.routerB.setNat('eim')
    }
  })
})
