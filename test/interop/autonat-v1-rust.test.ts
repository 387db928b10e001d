/**
 * AutoNAT v1 between ts and rust-libp2p 0.57.1 (interop/rust-peer --autonat: rust's one v1
 * behaviour is client and server, with private addresses allowed), both roles, over loopback
 * TCP. AutoNAT v2 with rust: autonat-v2-rust.test.ts.
 *
 * rust asks, ts serves: rust probes its connected peers on its own schedule
 * (--autonat-interval-ms shortens the crate's 15 s / 90 s), sending its listen address; our
 * server dials the IP it sees rust at (127.0.0.1, public by publicCidrs) and answers OK.
 * ts asks, rust serves: rust dials our listen address back and answers OK; an address nothing
 * listens on comes back as E_DIAL_ERROR, which we read as private.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { autoNAT, AutoNATService } from '../../src/protocols/autonat/index.ts'
import type { IdentifyResult } from '../../src/interface/events.ts'
import { peerIdFromString } from '../../src/peer/peer-id.ts'
import { withoutPeerId } from '../../src/util/multiaddr.ts'
import { cargoAvailable, spawnPeer, stopAll } from './harness.ts'

after(async () => { await stopAll() })

const skip = await cargoAvailable() ? false : 'no cargo toolchain (the rust peer is built with cargo)'
const BUILD_MS = 1_800_000

/** A TCP port nothing listens on (bound, then closed). */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  return port
}

test('AutoNAT v1: rust asks, ts serves and dials rust back', { skip, timeout: BUILD_MS }, async (t) => {
  let served: (answer: { peer: string, status: number, addr?: string }) => void = () => {}
  const answered = new Promise<{ peer: string, status: number, addr?: string }>(resolve => { served = resolve })
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'], publicCidrs: ['127.0.0.0/8'] },
    transports: [tcp()],
    services: { identify: identify(), autonat: autoNAT({ client: false, v1Server: { onServed: (peer, status, addr) => { served({ peer, status, addr: addr?.toString() }) } } }) }
  })
  t.after(async () => { await node.stop() })
  const rust = await spawnPeer('rust', ['--autonat', '--autonat-interval-ms', '500'], { readyTimeoutMs: BUILD_MS })
  const rustAddr = withoutPeerId(multiaddr(rust.addrs[0])).toString()
  await rust.commandOk({ cmd: 'dial', addr: node.getMultiaddrs()[0].toString() })

  const answer = await answered
  assert.equal(answer.peer, rust.peerId)
  assert.equal(answer.status, 0, 'OK')
  assert.equal(answer.addr, rustAddr)
  // rust read our answer: the probe succeeded with the address we dialed, and it now thinks itself public
  const probe = await rust.waitEvent(e => e.event === 'autonat' && e.role === 'client' && e.ok === true, 30_000)
  assert.equal(probe.peer, node.peerId.toString())
  assert.equal(probe.addr, rustAddr)
  const status = await rust.waitEvent(e => e.event === 'autonat:status', 30_000)
  assert.equal(status.status, 'public', JSON.stringify(status))
  assert.equal(status.addr, rustAddr)
})

test('AutoNAT v1: ts asks, rust serves (dial-back, then an unreachable address)', { skip, timeout: BUILD_MS }, async (t) => {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'], publicCidrs: ['127.0.0.0/8'] },
    transports: [tcp()],
    services: { identify: identify(), autonat: autoNAT({ server: false, v2: false, bootDelay: 24 * 3600_000 }) }
  })
  t.after(async () => { await node.stop() })
  const rust = await spawnPeer('rust', ['--autonat'], { readyTimeoutMs: BUILD_MS })
  const rustId = peerIdFromString(rust.peerId)
  const identified = new Promise<IdentifyResult>(resolve => {
    node.addEventListener('peer:identify', (evt) => { if (evt.detail.peerId.equals(rustId)) resolve(evt.detail) })
  })
  const connection = await node.dial(multiaddr(rust.addrs[0]))
  assert.ok((await identified).protocols.includes('/libp2p/autonat/1.0.0'))
  const autonat = node.services.autonat as AutoNATService
  const ours = withoutPeerId(node.getMultiaddrs()[0])

  const reached = await autonat.v1Client.check(connection, [ours])
  assert.equal(reached.reachability, 'public')
  // rust answers with the address it dialed, our peer id appended
  const dialed = `${ours.toString()}/p2p/${node.peerId.toString()}`
  assert.equal(reached.addr?.toString(), dialed)
  const onRust = await rust.waitEvent(e => e.event === 'autonat' && e.role === 'server', 10_000)
  assert.equal(onRust.ok, true, JSON.stringify(onRust))
  assert.equal(onRust.peer, node.peerId.toString())
  assert.equal(onRust.addr, dialed)

  const closed = multiaddr(`/ip4/127.0.0.1/tcp/${await closedPort()}`)
  const unreachable = await autonat.v1Client.check(connection, [closed])
  assert.equal(unreachable.reachability, 'private')
})
