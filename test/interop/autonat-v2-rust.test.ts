/**
 * AutoNAT v2 between ts and rust-libp2p 0.57.1 (interop/rust-peer --autonat-v2: rust's v2
 * client and server with their defaults), both roles, over loopback TCP. Loopback counts as
 * public on our side through `publicCidrs`.
 *
 * rust asks, ts serves: rust tests the address candidates identify gave it (what we observed:
 * its listen address, since rust dials from its listen port) with every connected v2 server,
 * every 5 s; we dial it back and it reports the test. With --autonat-v2 the rust peer does not
 * confirm its listen addresses as external by itself (v2 tests only unconfirmed candidates).
 * ts asks, rust serves: rust dials our address back; for another IP than the one it sees us at
 * (127.0.0.2) it asks for dial data first, which we pay; a closed port comes back unreachable.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { withoutPeerId } from '../../src/util/multiaddr.ts'
import { dialIdentified, loopbackAutoNATNode, NEVER } from '../support/autonat.ts'
import { unusedTcpPort } from '../support/ports.ts'
import { cargoAvailable, spawnPeer, stopAll } from './harness.ts'

after(async () => { await stopAll() })

const skip = await cargoAvailable() ? false : 'no cargo toolchain (the rust peer is built with cargo)'
const BUILD_MS = 1_800_000

test('AutoNAT v2: rust asks, ts serves and dials rust back', { skip, timeout: BUILD_MS }, async (t) => {
  const node = await loopbackAutoNATNode({ client: false })
  t.after(async () => { await node.stop() })
  const rust = await spawnPeer('rust', ['--autonat-v2'], { readyTimeoutMs: BUILD_MS })
  const rustAddr = withoutPeerId(multiaddr(rust.addrs[0])).toString()
  await rust.commandOk({ cmd: 'dial', addr: node.getMultiaddrs()[0].toString() })

  const tested = await rust.waitEvent(e => e.event === 'autonat-v2' && e.role === 'client', 30_000)
  assert.equal(tested.ok, true, JSON.stringify(tested))
  assert.equal(tested.server, node.peerId.toString())
  assert.equal(tested.addr, rustAddr)
  assert.equal(tested.bytesSent, 0, 'same IP as observed: no dial data')
  const served = node.services.autonat.v2Server.stats
  assert.ok(served.dialBacks >= 1, JSON.stringify(served))
})

test('AutoNAT v2: ts asks, rust serves (dial-back, dial data, unreachable address)', { skip, timeout: BUILD_MS }, async (t) => {
  const node = await loopbackAutoNATNode({ server: false, v1: false, bootDelay: NEVER }, ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.2/tcp/0'])
  t.after(async () => { await node.stop() })
  const rust = await spawnPeer('rust', ['--autonat-v2'], { readyTimeoutMs: BUILD_MS })
  const { connection, protocols } = await dialIdentified(node, rust.addrs[0], rust.peerId)
  assert.ok(protocols.includes('/libp2p/autonat/2/dial-request'))
  const autonat = node.services.autonat
  const [onLoopback, onOther] = ['/ip4/127.0.0.1/', '/ip4/127.0.0.2/'].map(prefix => node.getMultiaddrs().map(withoutPeerId).find(a => a.toString().startsWith(prefix))!)

  const plain = await autonat.v2Client.check(connection, [onLoopback])
  assert.equal(plain.reachability, 'public')
  assert.equal(plain.addr.toString(), onLoopback.toString())
  const onRust = await rust.waitEvent(e => e.event === 'autonat-v2' && e.role === 'server', 10_000)
  assert.equal(onRust.ok, true, JSON.stringify(onRust))
  assert.equal(onRust.client, node.peerId.toString())
  assert.equal(onRust.addr, onLoopback.toString())

  // rust sees us at 127.0.0.1: for 127.0.0.2 it asks for 30-100 kB first, which we pay
  const paidBefore = autonat.v2Client.stats.dialDataBytesSent
  const paid = await autonat.v2Client.check(connection, [onOther])
  assert.equal(paid.reachability, 'public')
  const paidBytes = autonat.v2Client.stats.dialDataBytesSent - paidBefore
  assert.ok(paidBytes >= 30_000 && paidBytes < 100_000 + 4096, `paid ${paidBytes} bytes`)

  const closed = multiaddr(`/ip4/127.0.0.1/tcp/${await unusedTcpPort()}`)
  const unreachable = await autonat.v2Client.check(connection, [closed])
  assert.equal(unreachable.reachability, 'private')
})
