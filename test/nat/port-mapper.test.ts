/** The port mapper's decisions on a fake clock, against a scripted gateway (one layer: the clients have their own tests). */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { PortMapper, type PortMapperInit } from '../../src/nat/port-mapper.ts'
import { GatewayNotFoundError, UPnPActionError } from '../../src/nat/errors.ts'
import type { GatewayClient, Mapping, MappingRequest } from '../../src/nat/mapping-client.ts'
import { classifyIp } from '../../src/util/multiaddr.ts'

class ScriptedGateway implements GatewayClient {
  readonly kind = 'upnp' as const
  readonly gateway = '10.0.0.1'
  readonly localAddress = '10.0.0.2'
  externalIp = '11.0.0.1'
  /** external port -> internal client holding it */
  readonly table = new Map<number, string>()
  readonly requests: MappingRequest[] = []
  readonly removed: Mapping[] = []
  grantSeconds: number | undefined
  closed = false

  async externalAddress (): Promise<string> { return this.externalIp }
  async map (request: MappingRequest): Promise<Mapping> {
    this.requests.push(request)
    const holder = this.table.get(request.externalPort)
    if (holder !== undefined && holder !== `${request.internalHost}:${request.internalPort}`) throw new UPnPActionError('ConflictInMappingEntry', 718)
    this.table.set(request.externalPort, `${request.internalHost}:${request.internalPort}`)
    return { protocol: request.protocol, internalPort: request.internalPort, externalPort: request.externalPort, lifetimeSeconds: this.grantSeconds ?? request.lifetimeSeconds }
  }

  async unmap (mapping: Mapping): Promise<void> {
    this.removed.push(mapping)
    this.table.delete(mapping.externalPort)
  }

  close (): void { this.closed = true }
}

function mapper (gateway: ScriptedGateway | (() => Promise<GatewayClient>), listen: string[], extra: Partial<PortMapperInit> = {}) {
  const announced = new Set<string>()
  const events: string[] = []
  const m = new PortMapper({
    findGateway: typeof gateway === 'function' ? gateway : async () => gateway,
    listenAddrs: () => listen.map(a => multiaddr(a)),
    isPublicIp: (ip) => classifyIp(ip) === 'public',
    onMapped: (external: Multiaddr) => { announced.add(external.toString()); events.push(`+${external.toString()}`) },
    onUnmapped: (external: Multiaddr) => { announced.delete(external.toString()); events.push(`-${external.toString()}`) },
    log: Object.assign(() => {}, { enabled: false, error: () => {}, trace: () => {} }) as any,
    ...extra
  })
  return { m, announced, events }
}

const flush = async (): Promise<void> => { for (let i = 0; i < 20; i++) await Promise.resolve() }

test('maps IPv4 TCP and UDP listen addresses on our LAN address, keeps the rest of the address, skips others', async () => {
  const gw = new ScriptedGateway()
  const { m, announced } = mapper(gw, ['/ip4/10.0.0.2/tcp/4001', '/ip4/127.0.0.1/tcp/4001', '/ip6/::1/tcp/4001', '/ip4/10.0.0.2/tcp/4002/ws', '/ip4/10.0.0.2/udp/4003/quic-v1', '/ip4/10.0.0.2/tcp/4001'])
  await m.sync()
  assert.equal(m.state, 'mapped')
  assert.deepEqual([...announced].sort(), ['/ip4/11.0.0.1/tcp/4001', '/ip4/11.0.0.1/tcp/4002/ws', '/ip4/11.0.0.1/udp/4003/quic-v1'])
  assert.deepEqual(gw.requests.map(r => `${r.protocol}:${r.internalHost}:${r.internalPort}->${r.externalPort}/${r.lifetimeSeconds}`).sort(),
    ['tcp:10.0.0.2:4001->4001/720', 'tcp:10.0.0.2:4002->4002/720', 'udp:10.0.0.2:4003->4003/720'])
  await m.stop()
  assert.equal(announced.size, 0)
  assert.equal(gw.removed.length, 3)
  assert.ok(gw.closed)
})

test('UPnP 718: another external port is tried until one is free; the address says which', async () => {
  const gw = new ScriptedGateway()
  gw.table.set(4001, '10.0.0.3:4001')
  gw.table.set(30001, '10.0.0.4:1')
  const ports = [30001, 30002]
  const { m, announced } = mapper(gw, ['/ip4/10.0.0.2/tcp/4001'], { randomPort: () => ports.shift()! })
  await m.sync()
  assert.deepEqual([...announced], ['/ip4/11.0.0.1/tcp/30002'])
  assert.deepEqual(gw.requests.map(r => r.externalPort), [4001, 30001, 30002])
  await m.stop()
  assert.equal(gw.table.get(4001), '10.0.0.3:4001', 'the other client keeps its mapping')
  assert.equal(gw.table.has(30002), false)
})

test('UPnP 718 past maxConflictRetries fails the sync and schedules a retry', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const gw = new ScriptedGateway()
  for (const p of [4001, 5000, 5001]) gw.table.set(p, 'someone:1')
  const ports = [5000, 5001, 5002]
  const { m, announced } = mapper(gw, ['/ip4/10.0.0.2/tcp/4001'], { randomPort: () => ports.shift()!, maxConflictRetries: 2, retryInterval: 1000 })
  await m.sync()
  assert.equal(m.state, 'failed')
  assert.equal((m.lastError as UPnPActionError).upnpErrorCode, 718)
  assert.equal(announced.size, 0)
  t.mock.timers.tick(1000)
  await flush()
  assert.equal(m.state, 'mapped')
  assert.deepEqual([...announced], ['/ip4/11.0.0.1/tcp/5002'])
  await m.stop()
})

