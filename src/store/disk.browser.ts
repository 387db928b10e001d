/**
 * The browser implementation behind `#store-disk`: the embedded store in browsers is IndexedDB,
 * one database per name (the name plays the part of Node's data directory).
 */
import type { Datastore } from '../interface/datastore.ts'
import { IndexedDBDatastore } from './indexeddb.ts'

export function openDiskDatastore (name: string): Datastore {
  return new IndexedDBDatastore(name)
}
