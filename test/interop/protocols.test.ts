/**
 * identify, identify/push, ping and echo against real go-libp2p and js-libp2p peers
 * (interop/go-peer, interop/js-peer), both directions. go is skipped without a toolchain.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { echo } from '../../src/protocols/echo/index.ts'
import { peerIdFromString } from '../../src/peer/peer-id.ts'
import type { IdentifyResult } from '../../src/interface/events.ts'
import { goAvailable, spawnPeer, stopAll, type PeerKind } from './harness.ts'

after(async () => { await stopAll() })

const hasGo = await goAvailable()

for (const kind of ['js', 'go'] as PeerKind[]) {
  test(`identify, push, ping and echo with ${kind}-libp2p`, { skip: kind === 'go' && !hasGo ? 'no go toolchain' : false, timeout: 180_000 }, async (t) => {
    const node = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      services: { identify: identify({ pushDebounce: 1 }), ping: ping(), echo: echo() }
    })
    t.after(async () => { await node.stop() })
    const peer = await spawnPeer(kind, [], { readyTimeoutMs: 120_000 })
    const remoteId = peerIdFromString(peer.peerId)

    // we dial and identify them
    const identified = new Promise<IdentifyResult>(resolve => {
      node.addEventListener('peer:identify', (evt) => { if (evt.detail.peerId.equals(remoteId)) resolve(evt.detail) })
    })
    const connection = await node.dial(multiaddr(peer.addrs[0]))
    const result = await identified
    assert.match(result.agentVersion ?? '', kind === 'go' ? /go-libp2p/ : /js-libp2p/)
    assert.ok(result.protocols.includes('/ipfs/ping/1.0.0'), result.protocols.join())
    assert.ok(result.publicKey !== undefined)
    assert.ok(result.signedPeerRecord !== undefined, 'a valid signed peer record')
    assert.ok(result.listenAddrs.some(a => peer.addrs[0].startsWith(a.toString())), result.listenAddrs.join())
    assert.match(result.observedAddr?.toString() ?? '', /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
    const stored = await node.peerStore.get(remoteId)
    assert.ok(stored.addresses.some(a => a.isCertified))

    // we ping them (several pings on one stream) and echo to them
    for (let i = 0; i < 3; i++) assert.ok(await node.services.ping.ping(connection) >= 0)
    const data = new Uint8Array(300_000).map((_, i) => i & 0xff)
    const back = await node.services.echo.echo(connection, data)
    assert.ok(Buffer.from(back).equals(Buffer.from(data)))

    // they identify, ping and echo us
    const theirView = await peer.commandOk({ cmd: 'identify', peer: node.peerId.toString() })
    assert.match(String(theirView.agentVersion), /^ts-libp2p\//)
    assert.equal(theirView.protocolVersion, 'ipfs/0.1.0')
    assert.ok((theirView.protocols as string[]).includes('/echo/1.0.0'))
    assert.ok((theirView.listenAddrs as string[]).some(a => node.getMultiaddrs()[0].toString().startsWith(a)), JSON.stringify(theirView))
    const pings = await peer.commandOk({ cmd: 'ping', peer: node.peerId.toString(), count: 3 })
    assert.equal((pings.rtts as number[]).length, 3)
    await peer.commandOk({ cmd: 'echo', peer: node.peerId.toString(), bytes: 200_000, streams: 2 })

    // push: a protocol we start handling shows up in their identify view without a new
    // identify. The js peer runs identify without identify-push (a separate js service) and
    // does not advertise it, so it must not get a push stream at all.
    await node.handle('/interop/push/1.0.0', () => {})
    if (!result.protocols.includes('/ipfs/id/push/1.0.0')) {
      const opened: string[] = []
      const newStream = connection.newStream.bind(connection)
      Object.assign(connection, { newStream: async (protocols: string | string[], options?: object) => { opened.push(String(protocols)); return await newStream(protocols, options) } })
      await node.services.identify.push()
      assert.deepEqual(opened, [])
      await peer.stop()
      return
    }
    const deadline = Date.now() + 10_000
    for (;;) {
      const view = await peer.commandOk({ cmd: 'identify', peer: node.peerId.toString() })
      if ((view.protocols as string[]).includes('/interop/push/1.0.0')) break
      assert.ok(Date.now() < deadline, `push not seen by ${kind}: ${JSON.stringify(view.protocols)}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    await peer.stop()
  })
}
