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
const NEVER = 24 * 3600_000

/** A TCP port nothing listens on (bound, then closed). */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  return port
}

test('AutoNAT v2: rust asks, ts serves and dials rust back', { skip, timeout: BUILD_MS }, async (t) => {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'], publicCidrs: ['127.0.0.0/8'] },
    transports: [tcp()],
    services: { identify: identify(), autonat: autoNAT({ client: false }) }
  })
  t.after(async () => { await node.stop() })
  const rust = await spawnPeer('rust', ['--autonat-v2'], { readyTimeoutMs: BUILD_MS })
  const rustAddr = withoutPeerId(multiaddr(rust.addrs[0])).toString()
  await rust.commandOk({ cmd: 'dial', addr: node.getMultiaddrs()[0].toString() })

  const tested = await rust.waitEvent(e => e.event === 'autonat-v2' && e.role === 'client', 30_000)
  assert.equal(tested.ok, true, JSON.stringify(tested))
  assert.equal(tested.server, node.peerId.toString())
  assert.equal(tested.addr, rustAddr)
  assert.equal(tested.bytesSent, 0, 'same IP as observed: no dial data')
  const served = (node.services.autonat as AutoNATService).v2Server.stats
  assert.ok(served.dialBacks >= 1, JSON.stringify(served))
})

test('AutoNAT v2: ts asks, rust serves (dial-back, dial data, unreachable address)', { skip, timeout: BUILD_MS }, async (t) => {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.2/tcp/0'], publicCidrs: ['127.0.0.0/8'] },
    transports: [tcp()],
    services: { identify: identify(), autonat: autoNAT({ server: false, v1: false, bootDelay: NEVER }) }
  })
  t.after(async () => { await node.stop() })
  const rust = await spawnPeer('rust', ['--autonat-v2'], { readyTimeoutMs: BUILD_MS })
  const rustId = peerIdFromString(rust.peerId)
  const identified = new Promise<IdentifyResult>(resolve => {
    node.addEventListener('peer:identify', (evt) => { if (evt.detail.peerId.equals(rustId)) resolve(evt.detail) })
  })
  const connection = await node.dial(multiaddr(rust.addrs[0]))
  assert.ok((await identified).protocols.includes('/libp2p/autonat/2/dial-request'))
  const autonat = node.services.autonat as AutoNATService
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

  const closed = multiaddr(`/ip4/127.0.0.1/tcp/${await closedPort()}`)
  const unreachable = await autonat.v2Client.check(connection, [closed])
  assert.equal(unreachable.reachability, 'private')
})
