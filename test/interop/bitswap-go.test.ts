/**
 * Bitswap and UnixFS interop with go (boxo's bitswap, importer and DAG reader in
 * interop/go-peer/bitswap.go), over TCP with Noise and Yamux, both directions: a 20 MiB file
 * added on one side is fetched by the other, with the root CID both sides compute; and three
 * nodes where the fetcher (ours, then go) finds the provider (go, then ours) through the DHT.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLibp2p, multiaddr, peerIdFromString } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { bitswap } from '../../src/exchange/bitswap/index.ts'
import { kadDHT } from '../../src/dht/index.ts'
import { addFile, catFile } from '../../src/exchange/unixfs/index.ts'
import { memoryBlockstore } from '../../src/exchange/blockstore.ts'
import { parseCid } from '../../src/exchange/cid.ts'
import { buildGoPeer, spawnPeer, stopAll } from './harness.ts'
import { seededBytes } from '../support/random.ts'

const SIZE = 20 * 1024 * 1024
const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** Polls a condition that has no event (a routing table filling after identify), up to 20 s. */
async function waitUntil (condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 20 s')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

async function ourNode () {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    connectionManager: { inboundConnectionThreshold: 100_000 },
    services: { identify: identify(), bitswap: bitswap() }
  })
}

describe('Bitswap interop with go (boxo)', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-bitswap-go-'))
  const file = join(dir, 'input.bin')
  const bytes = seededBytes(SIZE, 2027)

  before(async () => {
    writeFileSync(file, bytes)
    await buildGoPeer()
  }, { timeout: 600_000 })

  after(async () => {
    await stopAll()
    rmSync(dir, { recursive: true, force: true })
  })

  for (const cidVersion of [0, 1] as const) {
    it(`go adds 20 MiB (CIDv${cidVersion}${cidVersion === 1 ? ', raw leaves' : ', kubo defaults'}) and we fetch it: same root CID, same bytes`, async () => {
      const go = await spawnPeer('go', ['--bitswap'])
      const node = await ourNode()
      try {
        const { cid } = await go.commandOk({ cmd: 'bitswap.add', path: file, cidVersion })
        assert.equal(cid, (await addFile(bytes, memoryBlockstore(), { cidVersion })).cid.toString())
        await node.dial(multiaddr(go.addrs[0]))
        const hash = createHash('sha256')
        let got = 0
        for await (const part of catFile(parseCid(cid), node.services.bitswap.createSession(), { signal: AbortSignal.timeout(120_000) })) {
          hash.update(part)
          got += part.length
        }
        assert.equal(got, SIZE)
        assert.equal(hash.digest('hex'), sha256Hex(bytes))
        assert.ok((node.services.bitswap.ledger(peerIdFromString(go.peerId))?.bytesReceived ?? 0) >= SIZE)
      } finally {
        await node.stop()
        await go.stop()
      }
    })
  }

  it('we add 20 MiB (CIDv1, raw leaves) and go fetches it: same bytes, our ledger shows them sent', async () => {
    const go = await spawnPeer('go', ['--bitswap'])
    const node = await ourNode()
    try {
      const { cid } = await addFile(bytes, node.services.bitswap.blockstore, { cidVersion: 1 })
      await go.commandOk({ cmd: 'dial', addr: node.getMultiaddrs()[0].toString() })
      const out = join(dir, 'from-ts.bin')
      const reply = await go.commandOk({ cmd: 'bitswap.get', cid: cid.toString(), path: out }, 180_000)
      assert.equal(reply.bytes, SIZE)
      assert.equal(sha256Hex(readFileSync(out)), sha256Hex(bytes))
      assert.ok((node.services.bitswap.ledger(peerIdFromString(go.peerId))?.bytesSent ?? 0) >= SIZE)
      const ledger = await go.commandOk({ cmd: 'bitswap.ledger', peer: node.peerId.toString() })
      assert.ok(Number(ledger.received) >= SIZE, JSON.stringify(ledger))
    } finally {
      await node.stop()
      await go.stop()
    }
  })

  it('three nodes: our fetcher, connected only to our DHT router, finds the go provider through the DHT', async () => {
    const router = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      connectionManager: { inboundConnectionThreshold: 100_000 },
      services: { identify: identify(), bitswap: bitswap(), dht: kadDHT({ initialRefresh: false, refreshInterval: 0 }) }
    })
    const fetcher = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      services: { identify: identify(), bitswap: bitswap({ providerLookupDelay: 200 }), dht: kadDHT({ initialRefresh: false, refreshInterval: 0 }) }
    })
    const go = await spawnPeer('go', ['--bitswap', '--dht', 'server'])
    try {
      const small = join(dir, 'small.bin')
      const smallBytes = seededBytes(3 * 1024 * 1024, 8)
      writeFileSync(small, smallBytes)
      const { cid } = await go.commandOk({ cmd: 'bitswap.add', path: small, cidVersion: 1 })
      await go.commandOk({ cmd: 'dial', addr: router.getMultiaddrs()[0].toString() })
      await waitUntil(() => router.services.dht.routingTable.size > 0)
      // go's own table fills after its identify of the router: provide only once it has it
      for (let tries = 0; ; tries++) {
        const { peers } = await go.commandOk({ cmd: 'dht.routingTable' })
        if (Array.isArray(peers) && peers.length > 0) break
        if (tries > 400) throw new Error('the go peer never added the router to its routing table')
        await new Promise(resolve => setTimeout(resolve, 25))
      }
      await go.commandOk({ cmd: 'dht.provide', cid })
      await fetcher.dial(router.getMultiaddrs()[0])
      await waitUntil(() => fetcher.services.dht.routingTable.size > 0)
      assert.equal(fetcher.getConnections(peerIdFromString(go.peerId)).length, 0, 'the fetcher does not know the provider yet')
      const hash = createHash('sha256')
      for await (const part of catFile(parseCid(cid), fetcher.services.bitswap.createSession(), { signal: AbortSignal.timeout(60_000) })) hash.update(part)
      assert.equal(hash.digest('hex'), sha256Hex(smallBytes))
      assert.ok((fetcher.services.bitswap.ledger(peerIdFromString(go.peerId))?.bytesReceived ?? 0) >= smallBytes.length)
    } finally {
      await fetcher.stop()
      await router.stop()
      await go.stop()
    }
  })

  it('three nodes: the go fetcher, connected only to our DHT router, finds our provider through the DHT', async () => {
    const dhtNode = async () => await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      connectionManager: { inboundConnectionThreshold: 100_000 },
      services: { identify: identify(), bitswap: bitswap(), dht: kadDHT({ initialRefresh: false, refreshInterval: 0 }) }
    })
    const router = await dhtNode()
    const provider = await dhtNode()
    const go = await spawnPeer('go', ['--bitswap', '--dht', 'server'])
    try {
      const smallBytes = seededBytes(3 * 1024 * 1024, 9)
      const { cid } = await addFile(smallBytes, provider.services.bitswap.blockstore, { cidVersion: 1 })
      await provider.dial(router.getMultiaddrs()[0])
      await waitUntil(() => provider.services.dht.routingTable.size > 0)
      await provider.contentRouting.provide(cid, { signal: AbortSignal.timeout(30_000) })
      await go.commandOk({ cmd: 'dial', addr: router.getMultiaddrs()[0].toString() })
      await waitUntil(() => router.services.dht.routingTable.size > 1)
      const out = join(dir, 'go-via-dht.bin')
      const reply = await go.commandOk({ cmd: 'bitswap.get', cid: cid.toString(), path: out }, 90_000)
      assert.equal(reply.bytes, smallBytes.length)
      assert.equal(sha256Hex(readFileSync(out)), sha256Hex(smallBytes))
      assert.ok((provider.services.bitswap.ledger(peerIdFromString(go.peerId))?.bytesSent ?? 0) >= smallBytes.length)
    } finally {
      await go.stop()
      await provider.stop()
      await router.stop()
    }
  })
})
