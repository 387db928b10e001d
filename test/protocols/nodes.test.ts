/** Identify, push, ping and echo between two real nodes over TCP (noise + yamux). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { echo } from '../../src/protocols/echo/index.ts'
import type { IdentifyResult, Libp2pEvents, TypedEvents } from '../../src/interface/events.ts'
import { utf8Decode } from '../../src/util/bytes.ts'

async function makeNode () {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    services: { identify: identify({ pushDebounce: 1 }), ping: ping(), echo: echo() }
  })
}

function nextIdentify (events: TypedEvents<Libp2pEvents>, match: (r: IdentifyResult) => boolean = () => true): Promise<IdentifyResult> {
  return new Promise(resolve => {
    const listener = (evt: CustomEvent<IdentifyResult>): void => {
      if (!match(evt.detail)) return
      events.removeEventListener('peer:identify', listener)
      resolve(evt.detail)
    }
    events.addEventListener('peer:identify', listener)
  })
}

test('two nodes identify each other on connect, then ping, echo and push', async (t) => {
  const a = await makeNode()
  const b = await makeNode()
  t.after(async () => { await a.stop(); await b.stop() })

  const aLearnsB = nextIdentify(a, r => r.peerId.equals(b.peerId))
  const bLearnsA = nextIdentify(b, r => r.peerId.equals(a.peerId))
  const connection = await a.dial(b.getMultiaddrs()[0])
  const [ra, rb] = await Promise.all([aLearnsB, bLearnsA])
  assert.ok(ra.protocols.includes('/echo/1.0.0'))
  assert.ok(ra.signedPeerRecord !== undefined)
  assert.equal(ra.observedAddr?.toString().startsWith('/ip4/127.0.0.1/tcp/'), true)
  assert.ok(rb.peerId.equals(a.peerId))
  const storedB = await a.peerStore.get(b.peerId)
  assert.ok(storedB.protocols.includes('/ipfs/ping/1.0.0'))
  assert.ok(storedB.addresses.some(x => x.isCertified && b.getMultiaddrs()[0].toString().startsWith(x.multiaddr.toString())))
  assert.match(utf8Decode(storedB.metadata.get('AgentVersion')!), /^ts-libp2p\//)

  // ping: several round trips on one stream
  for (let i = 0; i < 3; i++) assert.ok(await a.services.ping.ping(connection) >= 0)
  assert.ok(await a.services.ping.ping(b.peerId) >= 0)

  // echo: a payload much larger than a yamux window
  const data = new Uint8Array(1024 * 1024).map((_, i) => (i * 7919) & 0xff)
  const back = await a.services.echo.echo(connection, data)
  assert.equal(back.length, data.length)
  assert.ok(Buffer.from(back).equals(Buffer.from(data)))

  // push: B starts handling a protocol; A hears about it without asking
  const pushed = nextIdentify(a, r => r.peerId.equals(b.peerId) && r.protocols.includes('/new/1.0.0'))
  await b.handle('/new/1.0.0', () => {})
  await pushed
  assert.ok((await a.peerStore.get(b.peerId)).protocols.includes('/new/1.0.0'))

  // an explicit identify call returns the same view
  const again = await a.services.identify.identify(connection)
  assert.ok(again.protocols.includes('/new/1.0.0'))
})
