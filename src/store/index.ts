/**
 * Datastore backends and the default choice: `createDatastore(dir)` opens the embedded store
 * when a directory (in browsers: a database name) is given, and an in-memory store otherwise.
 * The embedded store is SQLite through node:sqlite in Node and IndexedDB in browsers, picked
 * through the package.json `#store-disk` import so that browser bundles never see node:sqlite.
 */
import type { Datastore } from '../interface/datastore.ts'
import { openDiskDatastore } from '#store-disk'
import { MemoryDatastore } from './memory.ts'

export { MemoryDatastore } from './memory.ts'
export { IndexedDBDatastore, IndexedDBError } from './indexeddb.ts'
export { loadOrCreateSelfKey, SELF_KEY_DATASTORE_KEY } from './self-key.ts'
export { compareKeys, prefixUpperBound, MAX_KEY_LENGTH } from './keys.ts'

export function createDatastore (dir?: string): Datastore {
  return dir === undefined ? new MemoryDatastore() : openDiskDatastore(dir)
}
