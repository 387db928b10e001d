/**
 * Port mapping against a real router: Debian's miniupnpd in the NAT lab's router namespace
 * (WAN 11.0.0.11 on the lab's "internet", LAN 10.0.0.1/24), our node in the LAN namespace
 * behind it. Over UPnP and over NAT-PMP the node maps its port and a peer on the internet (the
 * lab's relay host) dials the mapped address and pings; a short lease is renewed in the
 * router's table; stop() removes the mapping from the router's table (read with upnpc -l);
 * a port another LAN client holds (UPnP 718) makes us map another; a router whose WAN address
 * is CGNAT (double NAT) gets no mapping. No packet leaves the lab's namespaces.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createNatLab, processLines, type LabHost, type NatLab, type ProcessLines } from '../support/lab/index.ts'
import { miniupnpdSkip, startMiniupnpd, type Miniupnpd } from '../support/lab/miniupnpd.ts'

const FIXTURE = fileURLToPath(new URL('./fixtures/mapping-node.ts', import.meta.url))
const BIN = fileURLToPath(new URL('../../bin/ts-libp2p.js', import.meta.url))
const skip = await miniupnpdSkip()

interface Event { event: string, [key: string]: any }

function startNode (host: LabHost, config: object): ProcessLines {
  return processLines(host.namespace.spawn(process.execPath, [FIXTURE, JSON.stringify(config)], { env: { ...process.env, DEBUG: '' } }))
}

async function nextEvent (node: ProcessLines, name: string, match: (e: Event) => boolean = () => true, timeoutMs = 20_000): Promise<Event> {
  return JSON.parse(await node.nextLine(line => { try { const e = JSON.parse(line); return e.event === name && match(e) } catch { return false } }, timeoutMs))
}

/** Stops the node with SIGTERM and waits for its own report that stop() finished. */
async function stopNode (node: ProcessLines): Promise<void> {
  node.child.kill('SIGTERM')
  await nextEvent(node, 'stopped')
  await node.stop()
}

/** A ts-libp2p ping from the lab's internet host to `addr`: resolves with the ping line. */
async function pingFromInternet (lab: NatLab, addr: string): Promise<{ seq: number, rttMs: number }> {
  const out = await lab.relay.namespace.exec(process.execPath, [BIN, 'ping', addr, '--count', '1', '--timeout', '10000'])
  return JSON.parse(out.trim().split('\n')[0])
}

