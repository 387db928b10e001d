/**
 * mDNS on a real LAN of network namespaces (veths into a bridge): real multicast, never on the
 * machine's own interfaces. ts-libp2p nodes (the CLI, offline but with --mdns) find each other,
 * advertise only their LAN addresses, and connect.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { natLabSkip, processLines, CLI } from '../support/lab/index.ts'
import type { ProcessLines } from '../support/lab/index.ts'
import { createLan, LAN_PREFIX, type Lan, type LanHost } from './lan.ts'

const skip = await natLabSkip()

/** A line printed already (perhaps before lines awaited earlier) or the next one that matches. */
async function lineSoFarOrNext (node: ProcessLines, match: (line: string) => boolean, timeoutMs = 20_000): Promise<string> {
  return node.stdoutText().split('\n').find(match) ?? await node.nextLine(match, timeoutMs)
}

describe('mDNS on a LAN of namespaces', { skip }, () => {
  let lan: Lan
  const dirs: string[] = []

  async function startTs (host: LanHost, args: string[] = []): Promise<{ node: ProcessLines, peerId: string, addrs: string[] }> {
    const dir = await mkdtemp(join(tmpdir(), 'tsmdns-'))
    dirs.push(dir)
    const node = processLines(host.namespace.spawn(process.execPath, [CLI, 'start', '--data-dir', dir, '--offline', '--mdns', '--no-nat-traversal',
      '--listen', '/ip4/0.0.0.0/tcp/0', '--listen', '/ip4/127.0.0.1/tcp/0', '--events', ...args], { env: { ...process.env, DEBUG: process.env.LAB_DEBUG ?? '' } }))
    const start = JSON.parse(await node.nextLine(l => l.startsWith('{"peerId"'), 20_000)) as { peerId: string, addrs: string[] }
    return { node, ...start }
  }

  before(async () => { lan = await createLan('mdns', 3) })
  after(async () => {
    lan?.destroy()
    await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
  })

  test('ts finds ts: peer:discovery with LAN addresses only, then a connection', async () => {
    const a = await startTs(lan.hosts[0])
    const b = await startTs(lan.hosts[1])
    try {
      const found = JSON.parse(await b.node.nextLine(l => l.includes('"event":"peer:discovery"') && l.includes(a.peerId), 20_000)) as { multiaddrs: string[] }
      assert.ok(found.multiaddrs.length > 0)
      for (const addr of found.multiaddrs) {
        assert.ok(addr.startsWith(`/ip4/${LAN_PREFIX}1/tcp/`) || addr.startsWith('/ip6/fe80'), `only LAN addresses are advertised: ${addr}`)
      }
      assert.ok(!found.multiaddrs.some(a => a.includes('127.0.0.1')), 'no loopback address on the LAN')
      // and the other way round
      await a.node.nextLine(l => l.includes('"event":"peer:discovery"') && l.includes(b.peerId), 20_000)
      // below --min-connections (default 8 with mDNS on) the connection manager dials what it found
      const connected = JSON.parse(await lineSoFarOrNext(b.node, l => l.includes('"event":"peer:connect"') && l.includes(a.peerId))) as { addr: string }
      assert.match(connected.addr, /^\/ip[46]\/(10\.77\.0\.1|fe80)/)
    } finally {
      await a.node.stop()
      await b.node.stop()
    }
  })

  test('hostile packets on the LAN (garbage, a pointer loop, truncated, oversized) crash nothing; discovery goes on', async () => {
    const a = await startTs(lan.hosts[0])
    try {
      // from the third host: each a datagram to the mDNS group
      const script = [
        'import socket, os',
        's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
        'g = ("224.0.0.251", 5353)',
        'hdr = bytes([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0])',
        's.sendto(os.urandom(64), g)',
        's.sendto(hdr + bytes([0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 120, 0, 2, 0xc0, 12]), g)',
        's.sendto(hdr + bytes([4, 95, 112, 50, 112]), g)',
        's.sendto(hdr + bytes(9000), g)',
        's.sendto(bytes([0, 0, 0x84, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0]), g)'
      ].join('\n')
      await lan.hosts[2].namespace.exec('python3', ['-c', script])
      const b = await startTs(lan.hosts[1])
      try {
        await lineSoFarOrNext(a.node, l => l.includes('"event":"peer:discovery"') && l.includes(b.peerId))
        assert.equal(a.node.child.exitCode, null, 'still running')
      } finally {
        await b.node.stop()
      }
    } finally {
      await a.node.stop()
    }
  })
})

describe('mDNS on an IPv6-only LAN', { skip }, () => {
  let lan6: Lan
  const dirs6: string[] = []
  before(async () => { lan6 = await createLan('mdns6', 2, { ipv4: false }) })
  after(async () => {
    lan6?.destroy()
    await Promise.all(dirs6.map(async d => { await rm(d, { recursive: true, force: true }) }))
  })

  test('ts finds ts over IPv6 multicast (ff02::fb), advertising its unique-local address', async () => {
    const start = async (host: LanHost): Promise<{ node: ProcessLines, peerId: string }> => {
      const dir = await mkdtemp(join(tmpdir(), 'tsmdns6-'))
      dirs6.push(dir)
      const node = processLines(host.namespace.spawn(process.execPath, [CLI, 'start', '--data-dir', dir, '--offline', '--mdns', '--no-nat-traversal', '--min-connections', '0',
        '--listen', '/ip6/::/tcp/0', '--events'], { env: { ...process.env, DEBUG: '' } }))
      return { node, ...JSON.parse(await node.nextLine(l => l.startsWith('{"peerId"'), 20_000)) }
    }
    const a = await start(lan6.hosts[0])
    const b = await start(lan6.hosts[1])
    try {
      const found = JSON.parse(await lineSoFarOrNext(b.node, l => l.includes('"event":"peer:discovery"') && l.includes(a.peerId))) as { multiaddrs: string[] }
      assert.ok(found.multiaddrs.length > 0 && found.multiaddrs.every(m => m.startsWith('/ip6/fd77::1/tcp/')), JSON.stringify(found))
    } finally {
      await a.node.stop()
      await b.node.stop()
    }
  })
})
