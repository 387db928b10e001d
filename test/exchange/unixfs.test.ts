/**
 * UnixFS add gives kubo's CIDs (checked against the reference importer, ipfs-unixfs-importer,
 * run with kubo's settings in the test itself), and get reads the DAG back, verified.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { addFile, catFile } from '../../src/exchange/unixfs/index.ts'
import { DatastoreBlockstore, memoryBlockstore, getVerified, type Blockstore } from '../../src/exchange/blockstore.ts'
import { CID, cidOf, CODEC_RAW } from '../../src/exchange/cid.ts'
import { BlockHashMismatchError, InvalidUnixFSError } from '../../src/exchange/errors.ts'
import { openDiskDatastore } from '../../src/store/sqlite.node.ts'
import { seededBytes } from '../support/random.ts'

const KIB = 1024
const MIB = 1024 * KIB

interface Settings { cidVersion: 0 | 1, rawLeaves: boolean, chunkSize?: number, maxChildrenPerNode?: number }
const KUBO_DEFAULT: Settings = { cidVersion: 0, rawLeaves: false }
const KUBO_V1_RAW: Settings = { cidVersion: 1, rawLeaves: true }

/** The root CID the reference importer gives under `settings` (kubo's chunker and layout). */
async function referenceCid (bytes: Uint8Array, settings: Settings): Promise<string> {
  const store = new MemoryBlockstore()
  let root: CID | undefined
  for await (const entry of importer([{ content: [bytes] }], store, {
    cidVersion: settings.cidVersion,
    rawLeaves: settings.rawLeaves,
    chunker: fixedSize({ chunkSize: settings.chunkSize ?? 262_144 }),
    layout: balanced({ maxChildrenPerNode: settings.maxChildrenPerNode ?? 174 }),
    reduceSingleLeafToSelf: true,
    leafType: 'file'
  })) root = entry.cid as unknown as CID
  assert.ok(root !== undefined)
  return root.toString()
}

/** Our file bytes back, joined. */
async function readBack (cid: CID, store: Blockstore): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of catFile(cid, { get: async (c, o) => await getVerified(store, c, o) })) parts.push(part.slice())
  return new Uint8Array(Buffer.concat(parts))
}

const FIXTURES: Array<[string, number]> = [['0 B', 0], ['1 B', 1], ['256 KiB', 256 * KIB], ['256 KiB + 1', 256 * KIB + 1], ['10 MiB', 10 * MIB]]

for (const [label, settings] of [['kubo defaults (CIDv0)', KUBO_DEFAULT], ['--cid-version 1 --raw-leaves', KUBO_V1_RAW]] as const) {
  for (const [name, length] of FIXTURES) {
    test(`add of ${name} with ${label} gives the reference CID, and get returns the bytes`, async () => {
      const bytes = seededBytes(length, length + 7)
      const store = memoryBlockstore()
      const result = await addFile(bytes, store, { cidVersion: settings.cidVersion, rawLeaves: settings.rawLeaves })
      assert.equal(result.cid.toString(), await referenceCid(bytes, settings))
      assert.equal(result.size, length)
      assert.deepEqual(await readBack(result.cid, store), bytes)
    })
  }
}

