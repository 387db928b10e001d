/**
 * Bitswap and UnixFS interop with helia (js-libp2p + @helia/bitswap + @helia/unixfs, in a
 * separate process: interop/js-peer/helia-peer.ts), over TCP with Noise and Yamux, both
 * directions: a 20 MiB file added on one side is fetched by the other with the same root CID;
 * and three nodes where the fetcher (helia, then ours), connected only to our DHT router, finds
 * the provider (ours, then helia) through the DHT.
 *
 * js-libp2p's kad-dht pings a peer (/ipfs/ping/1.0.0) before it admits it to its routing table,
 * so our DHT nodes here run ping, as `ts-libp2p start` does: without it helia's table stays
 * empty and its provider lookups never leave the process (what the previous attempt ran into).
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLibp2p, multiaddr, peerIdFromString } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { kadDHT } from '../../src/dht/index.ts'
import { bitswap, type Bitswap } from '../../src/exchange/bitswap/index.ts'
import { addFile, catFile } from '../../src/exchange/unixfs/index.ts'
import { memoryBlockstore } from '../../src/exchange/blockstore.ts'
import { parseCid, type CID } from '../../src/exchange/cid.ts'
import { REPO_ROOT, spawnPeer, stopAll } from './harness.ts'
import { seededBytes } from '../support/random.ts'

const HELIA_PEER = join(REPO_ROOT, 'interop', 'js-peer', 'helia-peer.ts')
const SIZE = 20 * 1024 * 1024

function sha256Hex (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

async function ourNode () {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    connectionManager: { inboundConnectionThreshold: 100_000 },
    services: {
      identify: identify(),
      bitswap: bitswap()
    }
  })
}

/** Polls a condition that has no event (a routing table filling after identify), up to 20 s. */
async function waitUntil (condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 20 s`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

/** A ts node with Bitswap and a DHT server (and ping, which js's DHT needs to admit us). */
async function ourDhtNode (bitswapOptions: Parameters<typeof bitswap>[0] = {}) {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    connectionManager: { inboundConnectionThreshold: 100_000 },
    services: { identify: identify(), ping: ping(), bitswap: bitswap(bitswapOptions), dht: kadDHT({ initialRefresh: false, refreshInterval: 0 }) }
  })
}

async function fetchHash (bs: Bitswap, cid: CID): Promise<{ sha256: string, bytes: number }> {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const part of catFile(cid, bs.createSession(), { signal: AbortSignal.timeout(120_000) })) {
    hash.update(part)
    bytes += part.length
  }
  return { sha256: hash.digest('hex'), bytes }
}

describe('Bitswap interop with helia', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-bitswap-js-'))
  const file = join(dir, 'input.bin')
  const bytes = seededBytes(SIZE, 2026)
  const expected = sha256Hex(bytes)
  const ourCids: Record<0 | 1, string> = { 0: '', 1: '' }

  before(async () => {
    writeFileSync(file, bytes)
    for (const v of [0, 1] as const) ourCids[v] = (await addFile(bytes, memoryBlockstore(), { cidVersion: v })).cid.toString()
  })

  after(async () => {
    await stopAll()
    rmSync(dir, { recursive: true, force: true })
  })

  it('helia adds 20 MiB (kubo defaults, CIDv0) and we fetch it over Bitswap: same root CID, same bytes', async () => {
    const helia = await spawnPeer('js', [], { script: HELIA_PEER })
    const node = await ourNode()
    try {
      const { cid } = await helia.commandOk({ cmd: 'add', path: file, cidVersion: 0 })
      assert.equal(cid, ourCids[0])
      await node.dial(multiaddr(helia.addrs[0]))
      const got = await fetchHash(node.services.bitswap, parseCid(cid))
      assert.deepEqual(got, { sha256: expected, bytes: SIZE })
      const ledger = node.services.bitswap.ledger(peerIdFromString(helia.peerId))
      assert.ok(ledger !== undefined && ledger.bytesReceived >= SIZE, JSON.stringify(ledger))
    } finally {
      await node.stop()
      await helia.stop()
    }
  })

  it('we add 20 MiB (CIDv1, raw leaves) and helia fetches it over Bitswap: same root CID, same bytes', async () => {
    const helia = await spawnPeer('js', [], { script: HELIA_PEER })
    const node = await ourNode()
    try {
      const { cid } = await addFile(bytes, node.services.bitswap.blockstore, { cidVersion: 1 })
      assert.equal(cid.toString(), ourCids[1])
      const { cid: heliaCid } = await helia.commandOk({ cmd: 'add', path: file, cidVersion: 1 })
      assert.equal(heliaCid, cid.toString(), 'helia computes the same CID')
      // a second helia that does not have the file fetches it from us
      const fetcher = await spawnPeer('js', [], { script: HELIA_PEER })
      await fetcher.commandOk({ cmd: 'dial', addr: node.getMultiaddrs()[0].toString() })
      const out = join(dir, 'from-ts.bin')
      const reply = await fetcher.commandOk({ cmd: 'get', cid: cid.toString(), path: out })
      assert.equal(reply.bytes, SIZE)
      assert.equal(sha256Hex(readFileSync(out)), expected)
      const ledger = node.services.bitswap.ledger(peerIdFromString(fetcher.peerId))
      assert.ok(ledger !== undefined && ledger.bytesSent >= SIZE, JSON.stringify(ledger))
      await fetcher.stop()
    } finally {
      await node.stop()
      await helia.stop()
    }
  })

  it('three nodes: the helia fetcher, connected only to our DHT router, finds our provider through the DHT', async () => {
    const router = await ourDhtNode()
    const provider = await ourDhtNode()
    const helia = await spawnPeer('js', ['--dht'], { script: HELIA_PEER })
    try {
      const small = seededBytes(3 * 1024 * 1024, 11)
      const { cid } = await addFile(small, provider.services.bitswap.blockstore, { cidVersion: 1 })
      await provider.dial(router.getMultiaddrs()[0])
      await waitUntil(() => provider.services.dht.routingTable.size > 0, 'the provider\'s routing table')
      await provider.contentRouting.provide(cid, { signal: AbortSignal.timeout(30_000) })
      await helia.commandOk({ cmd: 'dial', addr: router.getMultiaddrs()[0].toString() })
      await waitUntil(async () => ((await helia.commandOk({ cmd: 'dht.routingTable' })).peers as string[]).includes(router.peerId.toString()), 'helia admitting our router to its routing table')
      // helia's routing (its DHT through our router) names our provider with the record's address
      // (helia's own DHT self-query may meet the provider as a closer peer too, so whether they
      // are connected yet is not asserted: the provider lookup is)
      const { providers } = await helia.commandOk({ cmd: 'findProviders', cid: cid.toString() }, 40_000) as unknown as { providers: Array<{ id: string, addrs: string[] }> }
      assert.equal(providers[0]?.id, provider.peerId.toString(), JSON.stringify(providers))
      assert.ok(providers[0].addrs.includes(provider.getMultiaddrs()[0].toString().replace(/\/p2p\/.*$/, '')), JSON.stringify(providers))
      const out = join(dir, 'helia-via-dht.bin')
      const reply = await helia.commandOk({ cmd: 'get', cid: cid.toString(), path: out, timeoutMs: 60_000 }, 90_000)
      assert.equal(reply.bytes, small.length)
      assert.equal(sha256Hex(readFileSync(out)), sha256Hex(small))
      assert.ok((provider.services.bitswap.ledger(peerIdFromString(helia.peerId))?.bytesSent ?? 0) >= small.length, 'the blocks came from our provider')
    } finally {
      await helia.stop()
      await provider.stop()
      await router.stop()
    }
  })

  it('three nodes: our fetcher, connected only to our DHT router, finds the helia provider through the DHT', async () => {
    const router = await ourDhtNode()
    const fetcher = await ourDhtNode({ providerLookupDelay: 200 })
    const helia = await spawnPeer('js', ['--dht'], { script: HELIA_PEER })
    try {
      const small = join(dir, 'helia-provides.bin')
      const smallBytes = seededBytes(3 * 1024 * 1024, 12)
      writeFileSync(small, smallBytes)
      const { cid } = await helia.commandOk({ cmd: 'add', path: small, cidVersion: 1 })
      await helia.commandOk({ cmd: 'dial', addr: router.getMultiaddrs()[0].toString() })
      await waitUntil(async () => ((await helia.commandOk({ cmd: 'dht.routingTable' })).peers as string[]).includes(router.peerId.toString()), 'helia admitting our router to its routing table')
      await helia.commandOk({ cmd: 'provide', cid }, 70_000)
      await fetcher.dial(router.getMultiaddrs()[0])
      await waitUntil(() => fetcher.services.dht.routingTable.size > 0, 'the fetcher\'s routing table')
      // our content routing (the DHT through our router) names helia, with an address to dial
      let found: { id: { toString(): string }, multiaddrs: unknown[] } | undefined
      for await (const p of fetcher.contentRouting.findProviders(parseCid(String(cid)), { signal: AbortSignal.timeout(30_000) })) { found = p; break }
      assert.equal(found?.id.toString(), helia.peerId)
      assert.ok((found?.multiaddrs.length ?? 0) > 0, 'the provider record carries helia\'s addresses')
      const got = await fetchHash(fetcher.services.bitswap, parseCid(String(cid)))
      assert.deepEqual(got, { sha256: sha256Hex(smallBytes), bytes: smallBytes.length })
      assert.ok((fetcher.services.bitswap.ledger(peerIdFromString(helia.peerId))?.bytesReceived ?? 0) >= smallBytes.length, 'the blocks came from helia')
    } finally {
      await fetcher.stop()
      await router.stop()
      await helia.stop()
    }
  })
})
