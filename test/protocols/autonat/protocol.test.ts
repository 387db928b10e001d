/**
 * AutoNAT's failure paths and timing: hysteresis, rate limits on a fake clock, rogue servers
 * (nonce mismatch, proto3 zero values, greedy dial-data requests), refusal over a limited
 * connection, and the check schedule on a fake clock.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { makeNode, stopAll, type TestNode } from '../../node/helpers.ts'
import { identify } from '../../../src/protocols/identify/index.ts'
import { autoNAT, AutoNATService } from '../../../src/protocols/autonat/index.ts'
import { ReachabilityConfidence } from '../../../src/protocols/autonat/confidence.ts'
import { RequestRateLimiter } from '../../../src/protocols/autonat/rate-limiter.ts'
import { AutoNATv2Server } from '../../../src/protocols/autonat/v2-server.ts'
import { AutoNATv2Client } from '../../../src/protocols/autonat/v2-client.ts'
import {
  decodeV2Message, DIAL_BACK_PROTOCOL, DIAL_REQUEST_PROTOCOL, DialStatus, encodeDialBack, encodeV2Message, ResponseStatus
} from '../../../src/protocols/autonat/v2-messages.ts'
import type { AutoNATComponents } from '../../../src/protocols/autonat/components.ts'
import type { Stream } from '../../../src/interface/stream.ts'
import type { Connection } from '../../../src/interface/connection.ts'
import type { Libp2pEvents } from '../../../src/interface/events.ts'
import { StreamReader, writeLP } from '../../../src/util/stream-reader.ts'
import { connectFakePeers, FakeRegistrar, fakePeerId, logger } from '../../support/fake-connections.ts'
import { reachabilityOf, parsePublicRanges } from '../../../src/util/multiaddr.ts'
import { TypedEventEmitter } from '../../../src/util/events.ts'

describe('ReachabilityConfidence', () => {
  it('decides at +-threshold and holds until contrary evidence outweighs the cap', () => {
    const c = new ReachabilityConfidence({ threshold: 2, cap: 3 })
    assert.equal(c.record('public'), false)
    assert.equal(c.verdict, 'unknown')
    assert.equal(c.record('public'), true)
    assert.equal(c.verdict, 'public')
    c.record('public'); c.record('public') // capped at 3
    assert.equal(c.score, 3)
    for (let i = 0; i < 4; i++) assert.equal(c.record('private'), false, `failure ${i + 1} does not flip a settled verdict`)
    assert.equal(c.verdict, 'public')
    assert.equal(c.record('private'), true)
    assert.equal(c.verdict, 'private')
    // alternating results never flip it back
    for (let i = 0; i < 10; i++) { c.record('public'); c.record('private') }
    assert.equal(c.verdict, 'private')
  })

  it('v1 settings decide on the first result and flip after four contrary ones', () => {
    const c = new ReachabilityConfidence({ threshold: 1, cap: 3 })
    assert.equal(c.record('private'), true)
    c.record('private'); c.record('private')
    for (let i = 0; i < 3; i++) c.record('public')
    assert.equal(c.verdict, 'private')
    c.record('public')
    assert.equal(c.verdict, 'public')
  })
})

describe('RequestRateLimiter on a fake clock', () => {
  it('per peer, overall, concurrency and dial-data budgets, each refilled after exactly one minute', () => {
    let now = 0
    const limiter = new RequestRateLimiter({ perMinute: 5, perPeerPerMinute: 2, concurrentPerPeer: 1, dialDataPerMinute: 1 }, () => now)
    assert.equal(limiter.accept('a'), true)
    assert.equal(limiter.accept('a'), false, 'one at a time per peer')
    limiter.release('a')
    assert.equal(limiter.accept('a'), true)
    limiter.release('a')
    assert.equal(limiter.accept('a'), false, 'two per minute per peer')
    for (const p of ['b', 'c', 'd']) { assert.equal(limiter.accept(p), true); limiter.release(p) }
    assert.equal(limiter.accept('e'), false, 'five per minute overall')
    assert.equal(limiter.acceptDialData(), true)
    assert.equal(limiter.acceptDialData(), false)
    now = 59_999
    assert.equal(limiter.accept('e'), false)
    now = 60_000
    assert.equal(limiter.accept('e'), true)
    assert.equal(limiter.acceptDialData(), true)
    limiter.release('e')
    now = 200_000
    assert.equal(limiter.trackedPeers, 0, 'nobody is remembered after a quiet minute')
  })
})

describe('AutoNAT v2 client against rogue servers', () => {
  after(stopAll)

  async function rogue (serve: (stream: Stream, connection: Connection, request: { nonce: bigint }) => Promise<void>): Promise<{ client: TestNode, connection: Connection }> {
    const server = await makeNode({ services: { identify: identify() } })
    await server.handle(DIAL_REQUEST_PROTOCOL, (stream, connection) => {
      void (async () => {
        const reader = new StreamReader(stream)
        const frame = await reader.readLP({ maxLength: 8192 })
        const message = decodeV2Message(frame!)
        assert.equal(message.type, 'dialRequest')
        await serve(stream, connection, { nonce: message.type === 'dialRequest' ? message.dialRequest.nonce : 0n })
      })().catch(err => { stream.abort(err as Error) })
    })
    const client = await makeNode({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'], publicCidrs: ['127.0.0.0/8'] },
      services: { identify: identify(), autonat: autoNAT({ bootDelay: 24 * 3600_000, server: false }) }
    })
    const connection = await client.dial(server.getMultiaddrs()[0])
    return { client, connection }
  }

  const reply = async (stream: Stream, bytes: Uint8Array): Promise<void> => {
    await writeLP(stream, bytes)
    await stream.closeWrite()
  }
  const v2 = (node: TestNode): AutoNATv2Client => (node.services.autonat as AutoNATService).v2Client
  const addr = multiaddr('/ip4/127.0.0.1/tcp/4001')

  it('"dialed you" without a dial-back carrying our nonce is discarded (NonceMismatchError)', async () => {
    const { client, connection } = await rogue(async (stream) => {
      await reply(stream, encodeV2Message({ type: 'dialResponse', dialResponse: { status: ResponseStatus.OK, addrIdx: 0, dialStatus: DialStatus.OK } }))
    })
    await assert.rejects(v2(client).check(connection, [addr]), { name: 'NonceMismatchError' })
    assert.equal(v2(client).pendingRequests, 0)
  })

  it('a dial-back with the wrong nonce is reset and the OK that follows is discarded', async () => {
    let dialBackReset = false
    const { client, connection } = await rogue(async (stream, conn, { nonce }) => {
      const back = await conn.newStream(DIAL_BACK_PROTOCOL)
      await writeLP(back, encodeDialBack(nonce + 1n))
      try {
        const answer = await new StreamReader(back).readLP({ maxLength: 100 })
        dialBackReset = answer === null
      } catch {
        dialBackReset = true
      }
      await reply(stream, encodeV2Message({ type: 'dialResponse', dialResponse: { status: ResponseStatus.OK, addrIdx: 0, dialStatus: DialStatus.OK } }))
    })
    await assert.rejects(v2(client).check(connection, [addr]), { name: 'NonceMismatchError' })
    assert.equal(dialBackReset, true)
  })

  it('the right nonce on a dial-back is acknowledged and the address is public', async () => {
    const { client, connection } = await rogue(async (stream, conn, { nonce }) => {
      const back = await conn.newStream(DIAL_BACK_PROTOCOL)
      await writeLP(back, encodeDialBack(nonce))
      const answer = await new StreamReader(back).readLP({ maxLength: 100 })
      assert.ok(answer !== null)
      await reply(stream, encodeV2Message({ type: 'dialResponse', dialResponse: { status: ResponseStatus.OK, addrIdx: 0, dialStatus: DialStatus.OK } }))
    })
    const result = await v2(client).check(connection, [addr])
    assert.equal(result.reachability, 'public')
  })

  it('a dial-back over another transport than the address claimed (TCP for a /ws address) proves nothing', async () => {
    const { client, connection } = await rogue(async (stream, conn, { nonce }) => {
      const back = await conn.newStream(DIAL_BACK_PROTOCOL)
      await writeLP(back, encodeDialBack(nonce))
      await new StreamReader(back).readLP({ maxLength: 100 })
      await reply(stream, encodeV2Message({ type: 'dialResponse', dialResponse: { status: ResponseStatus.OK, addrIdx: 0, dialStatus: DialStatus.OK } }))
    })
    await assert.rejects(v2(client).check(connection, [multiaddr('/ip4/127.0.0.1/tcp/4001/ws')]), { name: 'NonceMismatchError', message: /arrived on \/ip4\/127\.0\.0\.1\/tcp\/\d+$/ })
  })

  it('proto3 zero values: an empty DialResponse is E_INTERNAL_ERROR; OK with dialStatus UNUSED is invalid; an out-of-range index is invalid', async () => {
    const empty = await rogue(async (stream) => { await reply(stream, new Uint8Array([0x12, 0x00])) })
    await assert.rejects(v2(empty.client).check(empty.connection, [addr]), { name: 'AutoNATResponseError', status: 0 })
    const unused = await rogue(async (stream) => { await reply(stream, encodeV2Message({ type: 'dialResponse', dialResponse: { status: ResponseStatus.OK, addrIdx: 0, dialStatus: DialStatus.UNUSED } })) })
    await assert.rejects(v2(unused.client).check(unused.connection, [addr]), { name: 'InvalidMessageError' })
    const index = await rogue(async (stream) => { await reply(stream, encodeV2Message({ type: 'dialResponse', dialResponse: { status: ResponseStatus.OK, addrIdx: 1, dialStatus: DialStatus.E_DIAL_ERROR } })) })
    await assert.rejects(v2(index.client).check(index.connection, [addr]), { name: 'InvalidMessageError' })
  })

  it('a dial-data request above what we pay is refused, and the stream reset', async () => {
    let serverSaw: (what: string) => void = () => {}
    const seen = new Promise<string>(resolve => { serverSaw = resolve })
    const { client, connection } = await rogue(async (stream) => {
      await writeLP(stream, encodeV2Message({ type: 'dialDataRequest', dialDataRequest: { addrIdx: 0, numBytes: 100_001 } }))
      try {
        const next = await new StreamReader(stream).readLP({ maxLength: 8192 })
        serverSaw(next === null ? 'end' : 'data')
      } catch (err) {
        serverSaw((err as Error).name)
      }
    })
    await assert.rejects(v2(client).check(connection, [addr]), { name: 'DialDataRefusedError' })
    assert.equal(await seen, 'StreamResetError', 'the client reset the stream instead of paying')
  })
})

describe('AutoNAT v2 server refusals', () => {
  function serverComponents (): AutoNATComponents {
    const ranges = parsePublicRanges(['127.0.0.0/8'])
    let dials = 0
    return {
      peerId: fakePeerId('server'),
      logger,
      events: new TypedEventEmitter(),
      registrar: new FakeRegistrar(),
      peerStore: {} as never,
      connectionManager: {
        async openConnection () { dials++; throw new Error(`no dialing in this test (${dials})`) },
        getConnections: () => [],
        async closeConnections () {}
      },
      addressManager: { reachabilityOf: (a: ReturnType<typeof multiaddr>) => reachabilityOf(a, ranges) } as never
    }
  }

  it('a request over a limited (relayed) connection gets E_REQUEST_REJECTED, not a reset', async () => {
    const clientRegistrar = new FakeRegistrar()
    const serverRegistrar = new FakeRegistrar()
    const server = new AutoNATv2Server(serverComponents())
    serverRegistrar.handle(DIAL_REQUEST_PROTOCOL, server.handle, { runOnLimitedConnection: true })
    const [toServer, toClient] = connectFakePeers({ peerId: fakePeerId('client'), registrar: clientRegistrar }, { peerId: fakePeerId('server'), registrar: serverRegistrar })
    Object.defineProperty(toClient, 'limits', { value: { seconds: 120, bytes: 131072n } })
    const client = new AutoNATv2Client({ ...serverComponents(), peerId: fakePeerId('client'), registrar: clientRegistrar })
    await assert.rejects(client.check(toServer, [multiaddr('/ip4/127.0.0.1/tcp/1')]), { name: 'AutoNATResponseError', status: ResponseStatus.E_REQUEST_REJECTED })
  })

  it('chooses the first address it can dial: relayed, private and other-transport addresses are skipped', async () => {
    const components = serverComponents()
    const dialed: string[] = []
    components.connectionManager.openConnection = async (target) => { dialed.push(String(target)); throw new Error('unreachable') }
    // this server has TCP only
    components.connectionManager.canDial = (addr) => !addr.toString().includes('/udp/')
    const serverRegistrar = new FakeRegistrar()
    serverRegistrar.handle(DIAL_REQUEST_PROTOCOL, new AutoNATv2Server(components).handle)
    const [toServer] = connectFakePeers({ peerId: fakePeerId('client'), registrar: new FakeRegistrar() }, { peerId: fakePeerId('server'), registrar: serverRegistrar })
    const stream = await toServer.newStream(DIAL_REQUEST_PROTOCOL)
    const addrs = ['/ip4/127.0.0.1/udp/5/quic-v1', '/ip4/127.0.0.1/tcp/4/p2p/12D3KooWNzu8BDRGidn9aajqWNFUSbqhqdsU834J5DFdmhvKPQbt/p2p-circuit', '/ip4/10.0.0.1/tcp/3', '/ip4/127.0.0.1/tcp/2']
    await writeLP(stream, encodeV2Message({ type: 'dialRequest', dialRequest: { addrs: addrs.map(a => multiaddr(a).bytes), nonce: 7n } }))
    const response = decodeV2Message((await new StreamReader(stream).readLP({ maxLength: 8192 }))!)
    assert.equal(response.type, 'dialResponse')
    assert.deepEqual(response.type === 'dialResponse' ? [response.dialResponse.status, response.dialResponse.addrIdx, response.dialResponse.dialStatus] : [], [ResponseStatus.OK, 3, DialStatus.E_DIAL_ERROR])
    assert.equal(dialed.length, 1)
    assert.ok(dialed[0].startsWith('/ip4/127.0.0.1/tcp/2/p2p/'), dialed[0])
  })

  it('refuses (E_DIAL_REFUSED, no dial) when it can dial none of the addresses', async () => {
    const components = serverComponents()
    components.connectionManager.canDial = () => false
    const serverRegistrar = new FakeRegistrar()
    serverRegistrar.handle(DIAL_REQUEST_PROTOCOL, new AutoNATv2Server(components).handle)
    const [toServer] = connectFakePeers({ peerId: fakePeerId('client'), registrar: new FakeRegistrar() }, { peerId: fakePeerId('server'), registrar: serverRegistrar })
    const stream = await toServer.newStream(DIAL_REQUEST_PROTOCOL)
    await writeLP(stream, encodeV2Message({ type: 'dialRequest', dialRequest: { addrs: [multiaddr('/ip4/127.0.0.1/udp/5/quic-v1').bytes], nonce: 7n } }))
    const response = decodeV2Message((await new StreamReader(stream).readLP({ maxLength: 8192 }))!)
    assert.equal(response.type === 'dialResponse' ? response.dialResponse.status : undefined, ResponseStatus.E_DIAL_REFUSED)
  })

  it('asks for 30-100 kB of dial data when the address is not on the observed IP, and never dials before it arrives', async () => {
    const components = serverComponents()
    let dialed = 0
    components.connectionManager.openConnection = async () => { dialed++; throw new Error('unreachable') }
    const serverRegistrar = new FakeRegistrar()
    const server = new AutoNATv2Server(components)
    serverRegistrar.handle(DIAL_REQUEST_PROTOCOL, server.handle)
    const [toServer] = connectFakePeers({ peerId: fakePeerId('client'), registrar: new FakeRegistrar() }, { peerId: fakePeerId('server'), registrar: serverRegistrar })
    // the fake connection's observed address is 127.0.0.1; ask about 127.0.0.9
    const stream = await toServer.newStream(DIAL_REQUEST_PROTOCOL)
    await writeLP(stream, encodeV2Message({ type: 'dialRequest', dialRequest: { addrs: [multiaddr('/ip4/127.0.0.9/tcp/5').bytes], nonce: 7n } }))
    const reader = new StreamReader(stream)
    const request = decodeV2Message((await reader.readLP({ maxLength: 8192 }))!)
    assert.equal(request.type, 'dialDataRequest')
    const numBytes = request.type === 'dialDataRequest' ? request.dialDataRequest.numBytes : 0
    assert.ok(numBytes >= 30_000 && numBytes <= 100_000, `${numBytes}`)
    // pay all but one chunk, then give up: no dial may happen
    const chunk = encodeV2Message({ type: 'dialDataResponse', dialDataResponse: { data: new Uint8Array(4096) } })
    for (let sent = 0; sent + 4096 < numBytes; sent += 4096) await writeLP(stream, chunk)
    await stream.closeWrite()
    assert.equal(await reader.readLP({ maxLength: 8192 }).catch(() => null), null)
    assert.equal(dialed, 0)
  })
})

describe('the AutoNAT schedule on a fake clock', () => {
  it('first check after the boot delay, then every retry interval while nothing is decided; stop clears the timer', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
    let checks = 0
    const events = new TypedEventEmitter()
    const service = new AutoNATService({
      peerId: fakePeerId('me'),
      logger,
      events: events as never,
      registrar: new FakeRegistrar(),
      peerStore: {} as never,
      connectionManager: { getConnections: () => { checks++; return [] }, async openConnection () { throw new Error('no') }, async closeConnections () {} },
      addressManager: { getCandidates: () => [], getAddresses: () => [], reachabilityOf: () => 'public' } as never
    }, { bootDelay: 15_000, retryInterval: 90_000 })
    service.start()
    t.mock.timers.tick(14_999)
    assert.equal(checks, 0)
    t.mock.timers.tick(1)
    await settle()
    assert.equal(checks, 1)
    t.mock.timers.tick(89_999)
    await settle()
    assert.equal(checks, 1)
    t.mock.timers.tick(1)
    await settle()
    assert.equal(checks, 2)
    await service.stop()
    t.mock.timers.tick(10 * 90_000)
    await settle()
    assert.equal(checks, 2)
  })
})

describe('the AutoNAT schedule under a stream of identified peers', () => {
  it('a newly identified server brings an undecided check forward, but never closer than minInterval to the last', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
    let checks = 0
    const events = new TypedEventEmitter<Libp2pEvents>()
    const service = new AutoNATService({
      peerId: fakePeerId('me'),
      logger,
      events,
      registrar: new FakeRegistrar(),
      peerStore: {} as never,
      connectionManager: { getConnections: () => { checks++; return [] }, async openConnection () { throw new Error('no') }, async closeConnections () {} },
      addressManager: { getCandidates: () => [], getAddresses: () => [], reachabilityOf: () => 'public' } as never
    }, { bootDelay: 15_000, retryInterval: 90_000, minInterval: 15_000, retryDelay: 1_000 })
    service.start()
    const identified = (protocols: string[]): void => {
      events.safeDispatch('peer:identify', { peerId: fakePeerId('p'), protocols, listenAddrs: [], connection: {} as never })
    }
    t.mock.timers.tick(15_000)
    await settle()
    assert.equal(checks, 1)
    // a peer without AutoNAT changes nothing; one with it, right after a check, waits for minInterval
    t.mock.timers.tick(1_000)
    identified(['/ipfs/ping/1.0.0'])
    for (let i = 0; i < 20; i++) identified(['/libp2p/autonat/1.0.0'])
    t.mock.timers.tick(13_999)
    await settle()
    assert.equal(checks, 1)
    t.mock.timers.tick(1)
    await settle()
    assert.equal(checks, 2, 'brought forward to 15 s after the last check, once')
    t.mock.timers.tick(14_999)
    await settle()
    assert.equal(checks, 2, 'twenty identified servers made one early check, not twenty')
    await service.stop()
  })
})

/** Lets the promise chain of a check run to its end (no timers involved). */
async function settle (): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}
