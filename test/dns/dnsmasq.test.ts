/**
 * /dns4, /dns6, /dns and /dnsaddr resolution against a real DNS server (dnsmasq, in a network
 * namespace, serving zone data written here): chains filtered by peer id, a loop, a chain too
 * deep and an answer too large, each a typed error.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dnsLabSkip, DNS_SERVER, startDnsLab, startDnsServer, type DnsLab } from './dnsmasq.ts'
import { CLI, NetworkNamespace, processLines } from '../support/lab/index.ts'
import type { ProcessLines } from '../support/lab/index.ts'
import { LAB_PREFIX, registerForTeardown, unregisterForTeardown } from '../support/lab/teardown.ts'

const PROBE = fileURLToPath(new URL('./fixtures/resolve.ts', import.meta.url))
const skip = await dnsLabSkip()

async function newPeerId (): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

describe('DNS resolution against dnsmasq', { skip }, () => {
  let lab: DnsLab
  let p1: string
  let p2: string

  async function resolve (addr: string, limits?: object, doh = false): Promise<{ addrs?: string[], error?: { name: string, code: string, message: string } }> {
    const out = await lab.namespace.exec(process.execPath, [PROBE, DNS_SERVER, addr, ...(limits === undefined ? [] : [JSON.stringify(limits)]), ...(doh ? ['--doh'] : [])])
    return JSON.parse(out.trim())
  }

  before(async () => {
    p1 = await newPeerId()
    p2 = await newPeerId()
    const deep: Record<string, string[]> = {}
    for (let i = 0; i < 12; i++) deep[`_dnsaddr.d${i}.test`] = [`dnsaddr=/dnsaddr/d${i + 1}.test`]
    deep['_dnsaddr.d12.test'] = [`dnsaddr=/ip4/10.9.0.1/tcp/1/p2p/${p1}`]
    const huge: string[] = []
    for (let i = 0; i < 300; i++) huge.push(`dnsaddr=/ip4/10.3.${i >> 8}.${i & 0xff}/tcp/4001/p2p/${p1}`)
    lab = await startDnsLab('dns', {
      a: { 'host.test': ['10.1.0.1', '10.1.0.2'], 'both.test': ['10.1.1.1'] },
      aaaa: { 'host6.test': ['fd00::1'], 'both.test': ['fd00::2'] },
      txt: {
        '_dnsaddr.boot.test': [`dnsaddr=/dnsaddr/p1.boot.test/p2p/${p1}`, `dnsaddr=/dnsaddr/p2.boot.test/p2p/${p2}`],
        '_dnsaddr.p1.boot.test': [`dnsaddr=/dns4/host.test/tcp/4001/p2p/${p1}`, `dnsaddr=/ip4/10.2.0.1/udp/4001/quic-v1/p2p/${p1}`, 'not a dnsaddr record', 'dnsaddr=/not/a/multiaddr'],
        '_dnsaddr.p2.boot.test': [`dnsaddr=/ip4/10.2.0.2/tcp/4001/p2p/${p2}`],
        '_dnsaddr.loop-a.test': ['dnsaddr=/dnsaddr/loop-b.test'],
        '_dnsaddr.loop-b.test': ['dnsaddr=/dnsaddr/loop-a.test'],
        '_dnsaddr.huge.test': huge,
        ...deep
      }
    })
  })

  after(async () => { await lab?.destroy() })

  test('/dns4, /dns6 and /dns become one address per A and AAAA record', async () => {
    assert.deepEqual((await resolve('/dns4/host.test/tcp/4001')).addrs?.sort(), ['/ip4/10.1.0.1/tcp/4001', '/ip4/10.1.0.2/tcp/4001'])
    assert.deepEqual((await resolve('/dns6/host6.test/tcp/4001')).addrs, ['/ip6/fd00::1/tcp/4001'])
    assert.deepEqual((await resolve('/dns/both.test/udp/1/quic-v1')).addrs?.sort(), ['/ip4/10.1.1.1/udp/1/quic-v1', '/ip6/fd00::2/udp/1/quic-v1'])
  })

  test('a TLS WebSocket keeps its host name as the SNI', async () => {
    assert.deepEqual((await resolve('/dns4/both.test/tcp/443/wss')).addrs, ['/ip4/10.1.1.1/tcp/443/tls/sni/both.test/ws'])
  })

  test('a /dnsaddr chain resolves recursively, keeping only the dialed peer', async () => {
    const only1 = await resolve(`/dnsaddr/boot.test/p2p/${p1}`)
    assert.deepEqual(only1.addrs?.sort(), [`/ip4/10.1.0.1/tcp/4001/p2p/${p1}`, `/ip4/10.1.0.2/tcp/4001/p2p/${p1}`, `/ip4/10.2.0.1/udp/4001/quic-v1/p2p/${p1}`])
    const all = await resolve('/dnsaddr/boot.test')
    assert.equal(all.addrs?.length, 4)
    assert.ok(all.addrs?.includes(`/ip4/10.2.0.2/tcp/4001/p2p/${p2}`))
  })

  test('a name with no record is a DnsResolutionError', async () => {
    assert.equal((await resolve('/dns4/nowhere.test/tcp/1')).error?.code, 'ERR_DNS_RESOLUTION')
    assert.equal((await resolve(`/dnsaddr/nowhere.test/p2p/${p1}`)).error?.code, 'ERR_DNS_RESOLUTION')
  })

  test('a /dnsaddr loop is a DnsaddrLoopError naming the chain', async () => {
    const { error } = await resolve('/dnsaddr/loop-a.test')
    assert.equal(error?.name, 'DnsaddrLoopError')
    assert.match(error?.message ?? '', /loop-a\.test -> loop-b\.test -> loop-a\.test/)
  })

  test('a chain deeper than the limit is a DnsaddrLimitError; within the limit it resolves', async () => {
    const { error } = await resolve('/dnsaddr/d0.test')
    assert.equal(error?.name, 'DnsaddrLimitError')
    assert.match(error?.message ?? '', /deeper than 8/)
    assert.deepEqual((await resolve('/dnsaddr/d0.test', { maxDepth: 13 })).addrs, [`/ip4/10.9.0.1/tcp/1/p2p/${p1}`])
  })

  test('a huge TXT answer (300 records, over TCP) is a DnsAnswerTooLargeError', async () => {
    const { error } = await resolve(`/dnsaddr/huge.test/p2p/${p1}`)
    assert.equal(error?.name, 'DnsAnswerTooLargeError')
    assert.match(error?.message ?? '', /300 TXT records/)
  })

  test('DNS-over-HTTPS (the browser resolver) reads the same answers through an RFC 8484 endpoint', async () => {
    assert.deepEqual((await resolve('/dns6/host6.test/tcp/4001', undefined, true)).addrs, ['/ip6/fd00::1/tcp/4001'])
    const only1 = await resolve(`/dnsaddr/boot.test/p2p/${p1}`, undefined, true)
    assert.equal(only1.addrs?.length, 3, JSON.stringify(only1))
    assert.equal((await resolve('/dnsaddr/loop-a.test', undefined, true)).error?.name, 'DnsaddrLoopError')
    assert.equal((await resolve('/dns4/nowhere.test/tcp/1', undefined, true)).error?.code, 'ERR_DNS_RESOLUTION')
  })
})

describe('a node bootstraps from a /dnsaddr list served by dnsmasq', { skip }, () => {
  let namespace: NetworkNamespace
  const dirs: string[] = []

  async function start (args: string[]): Promise<ProcessLines> {
    const dir = await mkdtemp(join(tmpdir(), 'tsdnsaddr-'))
    dirs.push(dir)
    return processLines(namespace.spawn(process.execPath, [CLI, 'start', '--data-dir', dir, '--listen', '/ip4/127.0.0.1/tcp/0', '--events', ...args], { env: { ...process.env, DEBUG: '' } }))
  }

  before(async () => {
    namespace = await NetworkNamespace.create(`${LAB_PREFIX}${process.pid}dnsboot`)
    registerForTeardown(namespace)
  })

  after(async () => {
    namespace?.destroySync()
    if (namespace !== undefined) unregisterForTeardown(namespace)
    await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
  })

  test('ts-libp2p start --bootstrap /dnsaddr/<name>/p2p/<id> --dns-server <dnsmasq> connects to the peer', async () => {
    const seed = await start([])
    const { peerId, addrs } = JSON.parse(await seed.nextLine(l => l.startsWith('{"peerId"'), 20_000)) as { peerId: string, addrs: string[] }
    const port = addrs[0].split('/')[4]
    const other = await newPeerId()
    const dns = await startDnsServer(namespace, {
      a: { 'seed.lan.test': ['127.0.0.1'] },
      txt: {
        '_dnsaddr.bootstrap.lan.test': [`dnsaddr=/dnsaddr/seed.lan.test/p2p/${peerId}`, `dnsaddr=/ip4/127.0.0.1/tcp/1/p2p/${other}`],
        '_dnsaddr.seed.lan.test': [`dnsaddr=/dns4/seed.lan.test/tcp/${port}/p2p/${peerId}`]
      }
    })
    try {
      const joiner = await start(['--bootstrap', `/dnsaddr/bootstrap.lan.test/p2p/${peerId}`, '--dns-server', DNS_SERVER])
      const line = await joiner.nextLine(l => l.includes('"event":"peer:connect"') && l.includes(peerId), 20_000)
      assert.match(line, new RegExp(`/ip4/127\\.0\\.0\\.1/tcp/${port}`))
      // the answers came from dnsmasq: its log shows the TXT queries of the chain
      await dns.server.nextLine(l => /query\[TXT\] _dnsaddr\.seed\.lan\.test/.test(l), 5_000)
      await joiner.stop()
    } finally {
      await seed.stop()
      await dns.stop()
    }
  })
})
