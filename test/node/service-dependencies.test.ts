import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping, PingService } from '../../src/protocols/ping/index.ts'
import { echo } from '../../src/protocols/echo/index.ts'
import { perf } from '../../src/protocols/perf/index.ts'
import { http } from '../../src/protocols/http/index.ts'
import { fetch } from '../../src/protocols/fetch/index.ts'
import { kadDHT } from '../../src/dht/index.ts'
import type { KadDHT } from '../../src/dht/index.ts'
import { gossipsub } from '../../src/pubsub/gossipsub/index.ts'
import { floodsub } from '../../src/pubsub/floodsub/index.ts'
import { bootstrap } from '../../src/discovery/bootstrap.ts'
import { bitswap } from '../../src/exchange/bitswap/index.ts'
import { CAPABILITY_PROVIDERS, declarationsOf } from '../../src/node/capabilities.ts'
import { MissingServiceDependencyError } from '../../src/util/errors.ts'

const listen = { listen: ['/ip4/127.0.0.1/tcp/0'] }

test('a DHT without identify is refused at createLibp2p with what to add', async () => {
  await assert.rejects(createLibp2p({ services: { dht: kadDHT() } }), (err: Error) => {
    assert.ok(err instanceof MissingServiceDependencyError)
    assert.equal((err as MissingServiceDependencyError).code, 'ERR_MISSING_SERVICE_DEPENDENCY')
    assert.match(err.message, /service 'dht' needs '@libp2p\/identify': add identify\(\) from 'ts-libp2p\/identify'/)
    return true
  })
  await assert.rejects(createLibp2p({ services: { pubsub: gossipsub() }, start: false }), /service 'pubsub' needs '@libp2p\/identify'/)
  await assert.rejects(createLibp2p({ services: { pubsub: floodsub() }, start: false }), /service 'pubsub' needs '@libp2p\/identify'/)
})

test('with identify, DHT nodes start and fill their routing tables from each other', async () => {
  const make = async () => await createLibp2p({ transports: [tcp()], addresses: listen, services: { identify: identify(), dht: kadDHT({ mode: 'server', initialRefresh: false }) } })
  const [a, b] = await Promise.all([make(), make()])
  try {
    await a.dial(b.getMultiaddrs()[0])
    const dht = a.services.dht as KadDHT
    const deadline = Date.now() + 5000
    while (dht.routingTable.size === 0 && Date.now() < deadline) await new Promise<void>(resolve => { a.addEventListener('peer:identify', () => { resolve() }, { once: true }); setTimeout(resolve, 50).unref() })
    assert.equal(dht.routingTable.size, 1)
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
})

test('every built-in service declares its capabilities, and every capability and need is in the providers table', async () => {
  const node = await createLibp2p({
    transports: [tcp()],
    start: false,
    services: {
      identify: identify(),
      ping: ping(),
      echo: echo(),
      perf: perf(),
      http: http(),
      fetch: fetch(),
      dht: kadDHT(),
      pubsub: gossipsub(),
      bootstrap: bootstrap({ list: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'] }),
      bitswap: bitswap()
    }
  })
  const expected: Record<string, { provides: string[], needs: string[] }> = {
    identify: { provides: ['@libp2p/identify', '@libp2p/identify-push'], needs: [] },
    ping: { provides: ['@libp2p/ping'], needs: [] },
    echo: { provides: ['@libp2p/echo'], needs: [] },
    perf: { provides: ['@libp2p/perf'], needs: [] },
    http: { provides: ['@libp2p/http'], needs: [] },
    fetch: { provides: ['@libp2p/fetch'], needs: [] },
    dht: { provides: ['@libp2p/kad-dht', '@libp2p/content-routing', '@libp2p/peer-routing'], needs: ['@libp2p/identify'] },
    pubsub: { provides: ['@libp2p/pubsub'], needs: ['@libp2p/identify'] },
    bootstrap: { provides: ['@libp2p/peer-discovery'], needs: [] },
    bitswap: { provides: ['@libp2p/bitswap'], needs: ['@libp2p/identify'] }
  }
  for (const [name, want] of Object.entries(expected)) {
    const declared = declarationsOf((node.services as Record<string, unknown>)[name])
    assert.deepEqual([...(declared.serviceCapabilities ?? [])], want.provides, `${name} provides`)
    assert.deepEqual([...(declared.serviceDependencies ?? [])], want.needs, `${name} needs`)
    for (const capability of [...want.provides, ...want.needs]) assert.ok(CAPABILITY_PROVIDERS[capability] !== undefined, `${capability} has a provider hint`)
  }
  const floodNode = await createLibp2p({ transports: [tcp()], start: false, services: { identify: identify(), pubsub: floodsub() } })
  assert.deepEqual([...(declarationsOf(floodNode.services.pubsub).serviceCapabilities ?? [])], ['@libp2p/pubsub'])
})

test('a DHT configured without ping gets one (js-libp2p peers ping a contact before admitting it), which other nodes can ping', async () => {
  const dhtOnly = await createLibp2p({ transports: [tcp()], addresses: listen, services: { identify: identify(), dht: kadDHT({ initialRefresh: false }) } })
  const pinger = await createLibp2p({ transports: [tcp()], addresses: listen, services: { identify: identify(), ping: ping() } })
  try {
    assert.deepEqual(Object.keys(dhtOnly.services), ['identify', 'dht', 'ping'])
    // typed without a cast: the implied ping is in the node's services type
    const implied: PingService = dhtOnly.services.ping
    assert.ok(implied instanceof PingService)
    assert.ok(dhtOnly.getProtocols().includes('/ipfs/ping/1.0.0'), 'the node answers /ipfs/ping/1.0.0')
    const rtt = await pinger.services.ping.ping(dhtOnly.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) })
    assert.ok(rtt >= 0)
    // and it pings out: the typed handle works both ways
    assert.ok(await dhtOnly.services.ping.ping(pinger.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) }) >= 0)
  } finally {
    await Promise.all([dhtOnly.stop(), pinger.stop()])
  }
})