describe('port mapping against miniupnpd', { skip }, () => {
  let lab: NatLab
  let dir: string
  let router: Miniupnpd
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-upnp-'))
    lab = await createNatLab({ natA: 'eim', natB: 'eim', delayMs: 0 })
    router = await startMiniupnpd(lab.routerA.namespace, { dir, lanAddress: '10.0.0.1' })
  })
  after(async () => {
    await router?.stop()
    await lab?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  for (const protocol of ['upnp', 'nat-pmp'] as const) {
    it(`${protocol}: maps the listen port, an internet peer pings the mapped address, stop removes it from the router`, async () => {
      const port = protocol === 'upnp' ? 4101 : 4102
      const node = startNode(lab.hostA, { port, nat: { protocols: [protocol] } })
      try {
        const { peerId } = await nextEvent(node, 'started')
        const mapped = await nextEvent(node, 'mapped')
        assert.equal(mapped.external, `/ip4/${lab.routerA.wanAddress}/tcp/${port}`)
        assert.equal(mapped.gateway, protocol)
        const table = await router.listMappings(lab.hostA.namespace)
        assert.ok(table.some(m => m.protocol === 'TCP' && m.externalPort === port && m.internalClient === '10.0.0.2' && m.internalPort === port), JSON.stringify(table))
        const pong = await pingFromInternet(lab, `${mapped.external}/p2p/${peerId}`)
        assert.equal(pong.seq, 1)
        await stopNode(node)
        const after = await router.listMappings(lab.hostA.namespace)
        assert.equal(after.filter(m => m.externalPort === port).length, 0, `removed on stop: ${JSON.stringify(after)}`)
      } finally {
        await node.stop()
      }
    })
  }

  it('upnp: a short lease is renewed at half-life in the router\'s table', async () => {
    const node = startNode(lab.hostA, { port: 4103, nat: { protocols: ['upnp'], leaseSeconds: 4 } })
    try {
      await nextEvent(node, 'mapped')
      await router.nextLogLine(line => /AddPortMapping: ext port 4103 .*leaseduration=4\b/.test(line))
      await nextEvent(node, 'renewed', () => true, 10_000)
      // The router saw the renewal as a second AddPortMapping with the same lease.
      await router.nextLogLine(line => /AddPortMapping: ext port 4103 .*leaseduration=4\b/.test(line), 5000)
      const table = await router.listMappings(lab.hostA.namespace)
      const entry = table.find(m => m.externalPort === 4103)
      assert.ok(entry !== undefined && entry.leaseSeconds <= 4, JSON.stringify(table))
      await nextEvent(node, 'renewed', () => true, 10_000)
      assert.ok((await router.listMappings(lab.hostA.namespace)).some(m => m.externalPort === 4103), 'still mapped after two lease halves')
      await stopNode(node)
    } finally {
      await node.stop()
    }
  })

  it('upnp 718: the external port is held by another LAN client, so another one is mapped and reachable', async () => {
    await lab.hostA.namespace.ip(['addr', 'add', '10.0.0.3/24', 'dev', 'eth0'])
    const squatter = startNode(lab.hostA, { squat: { localAddress: '10.0.0.3', port: 4104 } })
    const node = startNode(lab.hostA, { port: 4104, nat: { protocols: ['upnp'] } })
    try {
      await nextEvent(squatter, 'squatted')
      await squatter.stop()
      const { peerId } = await nextEvent(node, 'started')
      const mapped = await nextEvent(node, 'mapped')
      const externalPort = Number(mapped.external.split('/')[4])
      assert.notEqual(externalPort, 4104)
      await router.nextLogLine(line => line.includes('Returning UPnPError 718'), 5000)
      const table = await router.listMappings(lab.hostA.namespace)
      assert.ok(table.some(m => m.externalPort === 4104 && m.internalClient === '10.0.0.3'), JSON.stringify(table))
      assert.ok(table.some(m => m.externalPort === externalPort && m.internalClient === '10.0.0.2' && m.internalPort === 4104), JSON.stringify(table))
      assert.equal((await pingFromInternet(lab, `${mapped.external}/p2p/${peerId}`)).seq, 1)
      await stopNode(node)
    } finally {
      await node.stop()
      await squatter.stop()
    }
  })

  it('ts-libp2p start maps its port by default; with --no-nat-traversal it does not', async () => {
    const cli = (port: number, ...flags: string[]): ProcessLines => processLines(lab.hostA.namespace.spawn(process.execPath,
      [BIN, 'start', '--listen', `/ip4/0.0.0.0/tcp/${port}`, '--data-dir', join(dir, `cli-${port}`), ...flags], { env: { ...process.env, DEBUG: '' } }))
    const quiet = cli(4107, '--no-nat-traversal')
    let mapping: ProcessLines | undefined
    try {
      await quiet.nextLine(line => line.includes('"peerId"'))
      mapping = cli(4108)
      await mapping.nextLine(line => line.includes('"peerId"'))
      // Whichever protocol answered first (both are on by default): UPnP's or NAT-PMP's request in the router's log.
      await router.nextLogLine(line => /AddPortMapping: ext port 4108 |port mapping request : 4108->/.test(line))
      const table = await router.listMappings(lab.hostA.namespace)
      assert.ok(table.some(m => m.externalPort === 4108 && m.internalPort === 4108), JSON.stringify(table))
      assert.ok(!table.some(m => m.internalPort === 4107), `--no-nat-traversal mapped nothing: ${JSON.stringify(table)}`)
      await mapping.stop()
      assert.ok(!(await router.listMappings(lab.hostA.namespace)).some(m => m.internalPort === 4108), 'removed when the command stops')
    } finally {
      await quiet.stop()
      await mapping?.stop()
    }
  })

  it('UPnP + AutoNAT: the mapped address is confirmed and announced, reachability is public, no relay is used', async () => {
    const cli = (host: LabHost, name: string, args: string[]): ProcessLines => processLines(host.namespace.spawn(process.execPath,
      [BIN, 'start', '--data-dir', join(dir, name), '--events', ...args], { env: { ...process.env, DEBUG: '' } }))
    const startLine = async (node: ProcessLines): Promise<{ peerId: string, addrs: string[] }> => JSON.parse(await node.nextLine(line => line.includes('"peerId"')))
    // Two AutoNAT servers on the internet (a per-address verdict needs two agreeing dial-backs);
    // the first is also a relay, so a node that believed itself private would reserve there.
    const relay = cli(lab.relay, 'relay', ['--listen', `/ip4/${lab.relay.address}/tcp/4001`, '--relay-server'])
    const second = cli(lab.relay, 'server2', ['--listen', `/ip4/${lab.relay.address}/tcp/4002`])
    let node: ProcessLines | undefined
    try {
      const servers = [await startLine(relay), await startLine(second)].map(s => s.addrs.find(a => a.includes(lab.relay.address))!)
      node = cli(lab.hostA, 'behind-upnp', ['--listen', '/ip4/0.0.0.0/tcp/4110', ...servers.flatMap(a => ['--bootstrap', a])])
      const { peerId } = await startLine(node)
      const mapped = `/ip4/${lab.routerA.wanAddress}/tcp/4110/p2p/${peerId}`
      const events: Event[] = []
      const reachable = JSON.parse(await node.nextLine(line => {
        const e = JSON.parse(line) as Event
        events.push(e)
        return e.event === 'reachability' && e.status === 'public'
      }, 60_000)) as Event
      const announced = events.some(e => e.event === 'self:peer:update' && e.addrs.includes(mapped))
        ? true
        : (await nextEvent(node, 'self:peer:update', e => e.addrs.includes(mapped), 30_000)) !== undefined
      assert.ok(announced)
      assert.ok(reachable.addrs.some((a: string) => a.startsWith(`/ip4/${lab.routerA.wanAddress}/tcp/4110`)), JSON.stringify(reachable))
      assert.deepEqual(events.filter(e => e.event === 'relay:reservation'), [], 'no relay reservation')
      assert.ok(!events.some(e => e.event === 'self:peer:update' && e.addrs.some((a: string) => a.includes('p2p-circuit'))), 'no relayed address announced')
      // And the internet reaches the announced address directly.
      assert.equal((await pingFromInternet(lab, mapped)).seq, 1)
    } finally {
      await node?.stop()
      await second.stop()
      await relay.stop()
    }
  })

  it('double NAT: a router whose WAN address is CGNAT gets no mapping', async () => {
    const routerB = lab.routerB.namespace
    await routerB.ip(['addr', 'flush', 'dev', 'wan'])
    await routerB.ip(['addr', 'add', '100.64.0.12/24', 'dev', 'wan'])
    const dirB = await mkdtemp(join(tmpdir(), 'ts-libp2p-upnp-b-'))
    const routerBd = await startMiniupnpd(routerB, { dir: dirB, lanAddress: '10.0.0.1' })
    const node = startNode(lab.hostB, { port: 4105, nat: {} })
    try {
      const refused = await nextEvent(node, 'state', e => e.state === 'double-nat')
      assert.equal(refused.error, 'DoubleNatError')
      assert.deepEqual(await routerBd.listMappings(lab.hostB.namespace), [])
      await stopNode(node)
    } finally {
      await node.stop()
      await routerBd.stop()
      await rm(dirB, { recursive: true, force: true })
    }
  })
})
