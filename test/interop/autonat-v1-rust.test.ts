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
import { multiaddr } from '@multiformats/multiaddr'
import { withoutPeerId } from '../../src/util/multiaddr.ts'
import { dialIdentified, firstV1Answer, loopbackAutoNATNode, NEVER } from '../support/autonat.ts'
import { unusedTcpPort } from '../support/ports.ts'
import { cargoAvailable, spawnPeer, stopAll } from './harness.ts'

after(async () => { await stopAll() })

const skip = await cargoAvailable() ? false : 'no cargo toolchain (the rust peer is built with cargo)'
const BUILD_MS = 1_800_000

test('AutoNAT v1: rust asks, ts serves and dials rust back', { skip, timeout: BUILD_MS }, async (t) => {
  const { onServed, answered } = firstV1Answer()
  const node = await loopbackAutoNATNode({ client: false, v1Server: { onServed } })
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
  const node = await loopbackAutoNATNode({ server: false, v2: false, bootDelay: NEVER })
  t.after(async () => { await node.stop() })
  const rust = await spawnPeer('rust', ['--autonat'], { readyTimeoutMs: BUILD_MS })
  const { connection, protocols } = await dialIdentified(node, rust.addrs[0], rust.peerId)
  assert.ok(protocols.includes('/libp2p/autonat/1.0.0'))
  const autonat = node.services.autonat
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

  const closed = multiaddr(`/ip4/127.0.0.1/tcp/${await unusedTcpPort()}`)
  const unreachable = await autonat.v1Client.check(connection, [closed])
  assert.equal(unreachable.reachability, 'private')
})
