/**
 * UnixFS `add`: a file's bytes into blocks with the CIDs kubo's `ipfs add` gives.
 *
 * Kubo's defaults, which are ours: fixed-size chunks of 256 KiB, a balanced DAG of at most 174
 * links per node, dag-pb leaves (UnixFS File nodes holding the chunk) under CIDv0; with
 * `cidVersion: 1` (`--cid-version 1`, which implies `--raw-leaves` in kubo) raw leaves and
 * CIDv1 dag-pb parents. A file of one chunk is that chunk's leaf (no parent); an empty file is one
 * empty leaf.
 *
 * The balanced layout groups leaves 174 at a time under a parent, then those parents 174 at a
 * time, and so on until one root remains; this builds the same tree while streaming, keeping
 * one partly filled group per level (so memory is one chunk plus a few hundred links, whatever
 * the file size). A chunk that lies whole inside one piece of the source is used in place (a
 * view: raw leaves are stored as is, dag-pb leaves encoded once from it); only chunks that span
 * pieces are gathered into a fresh buffer. Copying every byte once more (and allocating 256 KiB
 * off-heap per chunk, which drives the GC) made `add` of an in-memory file 3-4x slower than
 * helia's importer, which takes views too.
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { Blockstore } from '../blockstore.ts'
import { InvalidParametersError } from '../../util/errors.ts'
import { CODEC_DAG_PB, CODEC_RAW, cidOf, type CID } from '../cid.ts'
import { encodePBNode } from './dag-pb.ts'
import { encodeUnixFSFile } from './unixfs-data.ts'

export const DEFAULT_CHUNK_SIZE = 262_144
export const DEFAULT_MAX_CHILDREN = 174

export interface AddOptions extends AbortOptions {
  /** 0 (kubo's default) or 1. */
  cidVersion?: 0 | 1
  /** Leaves as raw blocks (default: true with CIDv1, false with CIDv0, as kubo). */
  rawLeaves?: boolean
  /** Bytes per leaf (default 256 KiB; at most 1 MiB, so every block stays below Bitswap's 2 MiB). */
  chunkSize?: number
  /** Links per parent node (default 174). */
  maxChildrenPerNode?: number
  /** Called after each leaf with the file bytes added so far. */
  onProgress?(bytesAdded: number): void
}

export interface AddResult {
  cid: CID
  /** File bytes. */
  size: number
  /** Blocks written (leaves and parents). */
  blocks: number
}

/** A block of the DAG under construction, as its parent links to it. */
interface Child {
  cid: CID
  /** File bytes under it (a UnixFS block size). */
  fileSize: number
  /** Its block's length plus those of all blocks under it (the link's Tsize). */
  cumulativeSize: number
}

type FileSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>

/** Adds one file to `store` and returns its root CID. */
export async function addFile (source: FileSource, store: Blockstore, options: AddOptions = {}): Promise<AddResult> {
  const cidVersion = options.cidVersion ?? 0
  if (cidVersion !== 0 && cidVersion !== 1) throw new InvalidParametersError('cidVersion must be 0 or 1')
  const rawLeaves = options.rawLeaves ?? cidVersion === 1
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 1 << 20) throw new InvalidParametersError('chunkSize must be 1 byte to 1 MiB')
  const maxChildren = options.maxChildrenPerNode ?? DEFAULT_MAX_CHILDREN
  if (!Number.isInteger(maxChildren) || maxChildren < 2) throw new InvalidParametersError('maxChildrenPerNode must be at least 2')

  let blocks = 0
  const put = async (cid: CID, bytes: Uint8Array): Promise<void> => {
    options.signal?.throwIfAborted()
    await store.put(cid, bytes, options)
    blocks++
  }
  const writeLeaf = async (chunk: Uint8Array): Promise<Child> => {
    if (rawLeaves) {
      // raw leaves are CIDv1 even under CIDv0 parents: CIDv0 cannot name a raw block
      const cid = cidOf(chunk, CODEC_RAW, 1)
      await put(cid, chunk)
      return { cid, fileSize: chunk.length, cumulativeSize: chunk.length }
    }
    const block = encodePBNode({ links: [], data: encodeUnixFSFile(chunk, chunk.length, []) })
    const cid = cidOf(block, CODEC_DAG_PB, cidVersion)
    await put(cid, block)
    return { cid, fileSize: chunk.length, cumulativeSize: block.length }
  }
  const writeParent = async (children: Child[]): Promise<Child> => {
    let fileSize = 0
    let linked = 0
    for (const c of children) { fileSize += c.fileSize; linked += c.cumulativeSize }
    const block = encodePBNode({
      links: children.map(c => ({ hash: c.cid, name: '', tsize: c.cumulativeSize })),
      data: encodeUnixFSFile(undefined, fileSize, children.map(c => c.fileSize))
    })
    const cid = cidOf(block, CODEC_DAG_PB, cidVersion)
    await put(cid, block)
    return { cid, fileSize, cumulativeSize: block.length + linked }
  }

  // levels[0] holds leaves, levels[i] parents of depth i; a full group moves up at once
  const levels: Child[][] = [[]]
  let leaves = 0
  let size = 0
  const addLeaf = async (chunk: Uint8Array): Promise<void> => {
    levels[0].push(await writeLeaf(chunk))
    leaves++
    size += chunk.length
    options.onProgress?.(size)
    for (let i = 0; levels[i].length === maxChildren; i++) {
      const parent = await writeParent(levels[i])
      levels[i] = []
      if (levels.length === i + 1) levels.push([])
      levels[i + 1].push(parent)
    }
  }

  let chunk = new Uint8Array(chunkSize)
  let filled = 0
  for await (const piece of toIterable(source)) {
    for (let offset = 0; offset < piece.length;) {
      if (filled === 0 && piece.length - offset >= chunkSize) {
        // a whole chunk inside the piece: the leaf is a view of it, no copy (the store copies
        // or writes it before put resolves, and the next piece is pulled only after that)
        await addLeaf(piece.subarray(offset, offset + chunkSize))
        offset += chunkSize
        continue
      }
      const n = Math.min(piece.length - offset, chunkSize - filled)
      chunk.set(piece.subarray(offset, offset + n), filled)
      filled += n
      offset += n
      if (filled === chunkSize) {
        await addLeaf(chunk)
        chunk = new Uint8Array(chunkSize)
        filled = 0
      }
    }
  }
  // (a copy of the short last chunk, so the stored block does not hold a whole chunk's buffer)
  if (filled > 0 || leaves === 0) await addLeaf(chunk.slice(0, filled))

  // a file of one chunk is its leaf
  if (leaves === 1) return { cid: levels[0][0].cid, size, blocks }
  // close the partly filled groups bottom-up; the top level's single node is the root
  for (let i = 0; ; i++) {
    const top = i === levels.length - 1
    if (top && levels[i].length === 1) return { cid: levels[i][0].cid, size, blocks }
    if (levels[i].length === 0) continue
    const parent = await writeParent(levels[i])
    levels[i] = []
    if (top) levels.push([])
    levels[i + 1].push(parent)
  }
}

async function * toIterable (source: FileSource): AsyncIterable<Uint8Array> {
  if (source instanceof Uint8Array) yield source
  else yield * source
}
