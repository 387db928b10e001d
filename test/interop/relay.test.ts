/**
 * Circuit relay v2 interop with real js-libp2p (@libp2p/circuit-relay-v2), go-libp2p and
 * rust-libp2p (libp2p-relay, when cargo is there) peers (interop/js-peer, interop/go-peer,
 * interop/rust-peer with `--relay-server` / `--relay MA`), each a separate process, over TCP on
 * loopback:
 * - a ts relay serving js and go clients: the remote reserves on it, and connections go
 *   through it both ways (ts -> remote, remote -> ts) and between two remote peers;
 * - a js relay and a go relay serving ts clients: a ts node reserves there and is reached
 *   through it by another ts node and by the remote kind.
 * Every connection carries an echo exchange over the relayed (limited) connection.
 */
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { buildRustPeer, cargoAvailable, spawnPeer, stopAll as stopPeers } from './harness.ts'
import type { PeerKind, PeerProcess } from './harness.ts'
import { circuitRelayServer } from '../../src/relay/server.ts'
import { circuitRelayTransport } from '../../src/relay/transport.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { echo, echoOverStream, ECHO_PROTOCOL } from '../../src/protocols/echo/index.ts'
import { makeNode, stopAll as stopNodes, type TestNode } from '../node/helpers.ts'
import { isRelayed } from '../../src/util/multiaddr.ts'
import { seededBytes } from '../support/random.ts'

after(async () => { await Promise.all([stopPeers(), stopNodes()]) })

const hasRust = await cargoAvailable()
// a cold build compiles rust-libp2p: outside the tests' own time limits
before(async () => { if (hasRust) await buildRustPeer() }, { timeout: 1_800_000 })

async function tsRelay (): Promise<TestNode> {
  return await makeNode({ services: { identify: identify(), ping: ping(), relay: circuitRelayServer() } })
}

async function tsClient (listen: string[] = []): Promise<TestNode> {
  return await makeNode({
    addresses: { listen },
    transports: [tcp(), circuitRelayTransport({ retryInitial: 100 })],
    services: { identify: identify(), ping: ping(), echo: echo({ runOnLimitedConnection: true }) }
  })
}

const loopbackTcp = (addrs: string[]): string => {
  const addr = addrs.find(a => a.startsWith('/ip4/127.0.0.1/tcp/') && !a.includes('/ws') && !a.includes('p2p-circuit'))
  assert.ok(addr !== undefined, `a loopback TCP address among ${addrs.join(' ')}`)
  return addr
}

const circuitOf = (addrs: string[]): string => {
  const addr = addrs.find(a => a.includes('/p2p-circuit/') && a.startsWith('/ip4/127.0.0.1/tcp/'))
  assert.ok(addr !== undefined, `a loopback circuit address among ${addrs.join(' ')}`)
  return addr
}

/** ts dials `circuit` and echoes a payload over the relayed connection. */
async function tsEchoThrough (node: TestNode, circuit: string): Promise<void> {
  const connection = await node.dial(multiaddr(circuit))
  assert.ok(isRelayed(connection.remoteAddr))
  assert.ok(connection.limits !== undefined, 'the relayed connection is limited')
  const payload = seededBytes(4096, 7)
  const stream = await connection.newStream(ECHO_PROTOCOL, { runOnLimitedConnection: true })
  assert.deepEqual(await echoOverStream(stream, payload), payload)
}

/**
 * The remote peer dials `circuit` and echoes over it. One echo stream from js: js-libp2p opens
 * a new connection for each dialProtocol while the only one it has is limited (its
 * findExistingConnection skips limited connections) and resets the extra ones, so concurrent
 * echo streams from js over a relay race its own clean-up.
 */
async function remoteEchoThrough (peer: PeerProcess, circuit: string): Promise<void> {
  const target = circuit.slice(circuit.lastIndexOf('/p2p/') + 5)
  await peer.commandOk({ cmd: 'dial', addr: circuit })
  const reply = await peer.commandOk({ cmd: 'echo', peer: target, bytes: 4096, streams: peer.kind === 'js' ? 1 : 2 })
  assert.equal(reply.bytes, 4096)
}

for (const kind of ['js', 'go', ...hasRust ? ['rust'] : []] as PeerKind[]) {
  test(`a ts relay serves ${kind} clients: ${kind} reserves, ts <-> ${kind} and ${kind} -> ${kind} through it`, async () => {
    const relay = await tsRelay()
    const relayAddr = relay.getMultiaddrs().find(a => !isRelayed(a))!.toString()
    // the remote reserves (its ready line waits for the reservation)
    const b = await spawnPeer(kind, ['--relay', relayAddr])
    const bCircuit = circuitOf(b.addrs)
    assert.equal(bCircuit, `${relayAddr}/p2p-circuit/p2p/${b.peerId}`)
    assert.equal(relay.services.relay !== undefined, true)
    // ts -> remote
    const a = await tsClient()
    await tsEchoThrough(a, bCircuit)
    // remote -> remote, both through the ts relay
    const a2 = await spawnPeer(kind, [])
    await remoteEchoThrough(a2, bCircuit)
    // remote -> ts: a ts node reserves on the ts relay, the remote reaches it
    const tsB = await tsClient([`${relayAddr}/p2p-circuit`])
    const tsCircuit = circuitOf(tsB.getMultiaddrs().map(String))
    await remoteEchoThrough(a2, tsCircuit)
    await Promise.all([a2.stop(), b.stop()])
  })

  test(`a ${kind} relay serves ts clients: ts reserves, ts -> ts and ${kind} -> ts through it`, async () => {
    const relay = await spawnPeer(kind, ['--relay-server'])
    const relayAddr = loopbackTcp(relay.addrs)
    const b = await tsClient([`${relayAddr}/p2p-circuit`])
    const bCircuit = circuitOf(b.getMultiaddrs().map(String))
    assert.ok(bCircuit.includes(`/p2p/${relay.peerId}/p2p-circuit/p2p/${b.peerId.toString()}`))
    const a = await tsClient()
    await tsEchoThrough(a, bCircuit)
    const remote = await spawnPeer(kind, [])
    await remoteEchoThrough(remote, bCircuit)
    await Promise.all([remote.stop(), relay.stop()])
  })
}
