/**
 * DCUtR between ts-libp2p and another implementation's peer across the NAT lab's
 * endpoint-independent NATs, both ways round, over TCP and over QUIC: the other peer as B (the
 * listener behind a relay reservation, DCUtR initiator) with a ts A, and ts as B with the other
 * peer as A. The relay is ts. The other peer is a program of interop/ that takes `--listen`,
 * `--relay <relay address>` (to reserve), a JSON `{cmd: 'dial', addr}` line on stdin, and prints
 * a `"ready"` JSON line `{peerId, addrs}` and a `"holepunch"` line `{peer, success}` per punch.
 * Used by test/nat/dcutr-go-lab.test.ts and dcutr-rust-lab.test.ts.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createNatLab, processLines, startLabNode, RELAY_ADDRESS, type LabNode, type NatLab, type ProcessLines } from './index.ts'

export interface ForeignLabPeer { process: ProcessLines, peerId: string, addrs: string[] }

export interface DcutrPeerKind {
  /** The implementation's name in test titles ('go', 'rust'). */
  name: string
  /** A reason to skip the suite (no lab, no toolchain), or false. */
  skip: string | false
  /** Builds the peer program (once per process) and returns its path. */
  build(): Promise<string>
  /** Arguments the program always takes besides --listen (e.g. --holepunch). */
  args?: string[]
  /** How long the first build may take: it runs in its own before hook, ahead of the lab. */
  buildTimeoutMs?: number
  /**
   * The circuit address a ts A dials to reach the other peer B through the relay, given B's
   * reported addresses and the relay's address over the transport under test (default: B's
   * circuit address over that transport).
   */
  circuitOfB?(b: ForeignLabPeer, relayAddr: string, circuitOf: (addrs: string[]) => string): string
}

const TCP_LISTEN = '/ip4/0.0.0.0/tcp/4001'
const QUIC_LISTEN = '/ip4/0.0.0.0/udp/4001/quic-v1'

/** Per transport: where hosts listen, how the relay is reached, what a direct address looks like after the router's IP. */
const TRANSPORTS = {
  tcp: { listen: TCP_LISTEN, relayPort: 'tcp/4001', direct: '/tcp/' },
  quic: { listen: QUIC_LISTEN, relayPort: 'udp/4001/quic-v1', direct: '/udp/\\d+/quic-v1' }
} as const

/** Starts the other peer on host A or B of the lab; resolves once it printed its ready line. */
async function startForeignPeer (lab: NatLab, kind: DcutrPeerKind, side: 'a' | 'b', args: string[], listen: string): Promise<ForeignLabPeer> {
  const binary = await kind.build()
  const host = side === 'a' ? lab.hostA : lab.hostB
  const child = processLines(host.namespace.spawn(binary, ['--listen', listen, ...(kind.args ?? []), ...args], { stdio: ['pipe', 'pipe', 'pipe'] }))
  try {
    const ready = JSON.parse(await child.nextLine(line => line.includes('"ready"'), 60_000)) as { peerId: string, addrs: string[] }
    return { process: child, peerId: ready.peerId, addrs: ready.addrs }
  } catch (err) {
    await child.stop()
    throw err
  }
}

/** Defines the suite: four tests (two directions, TCP and QUIC). */
export function describeDcutrWith (kind: DcutrPeerKind): void {
  const other = kind.name
  describe(`DCUtR between ts and ${other} in the NAT lab`, { skip: kind.skip }, () => {
    let lab: NatLab
    let relay: LabNode
    // a changed peer program rebuilds here, before the lab exists: the one generous timeout
    before(async () => { await kind.build() }, { timeout: kind.buildTimeoutMs ?? 600_000 })
    before(async () => {
      lab = await createNatLab({ natA: 'eim', natB: 'eim', delayMs: 25 })
      relay = await startLabNode(lab.relay, ['--listen', `/ip4/${RELAY_ADDRESS}/tcp/4001`, '--listen', `/ip4/${RELAY_ADDRESS}/udp/4001/quic-v1`, '--relay-server'])
    })
    after(async () => {
      await relay?.stop()
      await lab?.close()
    })

    // Over QUIC (the relay reached over QUIC) the other B sends random datagrams and waits for
    // A's dial, as ours does; the direct connection is a QUIC one across both NATs.
    for (const [name, t] of Object.entries(TRANSPORTS)) {
      const relayAddr = (): string => `/ip4/${RELAY_ADDRESS}/${t.relayPort}/p2p/${relay.peerId}`
      const circuitOf = (addrs: string[]): string => {
        const circuit = addrs.find(a => a.includes(`/${t.relayPort}/`) && a.includes('/p2p-circuit'))
        assert.ok(circuit !== undefined, JSON.stringify(addrs))
        return circuit
      }
      const directAt = (router: { wanAddress: string }): RegExp => new RegExp(`^/ip4/${router.wanAddress.replaceAll('.', '\\.')}${t.direct}`)

      it(`over ${name}, ${other} B punches to a ts A: both report the direct connection`, async () => {
        const b = await startForeignPeer(lab, kind, 'b', ['--relay', relayAddr()], t.listen)
        try {
          const circuit = kind.circuitOfB?.(b, relayAddr(), circuitOf) ?? circuitOf(b.addrs)
          const a = await startLabNode(lab.hostA, ['--listen', t.listen, '--bootstrap', circuit])
          try {
            const onOther = JSON.parse(await b.process.nextLine(l => l.includes('"holepunch"') && l.includes(a.peerId), 60_000)) as { success: boolean }
            assert.equal(onOther.success, true, JSON.stringify(onOther))
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

      it(`over ${name}, ts B punches to a ${other} A: both report the direct connection`, async () => {
        const b = await startLabNode(lab.hostB, ['--listen', t.listen, '--relay', relayAddr()])
        try {
          const circuit = circuitOf(b.addrs)
          const a = await startForeignPeer(lab, kind, 'a', [], t.listen)
          try {
            a.process.child.stdin!.write(JSON.stringify({ id: 1, cmd: 'dial', addr: circuit }) + '\n')
            const onTs = await b.nextEvent('holepunch', e => e.peer === a.peerId, 60_000)
            assert.equal(onTs.success, true, JSON.stringify(onTs))
            // over QUIC our B punched and took the other's dial; over TCP both dialed
            if (name === 'quic') assert.equal(onTs.direction, 'inbound', JSON.stringify(onTs))
            assert.match(String(onTs.addr), directAt(lab.routerA))
            const onOther = JSON.parse(await a.process.nextLine(l => l.includes('"holepunch"'), 30_000)) as { success: boolean }
            assert.equal(onOther.success, true, JSON.stringify(onOther))
          } finally {
            await a.process.stop()
          }
        } finally {
          await b.stop()
        }
      })
    }
  })
}
