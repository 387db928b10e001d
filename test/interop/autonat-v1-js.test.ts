/**
 * AutoNAT v1 between ts and js-libp2p (@libp2p/autonat 3.x in interop/js-peer --autonat), both
 * roles, over loopback TCP.
 *
 * js asks, ts serves: js only asks about addresses it thinks public, so the js peer is told it
 * was observed at 11.0.0.1:<its port> (its `observe` command); our server dials only the IP it
 * sees js at (127.0.0.1, public here by publicCidrs), keeping the port, reaches js and answers
 * OK with the address that worked.
 * ts asks, js serves: js never dials private or same-host addresses, so on loopback it can only
 * refuse; the test checks that its refusal (E_DIAL_REFUSED with a status text) reaches us as
 * a typed AutoNATResponseError, i.e. that requests and responses agree on the wire.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { dialIdentified, firstV1Answer, loopbackAutoNATNode, NEVER } from '../support/autonat.ts'
import { unusedTcpPort } from '../support/ports.ts'
import { spawnPeer, stopAll } from './harness.ts'

after(async () => { await stopAll() })

test('AutoNAT v1: js asks, ts serves and dials js back on the IP it sees', { timeout: 120_000 }, async (t) => {
  const { onServed, answered } = firstV1Answer()
  const node = await loopbackAutoNATNode({ client: false, v1Server: { onServed } })
  t.after(async () => { await node.stop() })
  const port = await unusedTcpPort()
  const js = await spawnPeer('js', ['--autonat', '--listen', `/ip4/127.0.0.1/tcp/${port}`])
  await js.commandOk({ cmd: 'observe', addr: `/ip4/11.0.0.1/tcp/${port}` })
  // js verifies its addresses with every AutoNAT server that connects
  await js.commandOk({ cmd: 'dial', addr: node.getMultiaddrs()[0].toString() })
  const answer = await answered
  assert.equal(answer.peer, js.peerId)
  assert.equal(answer.status, 0, 'OK')
  assert.equal(answer.addr, `/ip4/127.0.0.1/tcp/${port}`)
})

test('AutoNAT v1: ts asks, js answers (a refusal on loopback, decoded as a typed error)', { timeout: 120_000 }, async (t) => {
  const node = await loopbackAutoNATNode({ server: false, v2: false, bootDelay: NEVER })
  t.after(async () => { await node.stop() })
  const js = await spawnPeer('js', ['--autonat'])
  const { connection, protocols } = await dialIdentified(node, js.addrs[0], js.peerId)
  assert.ok(protocols.includes('/libp2p/autonat/1.0.0'))
  const autonat = node.services.autonat
  await assert.rejects(autonat.v1Client.check(connection, [multiaddr(node.getMultiaddrs()[0].toString()).decapsulateCode(421)]), (err: Error & { status?: number }) => {
    assert.equal(err.name, 'AutoNATResponseError')
    assert.equal(err.status, 101, 'E_DIAL_REFUSED')
    assert.match(err.message, /no dialable addresses/)
    return true
  })
})
