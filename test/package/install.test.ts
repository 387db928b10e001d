/**
 * The package as an application gets it from the registry: compiled to dist/ with
 * declarations, package.json "imports" pointed at dist (scripts/pack-imports.ts, as `npm pack`
 * does), installed under a node_modules directory where Node strips no types. A plain
 * JavaScript consumer then imports the root and subpath exports, runs two nodes that dial and
 * ping each other over TCP + Noise + Yamux, uses a secp256k1 key (loaded on first use), loads
 * every subpath export and finds no component at the root, and runs the `ts-libp2p` command; a
 * TypeScript application is checked against the installed declarations.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pointImports } from '../../scripts/pack-imports.ts'
import type { PackageImports } from '../../scripts/pack-imports.ts'

const REPO = fileURLToPath(new URL('../../', import.meta.url))

const CONSUMER = `
import { readFileSync } from 'node:fs'
import * as front from 'ts-libp2p'
import { createLibp2p, generateKeyPair, multiaddr } from 'ts-libp2p'
import { tcp } from 'ts-libp2p/tcp'
import { noise } from 'ts-libp2p/noise'
import { yamux } from 'ts-libp2p/yamux'
import { ping } from 'ts-libp2p/ping'
import { peerIdFromPrivateKey } from 'ts-libp2p/peer'

const options = () => ({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: { ping: ping() } })
const server = await createLibp2p({ ...options(), addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] } })
const client = await createLibp2p(options())
const rtt = await client.services.ping.ping(multiaddr(server.getMultiaddrs()[0].toString()))
const secp = await generateKeyPair('secp256k1')
const signature = await secp.sign(new Uint8Array([1, 2, 3]))
const verified = await secp.publicKey.verify(new Uint8Array([1, 2, 3]), signature)
// every subpath the package exports loads from dist; the front door holds no component
const { exports } = JSON.parse(readFileSync(new URL('./node_modules/ts-libp2p/package.json', import.meta.url), 'utf8'))
const subpaths = []
for (const subpath of Object.keys(exports)) {
  const module = await import(subpath === '.' ? 'ts-libp2p' : 'ts-libp2p' + subpath.slice(1))
  if (Object.keys(module).length > 0) subpaths.push(subpath)
}
const componentsAtRoot = ['tcp', 'noise', 'yamux', 'ping', 'identify', 'kadDHT', 'gossipsub', 'webSockets'].filter(name => name in front)
console.log(JSON.stringify({ rtt, verified, secpPeer: peerIdFromPrivateKey(secp).toString(), server: server.peerId.toString(), subpaths, exported: Object.keys(exports), componentsAtRoot }))
await client.stop()
await server.stop()
`

/** A TypeScript application, checked against the installed declarations (dist/*.d.ts). */
const TYPED_CONSUMER = `
import { createLibp2p, type Libp2p, type PeerId } from 'ts-libp2p'
import { identify, type IdentifyService } from 'ts-libp2p/identify'
import { kadDHT, type KadDHT } from 'ts-libp2p/kad-dht'
import { gossipsub, type GossipSub } from 'ts-libp2p/gossipsub'

export async function start (peer: PeerId): Promise<Libp2p<{ identify: IdentifyService, dht: KadDHT, pubsub: GossipSub }>> {
  const node = await createLibp2p({ start: false, services: { identify: identify(), dht: kadDHT(), pubsub: gossipsub() } })
  node.services.pubsub.subscribe('news')
  await node.peerRouting.findPeer(peer)
  return node
}
`

test('the installed package works from plain JavaScript: root and subpath exports, a dial and a ping, lazy curves, the CLI', { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'ts-libp2p-install-'))
  try {
    const pkgDir = join(root, 'node_modules', 'ts-libp2p')
    mkdirSync(pkgDir, { recursive: true })
    execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(pkgDir, 'dist'), '--sourceMap', 'false'], { stdio: 'inherit' })
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as PackageImports & Record<string, unknown>
    pointImports(pkg, 'dist')
    writeFileSync(join(pkgDir, 'package.json'), JSON.stringify(pkg, null, 2))
    cpSync(join(REPO, 'bin'), join(pkgDir, 'bin'), { recursive: true })
    // The package's own dependencies, as npm would have installed them.
    symlinkSync(join(REPO, 'node_modules'), join(pkgDir, 'node_modules'), 'dir')
    const consumer = join(root, 'consumer.mjs')
    writeFileSync(consumer, CONSUMER)
    const out = JSON.parse(execFileSync(process.execPath, [consumer], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop()!) as { rtt: number, verified: boolean, secpPeer: string, server: string, subpaths: string[], exported: string[], componentsAtRoot: string[] }
    assert.ok(out.rtt >= 0)
    assert.equal(out.verified, true)
    assert.match(out.secpPeer, /^16Uiu2/)
    assert.match(out.server, /^12D3KooW/)
    assert.deepEqual(out.subpaths, out.exported, 'every subpath export loads from dist and exports something')
    assert.deepEqual(out.componentsAtRoot, [], 'components come from their subpaths, not the root')
    // the declarations type a TypeScript application (createLibp2p's Libp2p<Services>, subpaths)
    writeFileSync(join(root, 'typed.ts'), TYPED_CONSUMER)
    execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      '--typeRoots', join(REPO, 'node_modules', '@types'), '--types', 'node', join(root, 'typed.ts')], { cwd: root, stdio: 'inherit' })
    const id = execFileSync(process.execPath, [join(pkgDir, 'bin', 'ts-libp2p.js'), '--help'], { cwd: root, encoding: 'utf8' })
    assert.match(id, /ping/)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})