test('the well-known empty-file CIDs', async () => {
  const store = memoryBlockstore()
  assert.equal((await addFile(new Uint8Array(0), store)).cid.toString(), 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH')
  assert.equal((await addFile(new Uint8Array(0), store, { cidVersion: 1 })).cid.toString(), 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')
})

test('a deep balanced DAG (small chunks, 4 links per node) matches the reference, streamed in odd pieces', async () => {
  for (const settings of [{ ...KUBO_DEFAULT, chunkSize: 100, maxChildrenPerNode: 4 }, { ...KUBO_V1_RAW, chunkSize: 100, maxChildrenPerNode: 4 }]) {
    // 4^3 + 1 leaves forces a fourth level; 16 leaves exactly fill two levels
    for (const leaves of [2, 4, 5, 16, 17, 65, 130]) {
      const bytes = seededBytes(leaves * 100 - 37, leaves)
      const pieces = function * () { for (let i = 0; i < bytes.length; i += 77) yield bytes.subarray(i, i + 77) }
      const store = memoryBlockstore()
      const result = await addFile(pieces(), store, settings)
      assert.equal(result.cid.toString(), await referenceCid(bytes, settings), `${leaves} leaves, v${settings.cidVersion}`)
      assert.deepEqual(await readBack(result.cid, store), bytes)
    }
  }
})

/** A block of the reference store (whose get may stream the block in pieces). */
async function referenceBlock (store: MemoryBlockstore, cid: CID): Promise<Uint8Array> {
  const got = store.get(cid as never) as unknown
  const value = await got
  if (value instanceof Uint8Array) return value
  const parts: Uint8Array[] = []
  for await (const part of value as AsyncIterable<Uint8Array>) parts.push(part)
  return new Uint8Array(Buffer.concat(parts))
}

test('get reads a DAG the reference importer wrote', async () => {
  const bytes = seededBytes(3 * MIB + 5, 3)
  const reference = new MemoryBlockstore()
  let root: CID | undefined
  for await (const entry of importer([{ content: [bytes] }], reference, { cidVersion: 0, rawLeaves: false })) root = entry.cid as unknown as CID
  assert.ok(root !== undefined)
  const parts: Uint8Array[] = []
  for await (const part of catFile(CID.parse(root.toString()), { get: async (c) => await referenceBlock(reference, c) })) parts.push(part.slice())
  assert.deepEqual(new Uint8Array(Buffer.concat(parts)), bytes)
})

test('a corrupted block is BlockHashMismatchError, a directory is InvalidUnixFSError', async () => {
  const store = memoryBlockstore()
  const bytes = seededBytes(600 * KIB, 9)
  const { cid } = await addFile(bytes, store, { cidVersion: 1 })
  // swap the second leaf for other bytes under the same key
  const leaf = cidOf(bytes.subarray(256 * KIB, 512 * KIB), CODEC_RAW, 1)
  assert.ok(await store.has(leaf))
  await store.put(leaf, seededBytes(256 * KIB, 10))
  await assert.rejects(readBack(cid, store), BlockHashMismatchError)
  // the empty directory of UnixFS: QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn
  const dir = new Uint8Array([0x0a, 0x02, 0x08, 0x01])
  const dirCid = cidOf(dir, 0x70, 0)
  assert.equal(dirCid.toString(), 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn')
  await store.put(dirCid, dir)
  await assert.rejects(readBack(dirCid, store), InvalidUnixFSError)
})

test('blocks persist in the embedded on-disk datastore, keyed by multihash (CIDv0 and v1 share a block)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-blocks-'))
  try {
    const bytes = seededBytes(300 * KIB, 11)
    let root: CID
    {
      const datastore = openDiskDatastore(dir)
      const { cid } = await addFile(bytes, new DatastoreBlockstore(datastore))
      root = cid
      await datastore.close?.()
    }
    const datastore = openDiskDatastore(dir)
    const store = new DatastoreBlockstore(datastore)
    assert.deepEqual(await readBack(root, store), bytes)
    assert.ok(await store.has(CID.createV1(0x70, root.multihash)))
    await datastore.close?.()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('pieces that hold whole chunks (used in place) and pieces that split them give the same DAG, even from a source that reuses its buffer', async () => {
  const settings = { ...KUBO_DEFAULT, chunkSize: 100, maxChildrenPerNode: 4 }
  for (const base of [KUBO_DEFAULT, KUBO_V1_RAW]) {
    const s = { ...settings, cidVersion: base.cidVersion, rawLeaves: base.rawLeaves }
    const bytes = seededBytes(2_345, 3)
    const expected = await referenceCid(bytes, s)
    // sizes mixing several whole chunks, a chunk plus a tail, and slivers that end a split chunk
    const sizes = [250, 100, 37, 63, 301, 1, 99, 500]
    const mixed = function * () {
      for (let i = 0, k = 0; i < bytes.length; i += sizes[k++ % sizes.length]) yield bytes.subarray(i, i + sizes[k % sizes.length])
    }
    const store = memoryBlockstore()
    const result = await addFile(mixed(), store, s)
    assert.equal(result.cid.toString(), expected, `v${s.cidVersion}`)
    assert.deepEqual(await readBack(result.cid, store), bytes)
    // one buffer refilled for every piece: each block must be stored before the next refill
    const reused = new Uint8Array(700)
    const refilling = function * () {
      for (let i = 0; i < bytes.length; i += reused.length) {
        const n = Math.min(reused.length, bytes.length - i)
        reused.set(bytes.subarray(i, i + n))
        yield reused.subarray(0, n)
      }
      reused.fill(0)
    }
    const again = memoryBlockstore()
    assert.equal((await addFile(refilling(), again, s)).cid.toString(), expected)
    assert.deepEqual(await readBack(result.cid, again), bytes)
  }
})
