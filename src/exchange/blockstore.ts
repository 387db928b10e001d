/**
 * The block store: blocks by CID over the node's datastore (the embedded on-disk store by
 * default, memory in tests). Blocks are keyed by multihash, not by CID, as kubo's stores do:
 * the same bytes under CIDv0 and CIDv1 (or another codec) are stored once, and a peer asking
 * for either form is served.
 *
 * The store trusts its callers to put verified blocks (the UnixFS importer makes the CIDs it
 * puts, Bitswap verifies what it receives); readers that must not trust the disk verify on get
 * (`getVerified`). `import { DatastoreBlockstore, memoryBlockstore } from 'ts-libp2p/blockstore'`.
 */
import type { AbortOptions } from '../interface/common.ts'
import type { Datastore } from '../interface/datastore.ts'
import { base32 } from 'multiformats/bases/base32'
import { MemoryDatastore } from '../store/memory.ts'
import { verifyBlock, type CID } from './cid.ts'
import { BlockNotFoundError } from './errors.ts'

export interface Blockstore {
  has(cid: CID, options?: AbortOptions): Promise<boolean>
  /** The block's bytes, or undefined when the store does not hold it. */
  get(cid: CID, options?: AbortOptions): Promise<Uint8Array | undefined>
  put(cid: CID, bytes: Uint8Array, options?: AbortOptions): Promise<void>
  delete(cid: CID, options?: AbortOptions): Promise<void>
}

const PREFIX = '/blocks/'

/** The datastore key of a block: its multihash in upper-case base32 (kubo's flatfs spelling). */
export function blockKey (cid: CID): string {
  return PREFIX + base32.baseEncode(cid.multihash.bytes).toUpperCase()
}

export class DatastoreBlockstore implements Blockstore {
  readonly datastore: Datastore

  constructor (datastore: Datastore) {
    this.datastore = datastore
  }

  async has (cid: CID, options?: AbortOptions): Promise<boolean> {
    return await this.datastore.has(blockKey(cid), options)
  }

  async get (cid: CID, options?: AbortOptions): Promise<Uint8Array | undefined> {
    return await this.datastore.get(blockKey(cid), options)
  }

  async put (cid: CID, bytes: Uint8Array, options?: AbortOptions): Promise<void> {
    await this.datastore.put(blockKey(cid), bytes, options)
  }

  async delete (cid: CID, options?: AbortOptions): Promise<void> {
    await this.datastore.delete(blockKey(cid), options)
  }
}

/** A block store in memory (tests, short-lived tools). */
export function memoryBlockstore (): DatastoreBlockstore {
  return new DatastoreBlockstore(new MemoryDatastore())
}

/** The block, verified against its CID; BlockNotFoundError when absent, BlockHashMismatchError when corrupt. */
export async function getVerified (store: Blockstore, cid: CID, options?: AbortOptions): Promise<Uint8Array> {
  const bytes = await store.get(cid, options)
  if (bytes === undefined) throw new BlockNotFoundError(`block ${cid.toString()} is not in the store`)
  verifyBlock(cid, bytes)
  return bytes
}

export { CID, cidOf, verifyBlock, parseCid, CODEC_RAW, CODEC_DAG_PB } from './cid.ts'
export { BlockHashMismatchError, BlockNotFoundError, UnsupportedCidError } from './errors.ts'
