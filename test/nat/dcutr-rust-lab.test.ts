/**
 * DCUtR between ts-libp2p and rust-libp2p 0.57.1 across the NAT lab's endpoint-independent
 * NATs, both ways round: rust as B (the listener behind a relay reservation, DCUtR initiator)
 * with a ts A, and ts as B with a rust A. The relay is ts. The rust peer is interop/rust-peer
 * (DCUtR always on, --relay to reserve); it reports each punch as a holepunch event
 * `{peer, success}`. rust learns the address to punch from identify's observed address (the
 * router's mapping), as ours does.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { buildRustPeer, cargoAvailable } from '../interop/harness.ts'
import { createNatLab, natLabSkip, processLines, startLabNode, RELAY_ADDRESS, type LabNode, type NatLab, type ProcessLines } from '../support/lab/index.ts'

const skip = await natLabSkip() || (await cargoAvailable() ? false : 'no cargo toolchain (the rust peer is built with cargo)')

interface RustPeer { process: ProcessLines, peerId: string, addrs: string[] }

const TCP_LISTEN = '/ip4/0.0.0.0/tcp/4001'
const QUIC_LISTEN = '/ip4/0.0.0.0/udp/4001/quic-v1'

async function startRustPeer (lab: NatLab, side: 'a' | 'b', args: string[], listen = TCP_LISTEN): Promise<RustPeer> {
  const binary = await buildRustPeer()
  const host = side === 'a' ? lab.hostA : lab.hostB
  const child = processLines(host.namespace.spawn(binary, ['--listen', listen, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }))
  try {
    const ready = JSON.parse(await child.nextLine(line => line.includes('"ready"'), 60_000)) as { peerId: string, addrs: string[] }
    return { process: child, peerId: ready.peerId, addrs: ready.addrs }
  } catch (err) {
    await child.stop()
    throw err
  }
}

/** Per transport: where hosts listen, how the relay is reached, what a direct address looks like after the router's IP. */
const TRANSPORTS = {
  tcp: { listen: TCP_LISTEN, relayPort: 'tcp/4001', direct: '/tcp/' },
  quic: { listen: QUIC_LISTEN, relayPort: 'udp/4001/quic-v1', direct: '/udp/\\d+/quic-v1' }
} as const

describe('DCUtR between ts and rust in the NAT lab', { skip }, () => {
  let lab: NatLab
  let relay: LabNode
  // a changed rust peer rebuilds here, before the lab exists: the one generous timeout
  before(async () => { await buildRustPeer() }, { timeout: 1_800_000 })
  before(async () => {
    lab = await createNatLab({ natA: 'eim', natB: 'eim', delayMs: 25 })
    relay = await startLabNode(lab.relay, ['--listen', `/ip4/${RELAY_ADDRESS}/tcp/4001`, '--listen', `/ip4/${RELAY_ADDRESS}/udp/4001/quic-v1`, '--relay-server'])
  })
  after(async () => {
    await relay?.stop()
    await lab?.close()
  })

  // Over QUIC (the relay reached over QUIC) rust's B sends random datagrams and waits for A's
  // dial, as ours does; the direct connection is a QUIC one across both NATs.
  for (const [name, t] of Object.entries(TRANSPORTS)) {
    const relayAddr = (): string => `/ip4/${RELAY_ADDRESS}/${t.relayPort}/p2p/${relay.peerId}`
    const circuitOf = (addrs: string[]): string => {
      const circuit = addrs.find(a => a.includes(`/${t.relayPort}/`) && a.includes('/p2p-circuit'))
      assert.ok(circuit !== undefined, JSON.stringify(addrs))
      return circuit
    }
    const directAt = (router: { wanAddress: string }): RegExp => new RegExp(`^/ip4/${router.wanAddress.replaceAll('.', '\\.')}${t.direct}`)

    it(`over ${name}, rust B punches to a ts A: both report the direct connection`, async () => {
      const b = await startRustPeer(lab, 'b', ['--relay', relayAddr()], t.listen)
      try {
        // rust reports its circuit address on the relay's first address of the reservation
        // (TCP here) whichever transport reserved it; A reaches the relay over this transport
        assert.ok(b.addrs.some(a => a.includes('/p2p-circuit')), JSON.stringify(b.addrs))
        const a = await startLabNode(lab.hostA, ['--listen', t.listen, '--bootstrap', `${relayAddr()}/p2p-circuit/p2p/${b.peerId}`])
        try {
          const onRust = JSON.parse(await b.process.nextLine(l => l.includes('"holepunch"') && l.includes(a.peerId), 60_000)) as { success: boolean }
          assert.equal(onRust.success, true, JSON.stringify(onRust))
          const onTs = await a.nextEvent('holepunch', e => e.peer === b.peerId)
          assert.equal(onTs.success, true, JSON.stringify(onTs))
          assert.match(String(onTs.addr), directAt(lab.routerB))
        } finally {
          await a.stop()
        }
      } finally {
        await b.process.stop()
      }
    })

    it(`over ${name}, ts B punches to a rust A: both report the direct connection`, async () => {
      const b = await startLabNode(lab.hostB, ['--listen', t.listen, '--relay', relayAddr()])
      try {
        const circuit = circuitOf(b.addrs)
        const a = await startRustPeer(lab, 'a', [], t.listen)
        try {
          a.process.child.stdin!.write(JSON.stringify({ id: 1, cmd: 'dial', addr: circuit }) + '\n')
          const onTs = await b.nextEvent('holepunch', e => e.peer === a.peerId, 60_000)
          assert.equal(onTs.success, true, JSON.stringify(onTs))
          // over QUIC our B punched and took rust's dial; over TCP both dialed
          if (name === 'quic') assert.equal(onTs.direction, 'inbound', JSON.stringify(onTs))
          assert.match(String(onTs.addr), directAt(lab.routerA))
          const onRust = JSON.parse(await a.process.nextLine(l => l.includes('"holepunch"'), 30_000)) as { success: boolean }
          assert.equal(onRust.success, true, JSON.stringify(onRust))
        } finally {
          await a.process.stop()
        }
      } finally {
        await b.stop()
      }
    })
  }
})