test('double NAT: a private, CGNAT or missing external address maps nothing', async () => {
  for (const external of ['100.64.0.1', '192.168.1.1', '10.1.2.3', '', 'garbage', '::1']) {
    const gw = new ScriptedGateway()
    gw.externalIp = external
    const { m, announced } = mapper(gw, ['/ip4/10.0.0.2/tcp/4001'])
    await m.sync()
    assert.equal(m.state, 'double-nat', external)
    assert.equal((m.lastError as Error).name, 'DoubleNatError')
    assert.equal(gw.requests.length, 0)
    assert.equal(announced.size, 0)
    await m.stop()
  }
})

test('leases are renewed at half-life; a changed external address is re-announced; stop ends renewals', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const gw = new ScriptedGateway()
  const { m, events } = mapper(gw, ['/ip4/10.0.0.2/tcp/4001'], { leaseSeconds: 60 })
  await m.sync()
  assert.equal(gw.requests.length, 1)
  t.mock.timers.tick(29_999)
  await flush()
  assert.equal(gw.requests.length, 1)
  t.mock.timers.tick(1)
  await flush()
  assert.equal(gw.requests.length, 2, 'renewed at 30 s of 60')
  assert.equal(gw.requests[1].externalPort, 4001)
  gw.externalIp = '11.0.0.9'
  t.mock.timers.tick(30_000)
  await flush()
  assert.equal(gw.requests.length, 3)
  assert.deepEqual(events, ['+/ip4/11.0.0.1/tcp/4001', '-/ip4/11.0.0.1/tcp/4001', '+/ip4/11.0.0.9/tcp/4001'])
  await m.stop()
  t.mock.timers.tick(120_000)
  await flush()
  assert.equal(gw.requests.length, 3, 'no renewal after stop')
  assert.deepEqual(gw.removed.map(r => r.externalPort), [4001])
})

test('a NAT-PMP gateway that grants another port or a shorter lease is followed', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const gw = new ScriptedGateway()
  gw.grantSeconds = 10
  let next = 40000
  gw.map = async (request) => {
    gw.requests.push(request)
    return { protocol: request.protocol, internalPort: request.internalPort, externalPort: next++, lifetimeSeconds: 10 }
  }
  const { m, events } = mapper(gw, ['/ip4/10.0.0.2/udp/4001'])
  await m.sync()
  t.mock.timers.tick(5000)
  await flush()
  assert.equal(gw.requests[1].externalPort, 40000, 'renewal asks for the port it holds')
  assert.deepEqual(events, ['+/ip4/11.0.0.1/udp/40000', '-/ip4/11.0.0.1/udp/40000', '+/ip4/11.0.0.1/udp/40001'])
  await m.stop()
})

test('a failing renewal retries within the lease and withdraws the address when it runs out', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const gw = new ScriptedGateway()
  const { m, announced } = mapper(gw, ['/ip4/10.0.0.2/tcp/4001'], { leaseSeconds: 8, retryInterval: 100_000 })
  await m.sync()
  gw.map = async () => { throw new UPnPActionError('ActionFailed', 501) }
  t.mock.timers.tick(4000) // renewal fails, 4 s left: retry in 2 s
  await flush()
  assert.equal(announced.size, 1)
  t.mock.timers.tick(2000) // fails, 2 s left: retry in 1 s
  await flush()
  t.mock.timers.tick(1000) // fails with 1 s left: withdrawn
  await flush()
  assert.equal(announced.size, 0)
  await m.stop()
})

test('no gateway: searching again after retryInterval; stop while searching leaves nothing behind', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  let searches = 0
  const { m } = mapper(async () => { searches++; throw new GatewayNotFoundError() }, ['/ip4/10.0.0.2/tcp/4001'], { retryInterval: 5000 })
  await m.sync()
  assert.equal(m.state, 'no-gateway')
  assert.equal(searches, 1)
  t.mock.timers.tick(5000)
  await flush()
  assert.equal(searches, 2)
  let release: (() => void) | undefined
  const { m: m2 } = mapper(async (signal?: AbortSignal) => await new Promise<GatewayClient>((_resolve, reject) => { release = () => {}; signal?.addEventListener('abort', () => { reject(signal.reason) }) }) as any, [])
  const syncing = m2.sync()
  await flush()
  assert.ok(release !== undefined)
  await m2.stop()
  await syncing
  assert.equal(m2.state, 'stopped')
  await m.stop()
})

test('a gateway that stops answering before anything is mapped is dropped: the retry searches again', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const dead = new ScriptedGateway()
  dead.externalAddress = async () => { throw new Error('connection refused') }
  const alive = new ScriptedGateway()
  const found = [dead, alive]
  let searches = 0
  const { m, announced } = mapper(async () => { searches++; return found.shift()! }, ['/ip4/10.0.0.2/tcp/4001'], { retryInterval: 1000 })
  await m.sync()
  assert.equal(m.state, 'failed')
  assert.ok(dead.closed)
  t.mock.timers.tick(1000)
  await flush()
  assert.equal(searches, 2)
  assert.deepEqual([...announced], ['/ip4/11.0.0.1/tcp/4001'])
  await m.stop()
})
