/**
 * UnixFS `get`: walks a file's DAG in order and yields its bytes, verifying every block against
 * its CID and every node's sizes against what its parent declared.
 *
 * Blocks come from a `BlockSource` (the local store, or Bitswap fetching from peers). To keep a
 * network fetch busy, the children of a node are requested ahead of the one being read, at most
 * `prefetch` at a time per node, in file order; a failure of a prefetched block surfaces when the
 * walk reaches it. Only files (UnixFS File and Raw nodes, raw blocks) are read; a directory, a
 * DAG deeper than `maxDepth` or sizes that disagree are InvalidUnixFSError.
 */
import type { AbortOptions } from '../../interface/common.ts'
import { CODEC_DAG_PB, CODEC_RAW, verifyBlock, type CID } from '../cid.ts'
import { InvalidUnixFSError } from '../errors.ts'
import { decodePBNode } from './dag-pb.ts'
import { UNIXFS_FILE, UNIXFS_RAW, decodeUnixFSData } from './unixfs-data.ts'

/** Where the walk gets blocks from; it rejects (BlockNotFoundError, ...) when it cannot. */
export interface BlockSource {
  get(cid: CID, options?: AbortOptions): Promise<Uint8Array>
  /**
   * True when every block `get` returns was already checked against its CID (a Bitswap session:
   * received blocks are hashed on arrival, stored ones on read), so the walk does not hash again.
   */
  readonly verifiesBlocks?: boolean
}

export interface CatOptions extends AbortOptions {
  /** Children requested ahead of the one being read, per node (default 32). */
  prefetch?: number
  /** Deepest DAG accepted (default 32: 174^32 chunks is more than any file). */
  maxDepth?: number
  /**
   * Whether to hash each block against its CID (default: unless the source says it
   * `verifiesBlocks`, so each block is hashed once).
   */
  verify?: boolean
}

interface Walk {
  source: BlockSource
  prefetch: number
  maxDepth: number
  verify: boolean
  options: AbortOptions
}

/** The file's bytes, in order, as views of the blocks (copy them to keep them). */
export async function * catFile (cid: CID, source: BlockSource, options: CatOptions = {}): AsyncGenerator<Uint8Array> {
  const walk: Walk = {
    source,
    prefetch: Math.max(1, options.prefetch ?? 32),
    maxDepth: options.maxDepth ?? 32,
    verify: options.verify ?? source.verifiesBlocks !== true,
    options: { signal: options.signal }
  }
  const root = await source.get(cid, walk.options)
  yield * visit(walk, cid, root, 0, undefined)
}

async function * visit (walk: Walk, cid: CID, bytes: Uint8Array, depth: number, expectedSize: number | undefined): AsyncGenerator<Uint8Array> {
  if (walk.verify) verifyBlock(cid, bytes)
  if (cid.code === CODEC_RAW) {
    if (expectedSize !== undefined && bytes.length !== expectedSize) throw new InvalidUnixFSError(`raw block ${cid.toString()} has ${bytes.length} bytes, its parent says ${expectedSize}`)
    if (bytes.length > 0) yield bytes
    return
  }
  if (cid.code !== CODEC_DAG_PB) throw new InvalidUnixFSError(`codec 0x${cid.code.toString(16)} is not a UnixFS file`)
  const node = decodePBNode(bytes)
  if (node.data === undefined) throw new InvalidUnixFSError(`dag-pb node ${cid.toString()} has no UnixFS data`)
  const unixfs = decodeUnixFSData(node.data)
  if (unixfs.type !== UNIXFS_FILE && unixfs.type !== UNIXFS_RAW) throw new InvalidUnixFSError(`${cid.toString()} is UnixFS type ${unixfs.type}, not a file`)
  if (node.links.length !== unixfs.blockSizes.length) throw new InvalidUnixFSError(`${cid.toString()} has ${node.links.length} links and ${unixfs.blockSizes.length} block sizes`)
  const own = unixfs.data?.length ?? 0
  const total = unixfs.blockSizes.reduce((a, b) => a + b, own)
  if (unixfs.fileSize !== undefined && unixfs.fileSize !== total) throw new InvalidUnixFSError(`${cid.toString()} says ${unixfs.fileSize} bytes, its parts add up to ${total}`)
  if (expectedSize !== undefined && total !== expectedSize) throw new InvalidUnixFSError(`${cid.toString()} holds ${total} bytes, its parent says ${expectedSize}`)
  if (own > 0 && unixfs.data !== undefined) yield unixfs.data
  if (node.links.length === 0) return
  if (depth + 1 > walk.maxDepth) throw new InvalidUnixFSError(`DAG deeper than ${walk.maxDepth}`)

  const links = node.links
  const pending: Array<Promise<Uint8Array>> = []
  let next = 0
  const fill = (): void => {
    while (next < links.length && pending.length < walk.prefetch) {
      const p = walk.source.get(links[next++].hash, walk.options)
      // a prefetch that fails after the walk stopped must not be an unhandled rejection
      p.catch(() => {})
      pending.push(p)
    }
  }
  fill()
  for (let i = 0; i < links.length; i++) {
    const child = await (pending.shift() as Promise<Uint8Array>)
    fill()
    yield * visit(walk, links[i].hash, child, depth + 1, unixfs.blockSizes[i])
  }
}
