/**
 * Datastore backends and the default choice: `createDatastore(dir)` opens the embedded on-disk
 * store (SQLite through node:sqlite) in Node when a directory is given, and an in-memory store
 * otherwise. The disk backend is picked through the package.json `#store-disk` import so that
 * browser bundles never see node:sqlite.
 */
import type { Datastore } from '../interface/datastore.ts'
import { openDiskDatastore } from '#store-disk'
import { MemoryDatastore } from './memory.ts'

export { MemoryDatastore } from './memory.ts'
export { compareKeys, prefixUpperBound, MAX_KEY_LENGTH } from './keys.ts'

export function createDatastore (dir?: string): Datastore {
  return dir === undefined ? new MemoryDatastore() : openDiskDatastore(dir)
}
