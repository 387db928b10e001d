/**
 * Bitswap between ts nodes (memory transport, real Yamux streams): files fetched whole and
 * verified, spread over several providers, blocks found through a DHT provider record, the
 * ledger, and a lying peer detected and no longer trusted.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryNetwork } from '../../src/transport/memory/index.ts'
import { bitswap, BITSWAP_120, BITSWAP_110, BITSWAP_100, BITSWAP_LEGACY, encodeMessageLP, decodeMessage, type Bitswap } from '../../src/exchange/bitswap/index.ts'
import { addFile, catFile } from '../../src/exchange/unixfs/index.ts'
import { cidOf, cidPrefix, CODEC_RAW } from '../../src/exchange/cid.ts'
import { BlockHashMismatchError } from '../../src/exchange/errors.ts'
import { FrameReader } from '../../src/exchange/bitswap/frames.ts'
import { createMemoryNode } from '../support/memory-node.ts'
import { kadDHT } from '../../src/dht/index.ts'
import { seededBytes } from '../support/random.ts'
import type { CID } from 'multiformats/cid'

const MIB = 1024 * 1024

async function bitswapNode (network: MemoryNetwork, options: Parameters<typeof bitswap>[0] = {}) {
  return await createMemoryNode({ network, services: { bitswap: bitswap(options) } })
}

async function fetchFile (bs: Bitswap, cid: CID): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of catFile(cid, bs.createSession())) parts.push(part.slice())
  return new Uint8Array(Buffer.concat(parts))
}

test('a 6 MiB file (CIDv0 and CIDv1 raw leaves) added on one node is fetched by another', async () => {
  const network = new MemoryNetwork()
  const provider = await bitswapNode(network)
  const fetcher = await bitswapNode(network)
  try {
    for (const cidVersion of [0, 1] as const) {
      const bytes = seededBytes(6 * MIB + 123, 40 + cidVersion)
      const { cid } = await addFile(bytes, provider.services.bitswap.blockstore, { cidVersion })
      await fetcher.dial(provider.getMultiaddrs()[0])
      assert.deepEqual(await fetchFile(fetcher.services.bitswap, cid), bytes)
      assert.ok(await fetcher.services.bitswap.has(cid), 'fetched blocks are stored')
    }
    const ledger = provider.services.bitswap.ledger(fetcher.peerId)
    assert.ok(ledger !== undefined && ledger.blocksSent >= 2 * 25 && ledger.bytesSent >= 12 * MIB, JSON.stringify(ledger))
    const theirs = fetcher.services.bitswap.ledger(provider.peerId)
    assert.equal(theirs?.bytesReceived, ledger.bytesSent)
    assert.equal(fetcher.services.bitswap.wantlist().length, 0)
  } finally {
    await fetcher.stop()
    await provider.stop()
  }
})

test('a session spreads a file over four providers', async () => {
  const network = new MemoryNetwork()
  const providers = await Promise.all([1, 2, 3, 4].map(async () => await bitswapNode(network)))
  const fetcher = await bitswapNode(network)
  try {
    const bytes = seededBytes(8 * MIB, 50)
    let root: CID | undefined
    for (const p of providers) root = (await addFile(bytes, p.services.bitswap.blockstore, { cidVersion: 1 })).cid
    assert.ok(root !== undefined)
    for (const p of providers) await fetcher.dial(p.getMultiaddrs()[0])
    assert.deepEqual(await fetchFile(fetcher.services.bitswap, root), bytes)
    const sent = providers.map(p => p.services.bitswap.ledger(fetcher.peerId)?.blocksSent ?? 0)
    assert.ok(sent.filter(n => n > 0).length >= 3, `blocks sent per provider: ${sent.join(', ')}`)
  } finally {
    await fetcher.stop()
    await Promise.all(providers.map(async p => { await p.stop() }))
  }
})

test('fallbacks: a 1.1.0-only peer serves CIDv1 raw leaves, a 1.0.0-only peer serves a CIDv0 file, both ways', async () => {
  const network = new MemoryNetwork()
  const full = await bitswapNode(network)
  const v11 = await bitswapNode(network, { protocols: [BITSWAP_110] })
  const v10 = await bitswapNode(network, { protocols: [BITSWAP_100, BITSWAP_LEGACY] })
  try {
    const a = seededBytes(MIB + 5, 100)
    const b = seededBytes(MIB + 6, 101)
    const fromV11 = (await addFile(a, v11.services.bitswap.blockstore, { cidVersion: 1 })).cid
    const fromV10 = (await addFile(b, v10.services.bitswap.blockstore, { cidVersion: 0 })).cid
    await full.dial(v11.getMultiaddrs()[0])
    await full.dial(v10.getMultiaddrs()[0])
    assert.deepEqual(await fetchFile(full.services.bitswap, fromV11), a)
    assert.deepEqual(await fetchFile(full.services.bitswap, fromV10), b)
    const protocolsWith = (peer: typeof v10): string[] => full.getConnections(peer.peerId).flatMap(c => c.streams.map(st => st.protocol)).filter(p => p.startsWith('/ipfs/bitswap'))
    assert.ok(protocolsWith(v11).length > 0 && protocolsWith(v11).every(p => p === BITSWAP_110), protocolsWith(v11).join())
    assert.ok(protocolsWith(v10).length > 0 && protocolsWith(v10).every(p => p === BITSWAP_100), protocolsWith(v10).join())
    // and the old peers fetch from the new one
    const c = seededBytes(300_000, 102)
    const onFull = (await addFile(c, full.services.bitswap.blockstore, { cidVersion: 0 })).cid
    assert.deepEqual(await fetchFile(v10.services.bitswap, onFull), c)
    assert.deepEqual(await fetchFile(v11.services.bitswap, onFull), c)
  } finally {
    await full.stop()
    await v11.stop()
    await v10.stop()
  }
})

test('a corrupted block in the local store is not handed out: get verifies what the store returns', async () => {
  const network = new MemoryNetwork()
  const node = await bitswapNode(network)
  try {
    const cid = cidOf(seededBytes(100, 110), CODEC_RAW, 1)
    await node.services.bitswap.blockstore.put(cid, seededBytes(100, 111))
    await assert.rejects(node.services.bitswap.get(cid), BlockHashMismatchError)
  } finally {
    await node.stop()
  }
})

test('a block nobody has: get waits, and a later put on the provider is forwarded', async () => {
  const network = new MemoryNetwork()
  const provider = await bitswapNode(network)
  const fetcher = await bitswapNode(network)
  try {
    await fetcher.dial(provider.getMultiaddrs()[0])
    const bytes = seededBytes(1000, 60)
    const cid = cidOf(bytes, CODEC_RAW, 1)
    const pending = fetcher.services.bitswap.get(cid, { signal: AbortSignal.timeout(10_000) })
    // the provider learns the want (want-have, then want-block after its DONT_HAVE... or a retry)
    await waitFor(() => provider.services.bitswap.wantlistOf(fetcher.peerId).length > 0)
    await provider.services.bitswap.put(cid, bytes)
    assert.deepEqual(await pending, bytes)
  } finally {
    await fetcher.stop()
    await provider.stop()
  }
})

test('get is aborted by its signal, and the want is cancelled at the peer', async () => {
  const network = new MemoryNetwork()
  const provider = await bitswapNode(network)
  const fetcher = await bitswapNode(network)
  try {
    await fetcher.dial(provider.getMultiaddrs()[0])
    const cid = cidOf(seededBytes(10, 61), CODEC_RAW, 1)
    const controller = new AbortController()
    const pending = fetcher.services.bitswap.get(cid, { signal: controller.signal })
    await waitFor(() => provider.services.bitswap.wantlistOf(fetcher.peerId).length > 0)
    controller.abort()
    await assert.rejects(pending)
    assert.equal(fetcher.services.bitswap.wantlist().length, 0)
    await waitFor(() => provider.services.bitswap.wantlistOf(fetcher.peerId).length === 0)
  } finally {
    await fetcher.stop()
    await provider.stop()
  }
})

test('a peer that answers a want with a wrong block is no longer trusted; an honest peer serves the block', async () => {
  const network = new MemoryNetwork()
  const liar = await createMemoryNode({ network, services: {} })
  const honest = await bitswapNode(network)
  const fetcher = await bitswapNode(network, { wantTimeout: 60_000 })
  const bytes = seededBytes(5000, 70)
  const cid = cidOf(bytes, CODEC_RAW, 1)
  // the liar answers every want with other bytes under the wanted CID's prefix
  await liar.handle(BITSWAP_120, async (stream, connection) => {
    const reader = new FrameReader(stream, 4 * MIB)
    for (let frame = await reader.next(); frame !== null; frame = await reader.next()) {
      const msg = decodeMessage(frame)
      if (msg.wantlist === undefined || msg.wantlist.entries.every(e => e.cancel)) continue
      const out = await connection.newStream(BITSWAP_120)
      const lie = seededBytes(5000, 71)
      out.send(encodeMessageLP({ blocks: [{ prefix: cidPrefix(cid), data: lie }], presences: [], pendingBytes: 0 }, '1.2.0'))
      await out.closeWrite()
    }
  })
  try {
    await fetcher.dial(liar.getMultiaddrs()[0])
    const pending = fetcher.services.bitswap.get(cid, { signal: AbortSignal.timeout(20_000) })
    await waitFor(() => fetcher.services.bitswap.ledger(liar.peerId)?.trusted === false)
    assert.equal(fetcher.services.bitswap.ledger(liar.peerId)?.unwantedBlocks, 1)
    assert.equal(await fetcher.services.bitswap.has(cidOf(seededBytes(5000, 71), CODEC_RAW, 1)), false, 'the lie is not stored')
    await honest.services.bitswap.put(cid, bytes)
    await fetcher.dial(honest.getMultiaddrs()[0])
    assert.deepEqual(await pending, bytes)
  } finally {
    await fetcher.stop()
    await honest.stop()
    await liar.stop()
  }
})

test('hostile peers: a wantlist flood is bounded per peer, an oversized or malformed message resets only its stream', async () => {
  const network = new MemoryNetwork()
  const server = await bitswapNode(network, { maxWantlistSize: 100 })
  const attacker = await createMemoryNode({ network, services: {} })
  try {
    const connection = await attacker.dial(server.getMultiaddrs()[0])
    const flood = await connection.newStream(BITSWAP_120)
    for (let round = 0; round < 5; round++) {
      const entries = Array.from({ length: 1000 }, (_, i) => ({ cid: cidOf(seededBytes(8, round * 1000 + i), CODEC_RAW, 1).bytes, priority: 1, cancel: false, wantType: 0, sendDontHave: false }))
      flood.send(encodeMessageLP({ wantlist: { entries, full: false }, blocks: [], presences: [], pendingBytes: 0 }, '1.2.0'))
    }
    await waitFor(() => (server.services.bitswap.ledger(attacker.peerId)?.droppedWants ?? 0) === 4900)
    assert.equal(server.services.bitswap.wantlistOf(attacker.peerId).length, 100)
    // a length prefix of 5 MiB: the stream is reset before any of it is buffered
    flood.send(new Uint8Array([0x80, 0x80, 0xc0, 0x02]))
    await flood.closed
    assert.equal(flood.status, 'reset')
    const malformed = await connection.newStream(BITSWAP_120)
    malformed.send(new Uint8Array([0x03, 0x0a, 0x05, 0x0a]))
    await malformed.closed
    assert.equal(malformed.status, 'reset')
    // the server still serves others
    const honest = await bitswapNode(network)
    const bytes = seededBytes(300_000, 80)
    const { cid } = await addFile(bytes, server.services.bitswap.blockstore)
    await honest.dial(server.getMultiaddrs()[0])
    assert.deepEqual(await fetchFile(honest.services.bitswap, cid), bytes)
    await honest.stop()
  } finally {
    await attacker.stop()
    await server.stop()
  }
})

test('three nodes: the fetcher, connected only to a DHT router, finds the provider through the DHT', async () => {
  const network = new MemoryNetwork()
  const dht = () => kadDHT({ initialRefresh: false, refreshInterval: 0 })
  const router = await createMemoryNode({ network, services: { bitswap: bitswap(), dht: dht() } })
  const provider = await createMemoryNode({ network, services: { bitswap: bitswap(), dht: dht() } })
  const fetcher = await createMemoryNode({ network, services: { bitswap: bitswap({ providerLookupDelay: 100 }), dht: dht() } })
  try {
    const bytes = seededBytes(2 * MIB, 90)
    const { cid } = await addFile(bytes, provider.services.bitswap.blockstore, { cidVersion: 1 })
    await provider.dial(router.getMultiaddrs()[0])
    await waitFor(() => provider.services.dht.routingTable.size > 0)
    await provider.contentRouting.provide(cid)
    await fetcher.dial(router.getMultiaddrs()[0])
    await waitFor(() => fetcher.services.dht.routingTable.size > 0)
    assert.equal(fetcher.getConnections(provider.peerId).length, 0)
    assert.deepEqual(await fetchFile(fetcher.services.bitswap, cid), bytes)
    assert.ok((fetcher.services.bitswap.ledger(provider.peerId)?.bytesReceived ?? 0) >= bytes.length)
    assert.equal(fetcher.services.bitswap.ledger(router.peerId)?.bytesReceived ?? 0, 0)
  } finally {
    await fetcher.stop()
    await provider.stop()
    await router.stop()
  }
})

/** Polls a condition every few ms (state changes that have no event), up to 10 s. */
async function waitFor (condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s')
    await new Promise(resolve => setImmediate(resolve))
  }
}
