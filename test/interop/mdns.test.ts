/**
 * mDNS interop on a LAN of network namespaces (real multicast over veths into a bridge, never
 * on the machine's own interfaces): a ts-libp2p node (the CLI, offline but with --mdns), a
 * js-libp2p node with @libp2p/mdns and a go-libp2p node with p2p/discovery/mdns (zeroconf)
 * each on a host of their own. Each must find the others and be found by them.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { natLabSkip, processLines, CLI } from '../support/lab/index.ts'
import type { ProcessLines } from '../support/lab/index.ts'
import { createLan, LAN_PREFIX, type Lan } from '../discovery/lan.ts'
import { buildGoPeer } from './harness.ts'

const skip = await natLabSkip()
const JS_MDNS_PEER = fileURLToPath(new URL('../../interop/js-peer/mdns-peer.ts', import.meta.url))

interface Started { node: ProcessLines, peerId: string }

/** A line printed already or the next one that matches. */
async function lineSoFarOrNext (node: ProcessLines, match: (line: string) => boolean, timeoutMs = 30_000): Promise<Record<string, any>> {
  return JSON.parse(node.stdoutText().split('\n').find(match) ?? await node.nextLine(match, timeoutMs))
}

function discovered (peerId: string): (line: string) => boolean {
  return line => line.includes('"event":"peer:discovery"') && line.includes(peerId)
}

describe('mDNS interop: ts, js-libp2p (@libp2p/mdns) and go-libp2p on one LAN', { skip, timeout: 600_000 }, () => {
  let lan: Lan
  let dataDir: string
  let ts: Started
  let js: Started
  let go: Started

  before(async () => {
    const goBin = await buildGoPeer()
    lan = await createLan('mdnsx', 3)
    dataDir = await mkdtemp(join(tmpdir(), 'tsmdnsx-'))
    const env = { ...process.env, DEBUG: process.env.LAB_DEBUG ?? '' }
    const tsNode = processLines(lan.hosts[0].namespace.spawn(process.execPath, [CLI, 'start', '--data-dir', dataDir, '--offline', '--mdns', '--no-nat-traversal', '--min-connections', '0', '--listen', '/ip4/0.0.0.0/tcp/0', '--events'], { env }))
    const jsNode = processLines(lan.hosts[1].namespace.spawn(process.execPath, [JS_MDNS_PEER, '--listen', '/ip4/0.0.0.0/tcp/0'], { env }))
    // the go peer shuts down when its stdin closes: keep it open
    const goNode = processLines(lan.hosts[2].namespace.spawn(goBin, ['--listen', '/ip4/0.0.0.0/tcp/0', '--mdns'], { env, stdio: ['pipe', 'pipe', 'pipe'] }))
    ts = { node: tsNode, peerId: JSON.parse(await tsNode.nextLine(l => l.startsWith('{"peerId"'), 30_000)).peerId }
    js = { node: jsNode, peerId: JSON.parse(await jsNode.nextLine(l => l.includes('"event":"ready"'), 30_000)).peerId }
    go = { node: goNode, peerId: JSON.parse(await goNode.nextLine(l => l.includes('"event":"ready"'), 30_000)).peerId }
  })

  after(async () => {
    await Promise.all([ts?.node.stop(), js?.node.stop(), go?.node.stop()])
    lan?.destroy()
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
  })

  test('ts finds the js and the go peer, with their LAN addresses', async () => {
    for (const [other, host] of [[js, 2], [go, 3]] as const) {
      const found = await lineSoFarOrNext(ts.node, discovered(other.peerId))
      assert.ok((found.multiaddrs as string[]).some(a => a.startsWith(`/ip4/${LAN_PREFIX}${host}/tcp/`)), JSON.stringify(found))
    }
  })

  test('js-libp2p\'s @libp2p/mdns finds ts', async () => {
    const found = await lineSoFarOrNext(js.node, discovered(ts.peerId))
    assert.ok((found.addrs as string[]).some(a => a.startsWith(`/ip4/${LAN_PREFIX}1/tcp/`)), JSON.stringify(found))
  })

  test('go-libp2p\'s mDNS finds ts', async () => {
    const found = await lineSoFarOrNext(go.node, discovered(ts.peerId))
    assert.ok((found.addrs as string[]).some(a => a.startsWith(`/ip4/${LAN_PREFIX}1/tcp/`)), JSON.stringify(found))
  })
})
