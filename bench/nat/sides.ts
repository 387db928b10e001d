/**
 * The implementations bench:nat compares, each as: set up a relay and a listener B in a lab,
 * then run attempts, each a fresh peer A behind router A connecting to B through the relay.
 * - ts: the `ts-libp2p` command (relay: `start --relay-server`; B: `start --relay`; A:
 *   `start --bootstrap <circuit address of B>`); B's `holepunch` event is the record.
 * - go: go-libp2p (interop/go-peer with --relay and --holepunch, a ts relay); B's holepunch
 *   event lines (one per attempt) are the record. go's time is its own trace's: the punch
 *   dial of the successful attempt, without the CONNECT/SYNC exchange before it.
 * Each runs over TCP and over QUIC (the relay listens on both; B reserves over the one under
 * test), except js, whose bench peer has TCP only.
 * - js: js-libp2p 3.x (bench/nat/js-peer.ts: TCP, circuit relay transport, DCUtR) behind the
 *   same routers, with a ts relay; js-libp2p emits no hole-punch event, so B reports the first
 *   direct connection to A, and an attempt without one within JS_ATTEMPT_TIMEOUT_MS fails.
 */
import { fileURLToPath } from 'node:url'
import { buildGoPeer } from '../../test/interop/harness.ts'
import { processLines, RELAY_ADDRESS, startLabNode, type LabNode, type NatLab, type ProcessLines } from '../../test/support/lab/index.ts'

export interface PunchRecord {
  success: boolean
  /** The DCUtR attempt that connected (ts), 0 when unknown or failed before any. */
  attempt: number
  /** Relayed connection to direct connection, ms (failures: time until the failure). */
  ms: number
  error?: string
}

export interface BenchScene {
  attempt(): Promise<PunchRecord>
  tearDown(): Promise<void>
}

export type SideName = 'ts' | 'go' | 'js'
export type PunchTransport = 'tcp' | 'quic'

const JS_PEER = fileURLToPath(new URL('./js-peer.ts', import.meta.url))
const TS_ATTEMPT_TIMEOUT_MS = 60_000
const JS_ATTEMPT_TIMEOUT_MS = 20_000
const LISTEN = '/ip4/0.0.0.0/tcp/4001'
/** Where each transport listens (hosts: any address; the relay: its own) and its address suffix. */
const PORT_OF: Record<PunchTransport, string> = { tcp: 'tcp/4001', quic: 'udp/4001/quic-v1' }
const listenOn = (transport: PunchTransport): string => `/ip4/0.0.0.0/${PORT_OF[transport]}`

/** The relay listens on TCP and QUIC; B reserves over the transport under test, so the punch uses it. */
async function tsRelay (lab: NatLab, transport: PunchTransport): Promise<{ relay: LabNode, relayAddr: string }> {
  const relay = await startLabNode(lab.relay, ['--listen', `/ip4/${RELAY_ADDRESS}/${PORT_OF.tcp}`, '--listen', `/ip4/${RELAY_ADDRESS}/${PORT_OF.quic}`, '--relay-server', '--no-limits'])
  return { relay, relayAddr: `/ip4/${RELAY_ADDRESS}/${PORT_OF[transport]}/p2p/${relay.peerId}` }
}

async function tsScene (lab: NatLab, transport: PunchTransport): Promise<BenchScene> {
  const { relay, relayAddr } = await tsRelay(lab, transport)
  const b = await startLabNode(lab.hostB, ['--listen', listenOn(transport), '--relay', relayAddr]).catch(async err => { await relay.stop(); throw err })
  // the circuit through the relay's address of the transport under test (A reaches the relay over it)
  const circuitToB = b.addrs.find(a => a.includes(`/${PORT_OF[transport]}/`) && a.includes('/p2p-circuit'))!
  return {
    async attempt () {
      const started = performance.now()
      const a = await startLabNode(lab.hostA, ['--listen', listenOn(transport), '--bootstrap', circuitToB])
      try {
        const outcome = await b.nextEvent('holepunch', e => e.peer === a.peerId, TS_ATTEMPT_TIMEOUT_MS)
        const record: PunchRecord = { success: outcome.success === true, attempt: Number(outcome.attempt), ms: Number(outcome.ms) }
        // with LAB_DEBUG set, a failure keeps the end of both peers' logs
        if (!record.success && process.env.LAB_DEBUG !== undefined) record.error = `B: ${b.process.stderr().slice(-3000)}\nA: ${a.process.stderr().slice(-3000)}`
        return record
      } catch (err) {
        return { success: false, attempt: 0, ms: performance.now() - started, error: (err as Error).message.slice(0, 200) }
      } finally {
        await a.stop()
      }
    },
    async tearDown () {
      await b.stop()
      await relay.stop()
    }
  }
}

