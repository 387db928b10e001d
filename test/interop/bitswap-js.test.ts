/**
 * Bitswap and UnixFS interop with helia (js-libp2p + @helia/bitswap + @helia/unixfs, in a
 * separate process: interop/js-peer/helia-peer.ts), over TCP with Noise and Yamux, both
 * directions: a 20 MiB file added on one side is fetched by the other with the same root CID;
 * the three-node DHT case runs between ts nodes (test/exchange/bitswap.test.ts): helia, fetching
 * with only a DHT router connected, did not find our provider within 60 s (not yet understood).
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLibp2p, multiaddr, peerIdFromString } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
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
})