test('services: { ping: false } turns the implied ping off: no service, no /ipfs/ping/1.0.0 handler, a peer\'s ping is refused', async () => {
  const noPing = await createLibp2p({ transports: [tcp()], addresses: listen, services: { identify: identify(), dht: kadDHT({ initialRefresh: false }), ping: false } })
  const pinger = await createLibp2p({ transports: [tcp()], services: { identify: identify(), ping: ping() } })
  try {
    assert.deepEqual(Object.keys(noPing.services), ['identify', 'dht'])
    assert.ok(!noPing.getProtocols().includes('/ipfs/ping/1.0.0'))
    await assert.rejects(pinger.services.ping.ping(noPing.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) }), { name: 'UnsupportedProtocolError' })
    // @ts-expect-error a name set to false is not in the services type
    assert.equal(noPing.services.ping, undefined)
  } finally {
    await Promise.all([noPing.stop(), pinger.stop()])
  }
  // dhtPing: false turns it off as well (the name it would take when "ping" names another service)
  const pingNameTaken = await createLibp2p({ transports: [tcp()], start: false, services: { identify: identify(), ping: echo(), dht: kadDHT(), dhtPing: false } })
  assert.deepEqual(Object.keys(pingNameTaken.services), ['identify', 'ping', 'dht'])
  // @ts-expect-error a name set to false is not in the services type
  assert.equal(pingNameTaken.services.dhtPing, undefined)
  // false for a name with no implied service just runs nothing under that name
  const noEcho = await createLibp2p({ transports: [tcp()], start: false, services: { identify: identify(), echo: false } })
  assert.deepEqual(Object.keys(noEcho.services), ['identify'])
})

test('no implied ping when a service already provides it, when there is no DHT, and another name when "ping" is taken', async () => {
  const withPing = await createLibp2p({ transports: [tcp()], start: false, services: { identify: identify(), ping: ping(), dht: kadDHT() } })
  assert.deepEqual(Object.keys(withPing.services), ['identify', 'ping', 'dht'])
  const noDht = await createLibp2p({ transports: [tcp()], start: false, services: { identify: identify() } })
  assert.deepEqual(Object.keys(noDht.services), ['identify'])
  const pingNameTaken = await createLibp2p({ transports: [tcp()], start: false, services: { identify: identify(), ping: echo(), dht: kadDHT() } })
  assert.deepEqual(Object.keys(pingNameTaken.services), ['identify', 'ping', 'dht', 'dhtPing'])
  const dhtPing: PingService = pingNameTaken.services.dhtPing
  assert.ok(dhtPing instanceof PingService)
  // the types say the same: no implied ping without a DHT or beside a configured one
  // @ts-expect-error no DHT, no implied ping
  assert.equal(noDht.services.ping, undefined)
  // @ts-expect-error ping was configured: nothing is added under dhtPing
  assert.equal(withPing.services.dhtPing, undefined)
})