async function startJsPeer (lab: NatLab, side: 'a' | 'b', args: string[]): Promise<{ peer: ProcessLines, start: { peerId: string, addrs: string[] } }> {
  const host = side === 'a' ? lab.hostA : lab.hostB
  const router = side === 'a' ? lab.routerA : lab.routerB
  const peer = processLines(host.namespace.spawn(process.execPath, [JS_PEER, '--listen', LISTEN, '--announce', `/ip4/${router.wanAddress}/tcp/4001`, ...args]))
  try {
    const start = JSON.parse(await peer.nextLine(line => line.startsWith('{"peerId"'), 60_000))
    return { peer, start }
  } catch (err) {
    await peer.stop()
    throw err
  }
}

async function jsScene (lab: NatLab, transport: PunchTransport): Promise<BenchScene> {
  if (transport !== 'tcp') throw new Error('the js side runs over TCP only (js-peer.ts has no QUIC transport)')
  const { relay, relayAddr } = await tsRelay(lab, transport)
  const b = await startJsPeer(lab, 'b', ['--relay', relayAddr]).catch(async err => { await relay.stop(); throw err })
  const circuitToB = b.start.addrs.find(a => a.includes('/p2p-circuit'))!
  return {
    async attempt () {
      const started = performance.now()
      const a = await startJsPeer(lab, 'a', ['--dial', circuitToB])
      let relayed = false
      try {
        // First the relayed connection (so a failure is the punch's, not the relay's), then the direct one.
        await b.peer.nextLine(l => l.includes('"relayed"') && l.includes(a.start.peerId), JS_ATTEMPT_TIMEOUT_MS)
        relayed = true
        const line = await b.peer.nextLine(l => l.includes('"direct"') && l.includes(a.start.peerId), JS_ATTEMPT_TIMEOUT_MS)
        const direct = JSON.parse(line) as { ms: number }
        return { success: true, attempt: 0, ms: direct.ms }
      } catch (err) {
        return { success: false, attempt: 0, ms: performance.now() - started, error: `${relayed ? 'relayed, no direct connection' : 'no relayed connection'}: ${(err as Error).message.slice(0, 160)}` }
      } finally {
        await a.peer.stop()
      }
    },
    async tearDown () {
      await b.peer.stop()
      await relay.stop()
    }
  }
}

async function startGoPeer (lab: NatLab, side: 'a' | 'b', transport: PunchTransport, args: string[]): Promise<{ peer: ProcessLines, ready: { peerId: string, addrs: string[] } }> {
  const binary = await buildGoPeer()
  const host = side === 'a' ? lab.hostA : lab.hostB
  const peer = processLines(host.namespace.spawn(binary, ['--listen', listenOn(transport), '--holepunch', ...args], { stdio: ['pipe', 'pipe', 'pipe'] }))
  try {
    return { peer, ready: JSON.parse(await peer.nextLine(line => line.includes('"ready"'), 60_000)) }
  } catch (err) {
    await peer.stop()
    throw err
  }
}

async function goScene (lab: NatLab, transport: PunchTransport): Promise<BenchScene> {
  const { relay, relayAddr } = await tsRelay(lab, transport)
  const b = await startGoPeer(lab, 'b', transport, ['--relay', relayAddr]).catch(async err => { await relay.stop(); throw err })
  const circuitToB = b.ready.addrs.find(a => a.includes(`/${PORT_OF[transport]}/`) && a.includes('/p2p-circuit'))!
  return {
    async attempt () {
      const started = performance.now()
      const a = await startGoPeer(lab, 'a', transport, [])
      try {
        a.peer.child.stdin!.write(JSON.stringify({ id: 1, cmd: 'dial', addr: circuitToB }) + '\n')
        // go traces every attempt: read until a success or the last attempt's failure.
        for (;;) {
          const outcome = JSON.parse(await b.peer.nextLine(l => l.includes('"holepunch"') && l.includes(a.ready.peerId), TS_ATTEMPT_TIMEOUT_MS)) as { success: boolean, attempt: number, ms: number }
          if (outcome.success || outcome.attempt >= 3) return { success: outcome.success, attempt: outcome.attempt, ms: outcome.ms }
        }
      } catch (err) {
        return { success: false, attempt: 0, ms: performance.now() - started, error: (err as Error).message.slice(0, 200) }
      } finally {
        await a.peer.stop()
      }
    },
    async tearDown () {
      await b.peer.stop()
      await relay.stop()
    }
  }
}

export const SIDES: Record<SideName, { transports: readonly PunchTransport[], setUp(lab: NatLab, transport: PunchTransport): Promise<BenchScene> }> = {
  ts: { transports: ['tcp', 'quic'], setUp: tsScene },
  go: { transports: ['tcp', 'quic'], setUp: goScene },
  js: { transports: ['tcp'], setUp: jsScene }
}
