/**
 * DCUtR end to end in the NAT lab, with the real `ts-libp2p` command on each host: a relay on
 * the "internet", B behind router B reserving a slot on it, A behind router A connecting to B
 * through the relay. Endpoint-independent NATs on both sides: the relayed connection is
 * upgraded to a direct one and pings run over it. Routers that RST unsolicited SYNs: the same.
 * An endpoint-dependent NAT on one side: three attempts fail cleanly and the relayed connection
 * keeps working.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { CLI, createNatLab, natLabSkip, processLines, runLabCli, startLabNode, RELAY_ADDRESS, type LabNode, type NatKind, type NatLab } from '../support/lab/index.ts'

const skip = await natLabSkip()

interface Scene { lab: NatLab, relay: LabNode, b: LabNode, circuitToB: string }

async function scene (natA: NatKind, natB: NatKind): Promise<Scene> {
  const lab = await createNatLab({ natA, natB, delayMs: 25 })
  const nodes: LabNode[] = []
  try {
    const relay = await startLabNode(lab.relay, ['--listen', `/ip4/${RELAY_ADDRESS}/tcp/4001`, '--listen', `/ip4/${RELAY_ADDRESS}/udp/4001/quic-v1`, '--relay-server'])
    nodes.push(relay)
    const relayAddr = `/ip4/${RELAY_ADDRESS}/tcp/4001/p2p/${relay.peerId}`
    const b = await startLabNode(lab.hostB, ['--listen', '/ip4/0.0.0.0/tcp/4001', '--relay', relayAddr])
    nodes.push(b)
    const circuitToB = b.addrs.find(a => a.includes('/p2p-circuit'))
    assert.ok(circuitToB !== undefined, JSON.stringify(b.addrs))
    return { lab, relay, b, circuitToB }
  } catch (err) {
    for (const node of nodes) await node.stop()
    await lab.close()
    throw err
  }
}

async function closeScene (s: Scene | undefined): Promise<void> {
  if (s === undefined) return
  await s.b.stop()
  await s.relay.stop()
  await s.lab.close()
}

// The three labs do not share a namespace or a process, so they are built at once (namespaces,
// routers, delay wires, relay and B nodes): their start-up waits overlap instead of adding up.
// Each suite takes its own; a scene that failed to build fails its suite's `before`.
const scenes = skip === false
  ? { eim: scene('eim', 'eim'), rst: scene('eim-rst', 'eim-rst'), edm: scene('eim', 'edm') }
  : undefined
for (const pending of Object.values(scenes ?? {})) pending.catch(() => {})

describe('DCUtR in the NAT lab', { skip }, () => {
  describe('endpoint-independent NATs on both sides', () => {
    let s: Scene
    before(async () => { s = await scenes!.eim })
    after(async () => { await closeScene(s) })

    it('the relayed connection is upgraded to a direct one across both NATs on the first attempt', async () => {
      const a = await startLabNode(s.lab.hostA, ['--listen', '/ip4/0.0.0.0/tcp/4001', '--bootstrap', s.circuitToB])
      try {
        const relayed = await a.nextEvent('peer:connect', e => e.peer === s.b.peerId)
        assert.equal(relayed.limited, true)
        const punched = await a.nextEvent('holepunch', e => e.peer === s.b.peerId)
        const onB = await s.b.nextEvent('holepunch', e => e.peer === a.peerId)
        assert.equal(punched.success, true, JSON.stringify(punched))
        assert.equal(onB.success, true, JSON.stringify(onB))
        assert.equal(onB.attempt, 1)
        // B dialed A at router A's public address: the connection really crosses both NATs.
        assert.match(String(onB.addr), new RegExp(`^/ip4/${s.lab.routerA.wanAddress.replaceAll('.', '\\.')}/tcp/`))
      } finally {
        await a.stop()
      }
    })

    it('ts-libp2p ping through the relay: the first pings go relayed, then over the direct connection', async () => {
      const lines = (await runLabCli(s.lab.hostA, ['ping', s.circuitToB, '--count', '8', '--interval', '250'])).map(l => JSON.parse(l) as { seq: number, addr: string })
      assert.equal(lines.length, 8)
      assert.ok(lines[0].addr.includes('/p2p-circuit'), lines[0].addr)
      const last = lines.at(-1)!
      assert.match(last.addr, new RegExp(`^/ip4/${s.lab.routerB.wanAddress.replaceAll('.', '\\.')}/tcp/`), JSON.stringify(lines))
      const punched = await s.b.nextEvent('holepunch')
      assert.equal(punched.success, true)
    })

    it('over QUIC: B punches with random datagrams, A dials, the relayed connection becomes a direct QUIC one', async () => {
      // QUIC-only nodes next to the TCP ones (other ports): the relay is reached over QUIC, so
      // each host's observed address is its router's UDP mapping of its listen socket.
      const relayQuic = `/ip4/${RELAY_ADDRESS}/udp/4001/quic-v1/p2p/${s.relay.peerId}`
      const b = await startLabNode(s.lab.hostB, ['--listen', '/ip4/0.0.0.0/udp/4002/quic-v1', '--relay', relayQuic])
      try {
        const circuit = b.addrs.find(a => a.includes('/quic-v1/') && a.includes('/p2p-circuit'))
        assert.ok(circuit !== undefined, JSON.stringify(b.addrs))
        const a = await startLabNode(s.lab.hostA, ['--listen', '/ip4/0.0.0.0/udp/4002/quic-v1', '--bootstrap', circuit])
        try {
          const onB = await b.nextEvent('holepunch', e => e.peer === a.peerId)
          const onA = await a.nextEvent('holepunch', e => e.peer === b.peerId)
          assert.equal(onB.success, true, JSON.stringify(onB))
          assert.equal(onA.success, true, JSON.stringify(onA))
          assert.equal(onB.attempt, 1)
          // B did not dial: A's dial came in through B's punched mapping, from router A's UDP mapping.
          assert.deepEqual([onB.direction, onA.direction], ['inbound', 'outbound'])
          assert.match(String(onB.addr), new RegExp(`^/ip4/${s.lab.routerA.wanAddress.replaceAll('.', '\\.')}/udp/\\d+/quic-v1`))
          assert.match(String(onA.addr), new RegExp(`^/ip4/${s.lab.routerB.wanAddress.replaceAll('.', '\\.')}/udp/\\d+/quic-v1`))
        } finally {
          await a.stop()
        }
      } finally {
        await b.stop()
      }
    })
  })

  describe('routers that RST unsolicited SYNs', () => {
    let s: Scene
    before(async () => { s = await scenes!.rst })
    after(async () => { await closeScene(s) })

    it('SYNC at RTT/2 gets both SYNs out before either router sees the other\'s: upgraded', async () => {
      const a = await startLabNode(s.lab.hostA, ['--listen', '/ip4/0.0.0.0/tcp/4001', '--bootstrap', s.circuitToB])
      try {
        const onB = await s.b.nextEvent('holepunch', e => e.peer === a.peerId)
        assert.equal(onB.success, true, JSON.stringify(onB) + s.b.process.stderr() + a.process.stderr())
      } finally {
        await a.stop()
      }
    })
  })

  describe('an endpoint-dependent NAT on one side', () => {
    let s: Scene
    before(async () => { s = await scenes!.edm })
    after(async () => { await closeScene(s) })

    it('stays relayed: a clean failure after three attempts, and the relayed connection keeps working', async () => {
      const ping = processLines(s.lab.hostA.namespace.spawn(process.execPath, [CLI, 'ping', s.circuitToB, '--count', '60', '--interval', '500']))
      try {
        const first = JSON.parse(await ping.nextLine()) as { addr: string }
        assert.ok(first.addr.includes('/p2p-circuit'), first.addr)
        const onB = await s.b.nextEvent('holepunch', () => true, 60_000)
        assert.deepEqual([onB.success, onB.attempt], [false, 3], JSON.stringify(onB))
        // pings after the failure: still answered, still relayed
        const later = JSON.parse(await ping.nextLine()) as { addr: string, rttMs: number }
        assert.ok(later.addr.includes('/p2p-circuit'), later.addr)
        assert.ok(later.rttMs > 0)
      } finally {
        await ping.stop()
      }
    })
  })
})
