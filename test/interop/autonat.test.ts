/**
 * AutoNAT v2 between ts and go-libp2p (interop/go-peer --autonat-v2, go's p2p/protocol/autonatv2
 * with private addresses allowed), both roles, over loopback TCP. Loopback counts as public on
 * our side through `publicCidrs`. The dial-data (amplification) path runs in both roles by
 * asking about a 127.0.0.2 address over a connection observed from 127.0.0.1.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { withoutPeerId } from '../../src/util/multiaddr.ts'
import { dialIdentified, loopbackAutoNATNode, NEVER } from '../support/autonat.ts'
import { unusedTcpPort } from '../support/ports.ts'
import { goAvailable, spawnPeer, stopAll } from './harness.ts'

after(async () => { await stopAll() })

const hasGo = await goAvailable()

test('AutoNAT v2: go asks, ts serves (dial-back, dial data, unreachable address)', { skip: hasGo ? false : 'no go toolchain', timeout: 180_000 }, async (t) => {
  // go asks each server once per throttle period (minutes), so each of its three checks
  // goes to another of three ts servers
  const servers = await Promise.all([1, 2, 3].map(async () => await loopbackAutoNATNode({ client: false })))
  t.after(async () => { await Promise.all(servers.map(async s => { await s.stop() })) })
  // go listens on every loopback address, so 127.0.0.2:<its port> reaches it too
  const go = await spawnPeer('go', ['--autonat-v2', '--listen', '/ip4/0.0.0.0/tcp/0'], { readyTimeoutMs: 120_000 })
  const goAddr = withoutPeerId(multiaddr(go.addrs.find(a => a.startsWith('/ip4/127.0.0.1/'))!))
  for (const server of servers) {
    await go.commandOk({ cmd: 'dial', addr: server.getMultiaddrs()[0].toString() })
    await go.commandOk({ cmd: 'identify', peer: server.peerId.toString() })
  }

  const reachable = await go.commandOk({ cmd: 'autonat.check', addrs: [goAddr.toString()] })
  assert.equal(reachable.reachability, 'public', JSON.stringify(reachable))
  assert.equal(reachable.addr, goAddr.toString())

  // another IP than the one we see go at: we ask for dial data first, go pays, then we dial
  const otherIp = goAddr.toString().replace('/ip4/127.0.0.1/', '/ip4/127.0.0.2/')
  const paid = await go.commandOk({ cmd: 'autonat.check', addrs: [otherIp], dialData: true })
  assert.equal(paid.reachability, 'public', JSON.stringify(paid))
  assert.equal(paid.addr, otherIp)
  const served = servers.map(s => s.services.autonat.v2Server.stats)
  assert.equal(served.reduce((n, s) => n + s.dialDataRequests, 0), 1, 'one server asked go for dial data')

  const closed = `/ip4/127.0.0.1/tcp/${await unusedTcpPort()}`
  const unreachable = await go.commandOk({ cmd: 'autonat.check', addrs: [closed] })
  assert.equal(unreachable.reachability, 'private', JSON.stringify(unreachable))
})

test('AutoNAT v2: ts asks, go serves (dial-back from go\'s own dialer host, dial data, unreachable address)', { skip: hasGo ? false : 'no go toolchain', timeout: 180_000 }, async (t) => {
  const node = await loopbackAutoNATNode({ server: false, v1: false, bootDelay: NEVER }, ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.2/tcp/0'])
  t.after(async () => { await node.stop() })
  const go = await spawnPeer('go', ['--autonat-v2'], { readyTimeoutMs: 120_000 })
  const { connection, protocols } = await dialIdentified(node, go.addrs[0], go.peerId)
  assert.ok(protocols.includes('/libp2p/autonat/2/dial-request'))
  const autonat = node.services.autonat
  const [onLoopback, onOther] = ['/ip4/127.0.0.1/', '/ip4/127.0.0.2/'].map(prefix => node.getMultiaddrs().map(withoutPeerId).find(a => a.toString().startsWith(prefix))!)

  // The unreachable address first: go's dial-back host connects with every address its peer
  // store holds for us, and identify on an earlier dial-back can put our real listen addresses
  // back after go cleared them, so a later dial-back to a closed port could reach us anyway.
  const closed = multiaddr(`/ip4/127.0.0.1/tcp/${await unusedTcpPort()}`)
  const unreachable = await autonat.v2Client.check(connection, [closed])
  assert.equal(unreachable.reachability, 'private')

  const plain = await autonat.v2Client.check(connection, [onLoopback])
  assert.equal(plain.reachability, 'public')
  assert.equal(plain.addr.toString(), onLoopback.toString())

  // go sees us at 127.0.0.1: for 127.0.0.2 it asks for 30-100 kB first, which we pay
  const paidBefore = autonat.v2Client.stats.dialDataBytesSent
  const paid = await autonat.v2Client.check(connection, [onOther])
  assert.equal(paid.reachability, 'public')
  const paidBytes = autonat.v2Client.stats.dialDataBytesSent - paidBefore
  assert.ok(paidBytes >= 30_000 && paidBytes < 100_000 + 4096, `paid ${paidBytes} bytes`)

  // the whole service: two go answers are needed to decide (threshold 2); one go server gives one per cycle
  await autonat.checkNow()
  await autonat.checkNow()
  assert.equal(autonat.reachability.status, 'public')
})
